export { checkDuration, checkGitUrl, checkRepositoryPath, checkServerUrl, checkToken } from './delivery';
export { Day1ValidationError, problemLine, ProblemCollector } from './error';
export type { ValidationProblem } from './error';
export {
  checkFirmwarePath,
  checkImageReference,
  checkKernelModuleImage,
  checkKernelModuleName,
  checkKernelRelease,
  checkModuleParameter,
  dnsNameFromModuleName,
  kernelReleaseTag,
  MAX_FIRMWARE_PATH_LENGTH,
  MAX_FIRMWARE_PATH_SEGMENT_LENGTH,
  MAX_KERNEL_MODULE_NAME_LENGTH,
  MAX_MODULE_PARAMETER_LENGTH,
  modprobeName,
} from './kernel-module';
export {
  checkDns1123Label,
  checkDns1123Subdomain,
  checkLabelKey,
  checkLabelValue,
  checkMachineConfigName,
  checkModuleNameLength,
  checkSecretName,
  checkSelector,
  MAX_MACHINE_CONFIG_NAME_LENGTH,
  MAX_MODULE_NAME_AND_NAMESPACE_LENGTH,
} from './names';
export {
  checkNonEmptyString,
  collectorFor,
  definedFields,
  optional,
  optionalBoolean,
  optionalList,
  optionalOfType,
  optionalString,
  requireObject,
} from './rules';
export {
  checkMachineConfigOptions,
  checkModuleSettings,
  DEFAULT_WORKER_IMAGE,
  machineConfigOptionProblems,
  MACHINE_CONFIG_OPTIONS_FIELDS,
  MODULE_SETTINGS_FIELDS,
} from './settings';
export type { KernelModuleSettings, ProduceMachineConfigOptions } from './settings';
export { checkTolerations, TolerationEffect, TolerationOperator } from './toleration';
export type { HealthCheckToleration, KubeToleration } from './toleration';
export { yamlReadsAsNumberOrDate } from './yaml-text';
export type { YamlReader } from './yaml-text';
