import { readdirSync, readFileSync, statSync } from 'fs';
import { extname, join } from 'path';
import { loadAll } from 'js-yaml';
import { unitEnvironment } from './unit-environment';
import { mergeMachineConfigs, MergedMachineConfigs } from '../../machine-config/pool-merge';
import { Day1ValidationError, problemLine } from '../../validation/error';
import { checkImageReference, checkKernelModuleImage, checkKernelRelease } from '../../validation/kernel-module';
import { UsageError } from '../arguments';

/*
 * What check-images reads: Day 1 modules from MachineConfigs and BootModuleConfigs, and kernel
 * releases from the flags and from `oc get nodes` output. A MachineConfig's Ignition config is
 * read by the library's pool model (mergeMachineConfigs), so its units, drop-ins and file
 * decoding are those the generator and the constructs check; the images come from the
 * environment the units give the scripts, which every writer of a Day 1 MachineConfig uses
 * (this library since interface 1, KMM's day1-utility and the KMM operator), whether the units
 * come as `systemd.units` or as files.
 */

/** One Day 1 module whose images must exist. */
export interface Day1Module {
  /** The file it was read from. */
  readonly source: string;
  readonly kind: 'MachineConfig' | 'BootModuleConfig';
  /** The MachineConfig that loads it (a BootModuleConfig's spec.machineConfigName). */
  readonly machineConfigName: string;
  /** The kernel module name, when the input says. */
  readonly moduleName?: string;
  /** The module image without tag. */
  readonly moduleImage: string;
  /** The worker image; none for a BootModuleConfig that leaves it to the operator. */
  readonly workerImage?: string;
}

