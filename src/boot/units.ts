import { PULL_SCRIPT_PATH, REPLACE_SCRIPT_PATH, WAIT_SCRIPT_PATH } from './scripts';
import { environmentAssignment, renderUnitFile, UnitSection } from './systemd';

/*
 * The two units of one Day 1 MachineConfig, which carry its values, and what they expect of
 * the node. Unit names are a contract with the KMM operator, whose BootModuleConfig reconciler
 * installs node disruption policies for them.
 */

/** One kernel module as the node loads it: checked settings with every default applied. */
export interface ModuleValues {
  readonly kernelModuleImage: string;
  readonly kernelModuleName: string;
  readonly inTreeModulesToRemove: string[];
  readonly firmwareFilesPath?: string;
  readonly workerImage: string;
  readonly moduleParameters: string[];
}

/** What the units of one Day 1 MachineConfig carry. */
export interface UnitValues extends ModuleValues {
  readonly machineConfigName: string;
  /** The other Day 1 MachineConfigs on the same nodes: sorted by name, without duplicates or this MachineConfig's name. */
  readonly peerMachineConfigNames: string[];
}

/** A systemd unit installed and enabled on the node. */
export interface BootUnit {
  readonly name: string;
  readonly contents: string;
}

/** `<machineConfigName>` plus this is the replace unit's name. */
export const REPLACE_UNIT_SUFFIX = '-replace-kernel-module.service';
/** `<machineConfigName>` plus this is the pull unit's name. */
export const PULL_UNIT_SUFFIX = '-pull-kernel-module-image.service';
/** Wipes container storage at boot; left enabled it would delete the images we pulled. */
export const CRIO_WIPE_UNIT = 'crio-wipe.service';
/** Proxy settings the Machine Config Operator writes for the node; read optionally (`-`), so a node without it still loads the module. */
export const PROXY_ENV_FILE = '/etc/mco/proxy.env';

/**
 * Bounds for the replace unit: it holds back network-pre.target, so a hung worker must not
 * hold the boot for long. Copying modules and firmware and running modprobe takes seconds.
 */
export const REPLACE_TIMEOUT_SECONDS = 300;
/**
 * Bounds for the pull unit: waiting for the dispatcher (120 s) plus, per missing image,
 * 5 attempts of at most 300 s (+5 s before SIGKILL) with 10+20+40+80 s of back-off between
 * them. Both images missing and every attempt timing out is 120 + 2 × 1675 = 3470 s, so one
 * hour fits with room for the quick podman and systemctl calls in between.
 */
export const PULL_TIMEOUT_SECONDS = 3600;

/** The name of the unit that loads the module of `machineConfigName` before the network. */
export function replaceUnitName(machineConfigName: string): string {
  return `${machineConfigName}${REPLACE_UNIT_SUFFIX}`;
}

/** The name of the unit that pulls the images of `machineConfigName` once the network is up. */
export function pullUnitName(machineConfigName: string): string {
  return `${machineConfigName}${PULL_UNIT_SUFFIX}`;
}

/** Description= expands `%` specifiers; keep the text literal. */
function description(text: string): string {
  return text.replace(/%/g, '%%');
}

/**
 * Bounds for the pull unit's stop, the pre-pull for the next kernel at shutdown: the script
 * ends its own work within 200 s (each pull attempt at most 90 s, +5 s before SIGKILL), so
 * systemd's SIGTERM at this bound only ever meets a script that hung outside a pull. The
 * shutdown waits at most this long for it, network still up.
 */
export const PREPULL_TIMEOUT_SECONDS = 240;

/** The argument of the pull script that makes it pre-pull the next kernel's images (the pull unit's ExecStop). */
export const PREPULL_ARGUMENT = '--next-kernel';

/**
 * The unit ↔ script interface version our units speak (`KMM_DAY1_INTERFACE`). Version 1 (no
 * variable) is the first release; version 2 adds `KERNEL_MODULE`, `WORKER_CONFIG_FILEPATH` and
 * `KERNEL_MODULE_IMAGE_FILEPATH`, which the KMM operator's scripts read, and always sets
 * `IN_TREE_MODULES_TO_REMOVE` and `FIRMWARE_FILES_PATH`; version 3 keeps the pull unit active
 * after its start (`RemainAfterExit=yes`) and calls the pull script with `--next-kernel` as its
 * `ExecStop=`, which pre-pulls the images of the next kernel at shutdown. Scripts accept every
 * earlier version.
 */
export const UNIT_INTERFACE_VERSION = 3;

/**
 * Where the KMM operator's replace script, should it win the merge, writes this module's
 * worker config: a file of its own directly in /var/lib, which exists on a fresh node (its
 * script writes with `cat >`, without creating directories). Our scripts never use it. With
 * the longest MachineConfig name (222) the file name has 250 characters, within NAME_MAX.
 */
export function workerConfigFilePath(machineConfigName: string): string {
  return `/var/lib/kmm-day1-${machineConfigName}.worker-config.yaml`;
}

/** Where the KMM operator's pull script, should it win the merge, keeps this module's image. Our scripts never use it. */
export function kernelModuleImageFilePath(machineConfigName: string): string {
  return `/var/lib/kmm-day1-${machineConfigName}.image.tar`;
}

/** `Environment=` lines; `undefined` values are left out, empty strings are kept as set-but-empty. */
function environment(values: ReadonlyArray<readonly [string, string | undefined]>): Array<[string, string]> {
  return values
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined)
    .map(([name, value]) => ['Environment', environmentAssignment(name, value)]);
}

