import { Day1ValidationError, ProblemCollector, ValidationProblem } from './error';
import {
  checkFirmwarePath,
  checkImageReference,
  checkKernelModuleImage,
  checkKernelModuleName,
  checkLabelValue,
  checkMachineConfigName,
  checkModuleParameter,
  optional,
  optionalList,
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
   * In-tree modules to unload before the out-of-tree module is loaded.
   *
   * Those that are not loaded are skipped.
   *
   * @default - no in-tree module is unloaded
   */
  readonly inTreeModulesToRemove?: string[];

  /**
   * Directory inside the module image whose files are copied to the node's
   * `/var/lib/firmware` before the module is loaded. An empty string is rejected: leave the
   * field out for no firmware.
   *
   * @default - no firmware is copied
   */
  readonly firmwareFilesPath?: string;

  /**
   * KMM worker image that loads the module, as a full reference (a digest is best for fleets).
   * An empty string is rejected: leave the field out for the default.
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
   * `metadata.name` of the MachineConfig, which also prefixes the two systemd unit names.
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

/** The fields of KernelModuleSettings in the order of the interface: problems are reported in this order. */
export const MODULE_SETTINGS_FIELDS: readonly string[] = [
  'kernelModuleImage', 'kernelModuleName', 'inTreeModulesToRemove', 'firmwareFilesPath', 'workerImage', 'moduleParameters',
];

/** The fields of ProduceMachineConfigOptions in the order of the interface, inherited ones first. */
export const MACHINE_CONFIG_OPTIONS_FIELDS: readonly string[] = [
  ...MODULE_SETTINGS_FIELDS, 'machineConfigName', 'machineConfigPoolRef', 'peerMachineConfigNames',
];

/** What leaving each optional module setting out gives, for the message that rejects `''`. */
export const UNSET_FIRMWARE_FILES_PATH = 'no firmware';
export const UNSET_WORKER_IMAGE = `the default worker image (${DEFAULT_WORKER_IMAGE})`;

/**
 * Checks module settings and applies defaults.
 *
 * @throws Day1ValidationError with every invalid field, in the order of KernelModuleSettings
 */
export function validateModuleSettings(settings: KernelModuleSettings): ValidatedModuleSettings {
  const problems = new ProblemCollector(undefined, MODULE_SETTINGS_FIELDS);
  const validated = collectModuleSettings(problems, settings);
  problems.throwIfAny();
  return validated!;
}

/**
 * Checks module settings into `problems`; returns the validated settings when all of them are
 * valid, `undefined` otherwise.
 */
export function collectModuleSettings(problems: ProblemCollector, settings: KernelModuleSettings): ValidatedModuleSettings | undefined {
  if (settings === null || typeof settings !== 'object') {
    throw new Day1ValidationError('options', settings, 'must be an object');
  }
  const before = problems.count;
  const kernelModuleImage = problems.check(() => checkKernelModuleImage('kernelModuleImage', settings.kernelModuleImage));
  const kernelModuleName = problems.check(() => checkKernelModuleName('kernelModuleName', settings.kernelModuleName));
  const inTreeModulesToRemove = problems.check(() =>
    optionalList('inTreeModulesToRemove', settings.inTreeModulesToRemove, checkKernelModuleName, modprobeIdentity));
  const firmwareFilesPath = problems.check(() =>
    optional('firmwareFilesPath', settings.firmwareFilesPath, UNSET_FIRMWARE_FILES_PATH, checkFirmwarePath) ?? null);
  const workerImage = problems.check(() =>
    optional('workerImage', settings.workerImage, UNSET_WORKER_IMAGE, checkImageReference) ?? DEFAULT_WORKER_IMAGE);
  const moduleParameters = problems.check(() => optionalList('moduleParameters', settings.moduleParameters, checkModuleParameter,
    (entry) => modprobeIdentity(entry.slice(0, entry.indexOf('=')))));
  if (problems.count > before) {
    return undefined;
  }
  return {
    kernelModuleImage: kernelModuleImage!,
    kernelModuleName: kernelModuleName!,
    inTreeModulesToRemove: inTreeModulesToRemove!,
    ...(firmwareFilesPath === null ? {} : { firmwareFilesPath }),
    workerImage: workerImage!,
    moduleParameters: moduleParameters!,
  };
}

/**
 * Checks every option of `produceMachineConfig` and applies defaults.
 *
 * @throws Day1ValidationError with every invalid option, in the order of ProduceMachineConfigOptions
 */
export function validateMachineConfigOptions(options: ProduceMachineConfigOptions): ValidatedMachineConfigOptions {
  const problems = new ProblemCollector(undefined, MACHINE_CONFIG_OPTIONS_FIELDS);
  const validated = collectMachineConfigOptions(problems, options);
  problems.throwIfAny();
  return validated!;
}

/** Checks every option of `produceMachineConfig` into `problems`; `undefined` when one is invalid. */
export function collectMachineConfigOptions(
  problems: ProblemCollector,
  options: ProduceMachineConfigOptions,
): ValidatedMachineConfigOptions | undefined {
  if (options === null || typeof options !== 'object') {
    throw new Day1ValidationError('options', options, 'must be an object');
  }
  const settings = collectModuleSettings(problems, options);
  const machineConfigName = problems.check(() => checkMachineConfigName('machineConfigName', options.machineConfigName));
  const machineConfigPoolRef = problems.check(() => checkLabelValue('machineConfigPoolRef', options.machineConfigPoolRef));
  const peerMachineConfigNames = problems.check(() => peerNames('peerMachineConfigNames', options.peerMachineConfigNames, machineConfigName));
  if (settings === undefined || machineConfigName === undefined || machineConfigPoolRef === undefined || peerMachineConfigNames === undefined) {
    return undefined;
  }
  return { machineConfigName, machineConfigPoolRef, ...settings, peerMachineConfigNames };
}

/**
 * Every problem of `options` for `produceMachineConfig`, in the order of the options
 * interface; empty when they are valid.
 */
export function machineConfigOptionProblems(options: ProduceMachineConfigOptions): ValidationProblem[] {
  const problems = new ProblemCollector(undefined, MACHINE_CONFIG_OPTIONS_FIELDS);
  problems.check(() => collectMachineConfigOptions(problems, options));
  return problems.problems;
}

/**
 * Peers as a set: a name listed twice, or this MachineConfig's own name, orders nothing, and
 * a caller that computes peers from a whole pool need not filter them out.
 *
 * @param self this MachineConfig's name, `undefined` when it is invalid itself
 */
function peerNames(field: string, value: unknown, self: string | undefined): string[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw new Day1ValidationError(field, value, 'must be a list of MachineConfig names');
  }
  const problems = new ProblemCollector();
  const names = new Set<string>();
  value.forEach((entry, i) => {
    const name = problems.check(() => checkMachineConfigName(`${field}[${i}]`, entry));
    if (name !== undefined) names.add(name);
  });
  problems.throwIfAny();
  if (self !== undefined) names.delete(self);
  // The MCO compares names as Go strings (bytes); for these ASCII names that is UTF-16 order.
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
