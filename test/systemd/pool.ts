import { spawnSync } from 'child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';

/*
 * A pool's MachineConfigs as a node gets them: merged by `mergeMachineConfigs` as the Machine
 * Config Operator merges them, then written into a node root the way Ignition and the
 * machine-config daemon write them (files with their modes, unit files and drop-ins,
 * `enabled` as the unit's [Install] symlinks, masks as symlinks to /dev/null).
 *
 * The apply step reads only the fields below, a subset of `MergedMachineConfigs`, so a pool
 * built some other way (a hand-made one, say) can be applied too.
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