/** One kernel release and its image tag. */
export interface KernelRelease {
  readonly release: string;
  readonly tag: string;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every file under `path` (itself when it is a file), folders in name order. */
function filesOf(path: string): string[] {
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    throw new UsageError(`cannot read ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!stats.isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => {
    const child = join(path, name);
    // A dangling link inside a folder is not an input: skipped, as the other non-YAML files are.
    const kind = statSync(child, { throwIfNoEntry: false });
    if (kind === undefined) return [];
    return kind.isDirectory() ? filesOf(child) : EXTENSIONS.has(extname(name).toLowerCase()) ? [child] : [];
  });
}

/** The objects of a YAML or JSON file: every document, lists (`kind: List`, `items`) and arrays flattened. */
export function readObjects(file: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${JSON.stringify(file)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let documents: unknown[];
  try {
    // JSON is YAML, but JSON.parse reads big `oc get -o json` lists much faster.
    documents = /^\s*[[{]/.test(text) && extname(file).toLowerCase() === '.json' ? [JSON.parse(text)] : loadAll(text);
  } catch (error) {
    throw new UsageError(`${file} is neither YAML nor JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  const flatten = (value: unknown): unknown[] => {
    if (Array.isArray(value)) return value.flatMap(flatten);
    if (isObject(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) return value.items.flatMap(flatten);
    return value === null || value === undefined ? [] : [value];
  };
  return documents.flatMap(flatten);
}

/** A value read from an input, checked by the library's rule; a bad one is the input's fault (exit 2). */
function checked<T>(where: string, check: (field: string, value: unknown) => T, field: string, value: unknown): T {
  try {
    return check(field, value);
  } catch (error) {
    if (error instanceof Day1ValidationError) {
      throw new UsageError(`${where === '' ? '' : `${where}: `}${error.problems.map(problemLine).join('; ')}`);
    }
    throw error;
  }
}

interface UnitText {
  readonly contents?: string;
  readonly dropins: ReadonlyArray<{ readonly name: string; readonly contents?: string }>;
}

const UNIT_FILE = /^\/etc\/systemd\/system\/([^/]+\.service)$/;
const DROPIN_FILE = /^\/etc\/systemd\/system\/([^/]+\.service)\.d\/([^/]+\.conf)$/;

/**
 * The units a node gets from one MachineConfig: `systemd.units`, and unit files and drop-ins
 * written as `storage.files` under /etc/systemd/system (hand-written Butane does that), their
 * data URLs decoded by the pool model. Ignition writes the units after the files, so a unit's
 * own contents and drop-ins win over a file of the same path.
 */
function nodeUnits(merged: MergedMachineConfigs): UnitText[] {
  const units = new Map<string, { contents?: string; dropins: Map<string, string | undefined> }>();
  const unit = (name: string) => {
    let state = units.get(name);
    if (state === undefined) units.set(name, state = { dropins: new Map() });
    return state;
  };
  for (const file of merged.files) {
    const whole = UNIT_FILE.exec(file.path);
    const dropin = DROPIN_FILE.exec(file.path);
    if (whole) unit(whole[1]).contents = file.contents;
    else if (dropin) unit(dropin[1]).dropins.set(dropin[2], file.contents);
  }
  for (const { name, contents, dropins } of merged.units) {
    const state = unit(name);
    if (contents !== undefined) state.contents = contents;
    for (const dropin of dropins) if (dropin.contents !== undefined) state.dropins.set(dropin.name, dropin.contents);
  }
  return [...units.values()].map((state) => ({
    contents: state.contents,
    dropins: [...state.dropins].map(([name, contents]) => ({ name, contents })),
  }));
}

/** The Day 1 modules of one MachineConfig: one per distinct module and worker image its units set. */
function machineConfigModules(source: string, object: Record<string, any>): Day1Module[] {
  const name = isObject(object.metadata) && typeof object.metadata.name === 'string' ? object.metadata.name : '(no name)';
  const where = `${source}: MachineConfig ${JSON.stringify(name)}`;
  let units: UnitText[];
  try {
    units = nodeUnits(mergeMachineConfigs([object]));
  } catch (error) {
    if (!(error instanceof Day1ValidationError)) throw error;
    throw new UsageError(`${where}: ${error.message.replace(/machineConfigs\[0\]\.?/g, '')}`);
  }
  const byImages = new Map<string, { moduleImage: string; workerImage?: string; moduleName?: string }>();
  for (const unit of units) {
    const environment = unitEnvironment(unit.contents, unit.dropins);
    const moduleImage = environment.get('KERNEL_MODULE_IMAGE');
    if (moduleImage === undefined) continue;
    const workerImage = environment.get('WORKER_IMAGE') || undefined;
    const key = JSON.stringify([moduleImage, workerImage]);
    const entry = byImages.get(key) ?? { moduleImage, workerImage };
    entry.moduleName = entry.moduleName ?? (environment.get('KERNEL_MODULE_NAME') || environment.get('KERNEL_MODULE') || undefined);
    byImages.set(key, entry);
  }
  return [...byImages.values()].map((entry) => ({
    source,
    kind: 'MachineConfig' as const,
    machineConfigName: name,
    ...(entry.moduleName === undefined ? {} : { moduleName: entry.moduleName }),
    moduleImage: checked(where, checkKernelModuleImage, 'KERNEL_MODULE_IMAGE', entry.moduleImage),
    ...(entry.workerImage === undefined ? {} : { workerImage: checked(where, checkImageReference, 'WORKER_IMAGE', entry.workerImage) }),
  }));
}

function bootModuleConfigModule(source: string, object: Record<string, any>): Day1Module {
  const name = isObject(object.metadata) && typeof object.metadata.name === 'string' ? object.metadata.name : '(no name)';
  const where = `${source}: BootModuleConfig ${JSON.stringify(name)}`;
  const spec = isObject(object.spec) ? object.spec : {};
  const text = (field: string): string | undefined => (typeof spec[field] === 'string' && spec[field] !== '' ? spec[field] : undefined);
  const workerImage = text('workerImage');
  const moduleName = text('kernelModuleName');
  return {
    source,
    kind: 'BootModuleConfig',
    machineConfigName: text('machineConfigName') ?? name,
    ...(moduleName === undefined ? {} : { moduleName }),
    moduleImage: checked(where, checkKernelModuleImage, 'spec.kernelModuleImage', spec.kernelModuleImage),
    ...(workerImage === undefined ? {} : { workerImage: checked(where, checkImageReference, 'spec.workerImage', workerImage) }),
  };
}

/**
 * The Day 1 modules in files and folders, in the order read (folders by name).
 *
 * @throws UsageError when a path cannot be read or parsed, an image in it is invalid, or none holds a Day 1 module
 */
export function readModules(paths: readonly string[]): Day1Module[] {
  const modules: Day1Module[] = [];
  for (const file of paths.flatMap(filesOf)) {
    for (const object of readObjects(file)) {
      if (!isObject(object)) continue;
      if (object.kind === 'MachineConfig') modules.push(...machineConfigModules(file, object));
      else if (object.kind === 'BootModuleConfig') modules.push(bootModuleConfigModule(file, object));
    }
  }
  if (modules.length === 0) {
    throw new UsageError(`no Day 1 MachineConfig or BootModuleConfig in ${paths.map((path) => JSON.stringify(path)).join(', ')}`);
  }
  return modules;
}

/** Kernel releases of `oc get nodes` output (a Node list, or Nodes), in order of appearance. */
function nodeReleases(file: string): string[] {
  const releases = readObjects(file)
    .filter((object): object is Record<string, any> => isObject(object) && object.kind === 'Node')
    .map((node) => node.status?.nodeInfo?.kernelVersion)
    .filter((release): release is string => typeof release === 'string' && release !== '');
  if (releases.length === 0) {
    throw new UsageError(`--nodes ${file}: no Node with status.nodeInfo.kernelVersion (expected the output of \`oc get nodes -o json\`)`);
  }
  return releases;
}

/**
 * The kernel releases to check, each once: --kernel-release values first, then those of the nodes files.
 *
 * @throws UsageError for a release that makes no valid tag, or a nodes file without kernel versions
 */
export function readKernelReleases(releases: readonly string[], nodesFiles: readonly string[]): KernelRelease[] {
  const all = [
    ...releases.map((release) => ({ release, where: '', field: '--kernel-release' })),
    ...nodesFiles.flatMap((file) => nodeReleases(file).map((release) => ({ release, where: `--nodes ${file}`, field: 'status.nodeInfo.kernelVersion' }))),
  ];
  const seen = new Map<string, KernelRelease>();
  for (const { release, where, field } of all) {
    if (seen.has(release)) continue;
    seen.set(release, checked(where, checkKernelRelease, field, release));
  }
  return [...seen.values()];
}
