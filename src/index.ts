export {
  AppValidation,
  ArgoCdApplication,
  BootModuleConfig,
  Day1KernelModule,
  DEFAULT_HEALTH_CHECK_IMAGE,
  DEFAULT_HEALTH_CHECK_NAMESPACE,
  FluxDelivery,
  GitOpsController,
  GitOpsControllerAccess,
  KernelModuleHealthCheck,
  KmmMachineConfigPool,
  KmmModule,
  KustomizeOutput,
  MaxUnavailable,
  SyncWave,
} from './constructs';
export type {
  ArgoCdApplicationProps,
  BootModuleConfigProps,
  Day1KernelModuleProps,
  FluxDeliveryProps,
  GitOpsControllerAccessProps,
  GitOpsObjectProps,
  HandOverToKmmOptions,
  IMachineConfigPool,
  KernelModuleHealthCheckProps,
  KmmHandOver,
  KmmMachineConfigPoolProps,
  KmmModuleProps,
  MachineConfigPoolReferenceOptions,
  ProtectedObjectProps,
  SyncWaveProps,
} from './constructs';
export { IGNITION_VERSION } from './ignition';
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
export {
  Day1MachineConfigProducer,
  MachineConfigConflictKind,
  MachineConfigMerge,
  mergeMachineConfigs,
  produceMachineConfig,
  renderDay1Ignition,
} from './machine-config';
export type {
  MachineConfigConflict,
  MergedDropin,
  MergedFile,
  MergedMachineConfigs,
  MergedUnit,
  MergeMachineConfigsOptions,
} from './machine-config';
export { DEFAULT_WORKER_IMAGE, TolerationEffect, TolerationOperator } from './validation';
export type { HealthCheckToleration, KernelModuleSettings, ProduceMachineConfigOptions, ValidationProblem } from './validation';
