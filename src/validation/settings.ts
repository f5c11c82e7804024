import { Day1ValidationError, ProblemCollector, ValidationProblem } from './error';
import {
  checkFirmwarePath,
  checkImageReference,
  checkKernelModuleImage,
  checkKernelModuleName,
  checkModuleParameter,
  modprobeName,
  moduleParameterIdentity,
} from './kernel-module';
import { checkLabelValue, checkMachineConfigName } from './names';
import { definedFields, optional, optionalList, requireObject } from './rules';

/**
 * The KMM worker image used when none is given, as in KMM's own day1-utility. Validation only
 * names it (in the message that rejects an empty `workerImage`): the generator and the
 * constructs apply it where they use the settings.
 */
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
 * Checks module settings into `problems`. Returns the valid ones as given (lists copied): a
 * field is missing when it was not given or is invalid, so a required field is missing only
 * when it is invalid. Callers apply the defaults where they use the settings.
 */
export function checkModuleSettings(problems: ProblemCollector, settings: KernelModuleSettings): Partial<KernelModuleSettings> {
  return definedFields({
    kernelModuleImage: problems.check(() => checkKernelModuleImage('kernelModuleImage', settings.kernelModuleImage)),
    kernelModuleName: problems.check(() => checkKernelModuleName('kernelModuleName', settings.kernelModuleName)),
    inTreeModulesToRemove: problems.check(() => optionalList('inTreeModulesToRemove', settings.inTreeModulesToRemove, checkKernelModuleName, modprobeName)),
    firmwareFilesPath: problems.check(() => optional('firmwareFilesPath', settings.firmwareFilesPath, UNSET_FIRMWARE_FILES_PATH, checkFirmwarePath)),
    workerImage: problems.check(() => optional('workerImage', settings.workerImage, UNSET_WORKER_IMAGE, checkImageReference)),
    moduleParameters: problems.check(() => optionalList('moduleParameters', settings.moduleParameters, checkModuleParameter, moduleParameterIdentity)),
  });
}

/**
 * Checks every option of `produceMachineConfig` into `problems`; returns the valid ones as
 * given (see checkModuleSettings).
 *
 * @throws Day1ValidationError when `options` is not an object
 */
export function collectMachineConfigOptions(problems: ProblemCollector, options: ProduceMachineConfigOptions): Partial<ProduceMachineConfigOptions> {
  requireObject('options', options);
  return definedFields({
    ...checkModuleSettings(problems, options),
    machineConfigName: problems.check(() => checkMachineConfigName('machineConfigName', options.machineConfigName)),
    machineConfigPoolRef: problems.check(() => checkLabelValue('machineConfigPoolRef', options.machineConfigPoolRef)),
    peerMachineConfigNames: problems.check(() => checkPeerNames('peerMachineConfigNames', options.peerMachineConfigNames)),
  });
}

/**
 * Checks every option of `produceMachineConfig`; returns them as given.
 *
 * @throws Day1ValidationError with every invalid option, in the order of ProduceMachineConfigOptions
 */
export function checkMachineConfigOptions(options: ProduceMachineConfigOptions): ProduceMachineConfigOptions {
  const problems = new ProblemCollector(undefined, MACHINE_CONFIG_OPTIONS_FIELDS);
  const checked = collectMachineConfigOptions(problems, options);
  problems.throwIfAny();
  return checked as ProduceMachineConfigOptions;
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
 * Peers, each a MachineConfig name. A name listed twice, or this MachineConfig's own name,
 * orders nothing and is accepted (a caller that computes peers from a whole pool need not
 * filter them out); the generator drops them.
 */
function checkPeerNames(field: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!Array.isArray(value)) {
    throw new Day1ValidationError(field, value, 'must be a list of MachineConfig names');
  }
  const problems = new ProblemCollector();
  value.forEach((entry, i) => problems.check(() => checkMachineConfigName(`${field}[${i}]`, entry)));
  problems.throwIfAny();
  return [...value] as string[];
}
