export type { KernelModuleSettings, ProduceMachineConfigOptions, ValidationProblem } from './validation';
export { DEFAULT_WORKER_IMAGE } from './validation';
export type {
  IgnitionConfig,
  IgnitionFile,
  IgnitionFileContents,
  IgnitionMetadata,
  IgnitionNodeOwner,
  IgnitionStorage,
  IgnitionSystemd,
  IgnitionUnit,
} from './ignition';
export { IGNITION_VERSION } from './ignition';
export { produceMachineConfig, renderDay1Ignition, Day1MachineConfigProducer } from './machine-config';
export { mergeMachineConfigs, MachineConfigMerge, MachineConfigConflictKind } from './machine-config';
export type {
  MachineConfigConflict,
  MergedDropin,
  MergedFile,
  MergedMachineConfigs,
  MergedUnit,
  MergeMachineConfigsOptions,
} from './machine-config';
export * from './constructs';
