import { SCRIPT_MODE } from '../../src/boot';
import { ignitionConfig, rootOwnedFile } from '../../src/ignition';
import {
  MACHINE_CONFIG_API_VERSION, MACHINE_CONFIG_KIND, MachineConfigManifest, resolveMachineConfigOptions, ResolvedMachineConfigOptions, ROLE_LABEL,
} from '../../src/machine-config';
import { ProduceMachineConfigOptions } from '../../src/validation';

/*
 * The modules and MachineConfigs the tier's scenario files boot: each file runs a registry of
 * its own, so the images are named after the registry's host.
 */

export const ICE = '99-worker-kmm-day1-ice';
export const SFC = '99-worker-kmm-day1-sfc';

/** The tier's `ice` module of the worker pool, its images at `host`; `overrides` make the others. */
export function day1At(host: string, overrides: Partial<ProduceMachineConfigOptions> = {}): ResolvedMachineConfigOptions {
  return resolveMachineConfigOptions({
    machineConfigName: ICE,
    machineConfigPoolRef: 'worker',
    kernelModuleImage: `${host}/example/ice-driver`,
    kernelModuleName: 'ice',
    inTreeModulesToRemove: ['ice'],
    workerImage: `${host}/kmm/worker:latest`,
    ...overrides,
  });
}

/** A MachineConfig of the worker role that writes one script (a name that sorts after ours wins the merge). */
export function scriptMachineConfig(name: string, path: string, contents: string): MachineConfigManifest {
  return {
    apiVersion: MACHINE_CONFIG_API_VERSION,
    kind: MACHINE_CONFIG_KIND,
    metadata: { name, labels: { [ROLE_LABEL]: 'worker' } },
    spec: { config: ignitionConfig([rootOwnedFile(path, contents, SCRIPT_MODE)], []) },
  };
}

/** A copy of `mc` whose unit `name` has `edit` applied to its contents; fails when the edit changes nothing. */
export function withUnitEdited(mc: MachineConfigManifest, name: string, edit: (contents: string) => string): MachineConfigManifest {
  const copy = JSON.parse(JSON.stringify(mc)) as MachineConfigManifest;
  const unit = copy.spec.config.systemd.units.find((u) => u.name === name);
  const edited = edit(unit?.contents ?? '');
  if (unit === undefined || edited === unit.contents) {
    throw new Error(`the edit of ${name} changed nothing`);
  }
  (unit as { contents?: string }).contents = edited;
  return copy;
}
