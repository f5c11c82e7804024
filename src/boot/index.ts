export { bootPayload } from './payload';
export type { BootPayload, NodeFile, NodeUnit } from './payload';
export { bootScripts, PULL_SCRIPT_PATH, REPLACE_SCRIPT_PATH, SCRIPT_MODE, SCRIPT_PATHS, WAIT_SCRIPT_PATH } from './scripts';
export type { BootFile } from './scripts';
export { environmentAssignment, renderUnitFile, systemdQuote } from './systemd';
export type { UnitSection } from './systemd';
export {
  CRIO_WIPE_UNIT,
  kernelModuleImageFilePath,
  PREPULL_ARGUMENT,
  PREPULL_TIMEOUT_SECONDS,
  PROXY_ENV_FILE,
  PULL_TIMEOUT_SECONDS,
  PULL_UNIT_SUFFIX,
  pullUnit,
  pullUnitName,
  REPLACE_TIMEOUT_SECONDS,
  REPLACE_UNIT_SUFFIX,
  replaceUnit,
  replaceUnitName,
  UNIT_INTERFACE_VERSION,
  workerConfigFilePath,
} from './units';
export type { BootUnit, ModuleValues, UnitValues } from './units';
