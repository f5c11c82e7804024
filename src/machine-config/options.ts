import { ModuleValues, UnitValues } from '../boot';
// On the CLI's path: the one validation module it needs, not the index.
import { checkMachineConfigOptions, DEFAULT_WORKER_IMAGE, KernelModuleSettings, ProduceMachineConfigOptions } from '../validation/settings';

/*
 * Where the defaults of the module settings are applied: validation returns what was given,
 * and everything that uses the settings (the generator, the constructs, the hand-over) takes
 * them from here.
 */

/** The options of one Day 1 MachineConfig with every default applied: what it is made from. */
export interface ResolvedMachineConfigOptions extends UnitValues {
  /** The value of the MachineConfig's `machineconfiguration.openshift.io/role` label. */
  readonly machineConfigPoolRef: string;
}

/** Checked module settings with the defaults applied: no in-tree modules, no parameters, the default worker image. */
export function moduleWithDefaults(settings: KernelModuleSettings): ModuleValues {
  return {
    kernelModuleImage: settings.kernelModuleImage,
    kernelModuleName: settings.kernelModuleName,
    inTreeModulesToRemove: [...settings.inTreeModulesToRemove ?? []],
    ...(settings.firmwareFilesPath === undefined ? {} : { firmwareFilesPath: settings.firmwareFilesPath }),
    workerImage: settings.workerImage ?? DEFAULT_WORKER_IMAGE,
    moduleParameters: [...settings.moduleParameters ?? []],
  };
}

/**
 * Checked options with the defaults applied. Peers become a set: without duplicates and
 * without this MachineConfig's own name, sorted as the MCO sorts names (Go's byte order,
 * which for these ASCII names is UTF-16 order).
 */
export function machineConfigWithDefaults(options: ProduceMachineConfigOptions): ResolvedMachineConfigOptions {
  const peers = new Set(options.peerMachineConfigNames ?? []);
  peers.delete(options.machineConfigName);
  return {
    machineConfigName: options.machineConfigName,
    machineConfigPoolRef: options.machineConfigPoolRef,
    ...moduleWithDefaults(options),
    peerMachineConfigNames: [...peers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  };
}

/**
 * The options of `produceMachineConfig`, checked, with the defaults applied.
 *
 * @throws Day1ValidationError with every invalid option
 */
export function resolveMachineConfigOptions(options: ProduceMachineConfigOptions): ResolvedMachineConfigOptions {
  return machineConfigWithDefaults(checkMachineConfigOptions(options));
}
