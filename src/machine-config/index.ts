export {
  bootScriptFiles,
  ignitionFromResolved,
  MACHINE_CONFIG_API_VERSION,
  MACHINE_CONFIG_KIND,
  machineConfigFromResolved,
  machineConfigYaml,
  produceMachineConfig,
  renderDay1Ignition,
} from './generator';
export type { BootScriptFile, MachineConfigManifest } from './generator';
export { machineConfigWithDefaults, moduleWithDefaults, resolveMachineConfigOptions } from './options';
export type { ResolvedMachineConfigOptions } from './options';
export { isDay1MachineConfig, MachineConfigConflictKind } from './day1-conflicts';
export type { MachineConfigConflict } from './day1-conflicts';
export { MachineConfigMerge, mergeMachineConfigs } from './pool-merge';
export type {
  MergedDropin,
  MergedFile,
  MergedMachineConfigs,
  MergedUnit,
  MergeMachineConfigsOptions,
} from './pool-merge';
export { Day1MachineConfigProducer } from './producer';
export { toYaml } from './yaml';
export {
  BUILT_IN_POOLS,
  goStringOrder,
  inMergeOrder,
  MACHINE_CONFIGURATION_GROUP,
  ROLE_LABEL,
  rolesOfClusterPool,
  rolesOfSelector,
  sortInMergeOrder,
  Topology,
  WORKER_ROLE,
} from './topology';
export type { NodeSet } from './topology';
