export { KernelModuleSettings, ProduceMachineConfigOptions, DEFAULT_WORKER_IMAGE } from './validation';
export {
  IgnitionConfig,
  IgnitionFile,
  IgnitionFileContents,
  IgnitionMetadata,
  IgnitionNodeOwner,
  IgnitionStorage,
  IgnitionSystemd,
  IgnitionUnit,
  IGNITION_VERSION,
} from './ignition';
export { produceMachineConfig, renderDay1Ignition, Day1MachineConfigProducer } from './machine-config';
