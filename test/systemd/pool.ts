import { spawnSync } from 'child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { decodeDataUrl } from '../../src/ignition';

/*
 * A pool's MachineConfigs as a node gets them: merged the way the Machine Config Operator
 * merges them, then written into a node root the way Ignition and the machine-config daemon
 * write them (files with their modes, unit files and drop-ins, `enabled` as the unit's
 * [Install] symlinks, masks as symlinks to /dev/null).
 *
 * The apply step reads only the fields below, a subset of `MergedMachineConfigs` of
 * src/machine-config/pool-merge.ts (issue #10), so that function's result can be passed as
 * it is. Until it lands, `mergePool` is a small local stand-in with the same merge rules.
 */

/** A file of the merged pool, as the apply step reads it. */
export interface PoolFile {
  readonly path: string;
  /** Decoded text; undefined when no MachineConfig gave data-URL contents. */
  readonly contents?: string;
  readonly mode?: number;
  readonly overwrite: boolean;
}

/** A drop-in of a merged unit. */
export interface PoolDropin {
  readonly name: string;
  readonly contents?: string;
}

/** A unit of the merged pool, as the apply step reads it. */
export interface PoolUnit {
  readonly name: string;
  readonly enabled?: boolean;
  readonly mask?: boolean;
  readonly contents?: string;
  readonly dropins: readonly PoolDropin[];
}

/** A merged pool, as the apply step reads it (a subset of `MergedMachineConfigs`). */
export interface PoolView {
  /** MachineConfig names in merge order. */
  readonly order: readonly string[];
  readonly files: readonly PoolFile[];
  readonly units: readonly PoolUnit[];
}

const ROLE_LABEL = 'machineconfiguration.openshift.io/role';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The MCO's merge of a pool (stand-in for `mergeMachineConfigs` until it lands): MachineConfigs
 * of the `worker` role first, then the rest, each group by name; files merged field-wise by
 * path, units field-wise by name, drop-ins by name; a later value replaces an earlier one.
 */
export function mergePool(machineConfigs: readonly any[], baseRole = 'worker'): PoolView {
  const isBase = (mc: any) => mc?.metadata?.labels?.[ROLE_LABEL] === baseRole;
  const byName = (a: any, b: any) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0);
  const ordered = [
    ...machineConfigs.filter(isBase).sort(byName),
    ...machineConfigs.filter((mc) => !isBase(mc)).sort(byName),
  ];
  type File = { path: string; contents?: string; mode?: number; overwrite?: boolean };
  type Unit = { name: string; enabled?: boolean; mask?: boolean; contents?: string; dropins: Map<string, PoolDropin> };
  const files = new Map<string, File>();
  const units = new Map<string, Unit>();
  for (const mc of ordered) {
    const config = mc.spec?.config ?? {};
    for (const file of config.storage?.files ?? []) {
      const merged: File = files.get(file.path) ?? { path: file.path };
      files.set(file.path, merged);
      if (file.contents?.source !== undefined) merged.contents = decodeDataUrl(file.contents.source);
      if (file.mode !== undefined) merged.mode = file.mode;
      if (file.overwrite !== undefined) merged.overwrite = file.overwrite;
    }
    for (const unit of config.systemd?.units ?? []) {
      const merged: Unit = units.get(unit.name) ?? { name: unit.name, dropins: new Map() };
      units.set(unit.name, merged);
      if (unit.enabled !== undefined) merged.enabled = unit.enabled;
      if (unit.mask !== undefined) merged.mask = unit.mask;
      if (unit.contents !== undefined) merged.contents = unit.contents;
      for (const dropin of unit.dropins ?? []) {
        merged.dropins.set(dropin.name, { name: dropin.name, contents: dropin.contents ?? merged.dropins.get(dropin.name)?.contents });
      }
    }
  }
  return {
    order: ordered.map((mc) => mc.metadata.name),
    files: [...files.values()].map((file) => ({ ...file, overwrite: file.overwrite ?? true })),
    units: [...units.values()].map((unit) => ({ ...unit, dropins: [...unit.dropins.values()] })),
  };
}

/* eslint-enable @typescript-eslint/no-explicit-any */

/** Ignition's mode for a file that names none. */
const DEFAULT_FILE_MODE = 0o644;
const UNIT_DIR = '/etc/systemd/system';

/** `systemctl --root`: the [Install] logic of the systemd that boots the node, run offline. */
export function systemctlRoot(root: string, ...args: string[]): void {
  const result = spawnSync('systemctl', [`--root=${root}`, ...args], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`systemctl --root=${root} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  }
}

function writeRootFile(root: string, path: string, contents: string, mode: number): void {
  if (!path.startsWith('/') || path.split('/').includes('..')) {
    throw new Error(`not an absolute, normal path: ${path}`);
  }
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  writeFileSync(file, contents);
  chmodSync(file, mode);
  chownSync(file, 0, 0);
}

/**
 * Writes the merged pool into `root` as Ignition and the machine-config daemon would: files,
 * then unit files and drop-ins, then `enabled: false` (disable), `enabled: true` (enable: the
 * symlinks the unit's [Install] section asks for) and masks.
 */
export function applyPool(root: string, pool: PoolView): void {
  for (const file of pool.files) {
    if (file.contents === undefined) {
      throw new Error(`${file.path}: only data-URL contents can be applied here`);
    }
    if (!file.overwrite && existsSync(join(root, file.path))) {
      throw new Error(`${file.path} exists and overwrite is false: Ignition would fail`);
    }
    writeRootFile(root, file.path, file.contents, file.mode ?? DEFAULT_FILE_MODE);
  }
  for (const unit of pool.units) {
    if (unit.contents !== undefined) {
      writeRootFile(root, `${UNIT_DIR}/${unit.name}`, unit.contents, 0o644);
    }
    for (const dropin of unit.dropins) {
      if (dropin.contents !== undefined) {
        writeRootFile(root, `${UNIT_DIR}/${unit.name}.d/${dropin.name}`, dropin.contents, 0o644);
      }
    }
  }
  const names = (pick: (unit: PoolUnit) => boolean) => pool.units.filter(pick).map((unit) => unit.name);
  const disable = names((unit) => unit.enabled === false);
  const enable = names((unit) => unit.enabled === true && unit.mask !== true);
  const mask = names((unit) => unit.mask === true);
  const unmask = names((unit) => unit.mask === false);
  if (disable.length > 0) systemctlRoot(root, 'disable', ...disable);
  if (unmask.length > 0) systemctlRoot(root, 'unmask', ...unmask);
  if (enable.length > 0) systemctlRoot(root, 'enable', ...enable);
  if (mask.length > 0) systemctlRoot(root, 'mask', ...mask);
}