/** Undefined for an empty list, so that the line is left out. */
function nonEmpty(values: readonly string[]): string | undefined {
  return values.length > 0 ? values.join(' ') : undefined;
}

/**
 * One total order, by name, over the replace units of every Day 1 MachineConfig of the pool:
 * loads never overlap (the KMM operator's script uses one podman pod name for every module),
 * no cycle is possible, and the order holds when the KMM operator rewrites a peer, whose
 * units carry none: each of our units states its side of every pair.
 */
function peerOrdering(options: UnitValues): Array<[string, string]> {
  return options.peerMachineConfigNames.map((peer) => [peer < options.machineConfigName ? 'After' : 'Before', replaceUnitName(peer)]);
}

/**
 * A oneshot unit run as root with the proxy settings and `environment`, wanted by
 * multi-user.target: the shape both Day 1 units share.
 */
function oneshotUnit(
  name: string,
  unit: ReadonlyArray<readonly [string, string]>,
  timeoutSeconds: number,
  values: ReadonlyArray<readonly [string, string | undefined]>,
  exec: ReadonlyArray<readonly [string, string]>,
  lifetime: ReadonlyArray<readonly [string, string]> = [],
): BootUnit {
  const sections: UnitSection[] = [
    { name: 'Unit', directives: unit },
    {
      name: 'Service',
      directives: [
        ['Type', 'oneshot'],
        ...lifetime,
        ['User', 'root'],
        ['TimeoutStartSec', String(timeoutSeconds)],
        ['EnvironmentFile', `-${PROXY_ENV_FILE}`],
        ...environment(values),
        ...exec,
      ],
    },
    { name: 'Install', directives: [['WantedBy', 'multi-user.target']] },
  ];
  return { name, contents: renderUnitFile(sections) };
}

/** Loads the module before network-pre.target, from images already in local storage. */
export function replaceUnit(options: UnitValues): BootUnit {
  return oneshotUnit(replaceUnitName(options.machineConfigName), [
    ['Description', description(`Load out-of-tree kernel module ${options.kernelModuleName} before the network (Day 1, ${options.machineConfigName})`)],
    // Early boot: default dependencies would order us after basic.target, i.e. too late.
    ['DefaultDependencies', 'no'],
    ['Wants', 'network-pre.target'],
    ['Before', 'network-pre.target'],
    ['After', 'local-fs.target'],
    ['RequiresMountsFor', '/var/lib/containers'],
    ...peerOrdering(options),
  ], REPLACE_TIMEOUT_SECONDS, [
    ['KMM_DAY1_INTERFACE', String(UNIT_INTERFACE_VERSION)],
    ['MACHINE_CONFIG_NAME', options.machineConfigName],
    ['KERNEL_MODULE_IMAGE', options.kernelModuleImage],
    ['KERNEL_MODULE_NAME', options.kernelModuleName],
    // The KMM operator's scripts read these; so do ours, under the operator's units.
    ['KERNEL_MODULE', options.kernelModuleName],
    ['WORKER_IMAGE', options.workerImage],
    ['IN_TREE_MODULES_TO_REMOVE', options.inTreeModulesToRemove.join(' ')],
    ['FIRMWARE_FILES_PATH', options.firmwareFilesPath ?? ''],
    ['WORKER_CONFIG_FILEPATH', workerConfigFilePath(options.machineConfigName)],
    ['MODULE_PARAMETERS', nonEmpty(options.moduleParameters)],
  ], [['ExecStart', REPLACE_SCRIPT_PATH]]);
}

/**
 * Pulls the images once the network is up and reboots so the replace unit can use them. It
 * stays active after its start, so that at shutdown its `ExecStop=` pre-pulls the images of the
 * next deployment's kernel: ordered after network-online.target, it is stopped before the network
 * goes down; ordered after ostree-finalize-staged.service, it is stopped before the staged
 * deployment is finalized, so it reads that deployment as staged and does not race it.
 */
export function pullUnit(options: UnitValues): BootUnit {
  return oneshotUnit(pullUnitName(options.machineConfigName), [
    ['Description', description(`Pull the kernel module image of ${options.kernelModuleName} for the running kernel, and at shutdown for the next one (Day 1, ${options.machineConfigName})`)],
    ['Wants', 'network-online.target'],
    ['After', 'network-online.target NetworkManager-dispatcher.service ostree-finalize-staged.service'],
    ['RequiresMountsFor', '/var/lib/containers'],
  ], PULL_TIMEOUT_SECONDS, [
    ['KMM_DAY1_INTERFACE', String(UNIT_INTERFACE_VERSION)],
    ['MACHINE_CONFIG_NAME', options.machineConfigName],
    ['KERNEL_MODULE_IMAGE', options.kernelModuleImage],
    ['WORKER_IMAGE', options.workerImage],
    ['KERNEL_MODULE_IMAGE_FILEPATH', kernelModuleImageFilePath(options.machineConfigName)],
  ], [
    ['ExecStartPre', WAIT_SCRIPT_PATH],
    ['ExecStart', PULL_SCRIPT_PATH],
    ['ExecStop', `${PULL_SCRIPT_PATH} ${PREPULL_ARGUMENT}`],
  ], [
    ['RemainAfterExit', 'yes'],
    ['TimeoutStopSec', String(PREPULL_TIMEOUT_SECONDS)],
  ]);
}
