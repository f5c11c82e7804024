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

  /**
   * The other Day 1 MachineConfigs whose units run on the same nodes (those of the same pool,
   * and of the roles the pool applies besides its own). The replace unit orders itself
   * against each of their replace units by name: `After=<peer>-replace-kernel-module.service`
   * for a peer whose name sorts before this MachineConfig's, `Before=` for one that sorts
   * after. One total order, so no two loads of a pool run at the same time (the KMM operator's
   * replace script uses one podman pod name for every module), and it holds when the KMM
   * operator rewrites a peer, whose units carry no ordering of their own. Names are checked
   * as MachineConfig names; duplicates and this MachineConfig's own name are dropped, and the
   * rest sorted. The constructs fill this in at synthesis.
   *
   * @default - no peers: no ordering lines
   * @example ['99-worker-kmm-day1-ice', '99-worker-kmm-day1-sfc']
   */
  readonly peerMachineConfigNames?: string[];
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
  /** Sorted by name (Go's byte order, as the MCO sorts), without duplicates or this MachineConfig's name. */
  readonly peerMachineConfigNames: string[];
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
  const machineConfigName = checkMachineConfigName(`${prefix}machineConfigName`, options.machineConfigName);
  return {
    machineConfigName,
    machineConfigPoolRef: checkLabelValue(`${prefix}machineConfigPoolRef`, options.machineConfigPoolRef),
    ...validateModuleSettings(options, prefix),
    peerMachineConfigNames: peerNames(`${prefix}peerMachineConfigNames`, options.peerMachineConfigNames, machineConfigName),
  };
}

/**
 * Peers as a set: a name listed twice, or this MachineConfig's own name, orders nothing, and
 * a caller that computes peers from a whole pool need not filter them out.
 */
function peerNames(field: string, value: unknown, self: string): string[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw new Day1ValidationError(field, value, 'must be a list of MachineConfig names');
  }
  const names = new Set<string>();
  value.forEach((entry, i) => names.add(checkMachineConfigName(`${field}[${i}]`, entry)));
  names.delete(self);
  // The MCO compares names as Go strings (bytes); for these ASCII names that is UTF-16 order.
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
