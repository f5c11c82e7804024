import { Day1ValidationError } from './error';
import {
  checkFirmwarePath,
  checkImageReference,
  checkKernelModuleImage,
  checkKernelModuleName,
  checkLabelValue,
  checkMachineConfigName,
  checkModuleParameter,
  optionalList,
  optionalString,
} from './rules';

/** The KMM worker image used when none is given, as in KMM's own day1-utility. */
export const DEFAULT_WORKER_IMAGE = 'quay.io/edge-infrastructure/kernel-module-management-worker:latest';

/**
 * What to load: the kernel module, where it comes from and how the KMM worker loads it.
 * Shared by `produceMachineConfig`, the `Day1KernelModule` construct and the hand-over to KMM,
 * so the Day 1 and Day 2 definitions of a module cannot drift apart.
 */
export interface KernelModuleSettings {
  /**
   * Container image repository holding the module under `/opt/lib/modules/<kernel release>`,
   * **without** tag or digest: each node pulls `<kernelModuleImage>:<uname -r>`.
   *
   * @example 'quay.io/example/ice-driver'
   */
  readonly kernelModuleImage: string;

  /**
   * Name of the out-of-tree module to load (the `.ko` file name without `.ko`).
   *
   * @example 'ice'
   */
  readonly kernelModuleName: string;

  /**
   * In-tree modules to unload before the out-of-tree module is loaded; those that are not
   * loaded are skipped.
   *
   * @default - no in-tree module is unloaded
   */
  readonly inTreeModulesToRemove?: string[];

  /**
   * Directory inside the module image whose files are copied to the node's
   * `/var/lib/firmware` before the module is loaded.
   *
   * @default - no firmware is copied
   */
  readonly firmwareFilesPath?: string;

  /**
   * KMM worker image that loads the module (a full reference; a digest is best for fleets).
   *
   * @default 'quay.io/edge-infrastructure/kernel-module-management-worker:latest'
   */
  readonly workerImage?: string;

  /**
   * Module parameters passed to modprobe, each `name=value`.
   *
   * @default - no parameters
   * @example ['debug=1', 'rss_queues=4,4']
   */
  readonly moduleParameters?: string[];
}

/** Options of `produceMachineConfig`, the counterpart of KMM's `ProduceMachineConfig`. */
export interface ProduceMachineConfigOptions extends KernelModuleSettings {
  /**
   * `metadata.name` of the MachineConfig; it also prefixes the two systemd unit names.
   */
  readonly machineConfigName: string;

  /**
   * The MachineConfigPool role the MachineConfig targets: the value of its
   * `machineconfiguration.openshift.io/role` label.
   */
  readonly machineConfigPoolRef: string;
}

/** Module settings after validation: defaults applied, "not set" made explicit. */
export interface ValidatedModuleSettings {
  readonly kernelModuleImage: string;
  readonly kernelModuleName: string;
  readonly inTreeModulesToRemove: string[];
  readonly firmwareFilesPath?: string;
  readonly workerImage: string;
  readonly moduleParameters: string[];
}

/** Generator options after validation. */
export interface ValidatedMachineConfigOptions extends ValidatedModuleSettings {
  readonly machineConfigName: string;
  readonly machineConfigPoolRef: string;
}

/** modprobe treats "-" and "_" in module and parameter names as the same character. */
function modprobeIdentity(name: string): string {
  return name.replace(/-/g, '_');
}

/**
 * Checks module settings and applies defaults.
 *
 * @param prefix prepended to field names in error messages (e.g. `Day1KernelModule "ice": `)
 * @throws Day1ValidationError naming the first invalid field
 */
export function validateModuleSettings(settings: KernelModuleSettings, prefix = ''): ValidatedModuleSettings {
  if (settings === null || typeof settings !== 'object') {
    throw new Day1ValidationError(`${prefix}options`, settings, 'must be an object');
  }
  const f = (name: string) => `${prefix}${name}`;
  const firmware = optionalString(f('firmwareFilesPath'), settings.firmwareFilesPath);
  const worker = optionalString(f('workerImage'), settings.workerImage);
  return {
    kernelModuleImage: checkKernelModuleImage(f('kernelModuleImage'), settings.kernelModuleImage),
    kernelModuleName: checkKernelModuleName(f('kernelModuleName'), settings.kernelModuleName),
    inTreeModulesToRemove: optionalList(f('inTreeModulesToRemove'), settings.inTreeModulesToRemove, checkKernelModuleName, modprobeIdentity),
    ...(firmware === undefined ? {} : { firmwareFilesPath: checkFirmwarePath(f('firmwareFilesPath'), firmware) }),
    workerImage: worker === undefined ? DEFAULT_WORKER_IMAGE : checkImageReference(f('workerImage'), worker),
    moduleParameters: optionalList(f('moduleParameters'), settings.moduleParameters, checkModuleParameter,
      (entry) => modprobeIdentity(entry.slice(0, entry.indexOf('=')))),
  };
}

/**
 * Checks every option of `produceMachineConfig` and applies defaults.
 *
 * @throws Day1ValidationError naming the first invalid field
 */
export function validateMachineConfigOptions(options: ProduceMachineConfigOptions, prefix = ''): ValidatedMachineConfigOptions {
  if (options === null || typeof options !== 'object') {
    throw new Day1ValidationError(`${prefix}options`, options, 'must be an object');
  }
  return {
    machineConfigName: checkMachineConfigName(`${prefix}machineConfigName`, options.machineConfigName),
    machineConfigPoolRef: checkLabelValue(`${prefix}machineConfigPoolRef`, options.machineConfigPoolRef),
    ...validateModuleSettings(options, prefix),
  };
}
