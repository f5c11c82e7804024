import { bootScriptFiles } from './generator';
import { ROLE_LABEL, sortInMergeOrder, WORKER_ROLE } from './topology';
import { CRIO_WIPE_UNIT, PULL_UNIT_SUFFIX, REPLACE_UNIT_SUFFIX, SCRIPT_PATHS } from '../boot';
import { decodeDataUrl } from '../ignition';
import { checkLabelValue, checkNonEmptyString, Day1ValidationError, optionalOfType, requireObject } from '../validation';

/*
 * The pool as the Machine Config Operator renders it. A node runs one copy of each file path
 * and one unit of each name, whichever MachineConfig wrote them last in the MCO's merge order,
 * so whether every Day 1 module of a pool still loads depends on the whole pool, not on each
 * MachineConfig alone. This is the model the constructs check at synthesis and the tests
 * build the pools they boot from.
 */

/** What a foreign MachineConfig does that breaks the Day 1 MachineConfigs of its pool. */
export enum MachineConfigConflictKind {
  /**
   * It writes one of the three Day 1 script paths (`/usr/local/bin/replace-kernel-module.sh`,
   * `pull-kernel-module-image.sh`, `wait-for-dispatcher.sh`) with other contents than the
   * scripts of this release.
   */
  SCRIPT_CONTENTS = 'SCRIPT_CONTENTS',
  /** It enables or unmasks `crio-wipe.service`, which would delete the pulled images at boot. */
  CRIO_WIPE_ENABLED = 'CRIO_WIPE_ENABLED',
  /** It defines a unit named `<day 1 MachineConfig>-replace-kernel-module.service` or `-pull-kernel-module-image.service`. */
  UNIT_NAME = 'UNIT_NAME',
}

/** Options of `mergeMachineConfigs`. */
export interface MergeMachineConfigsOptions {
  /**
   * The role whose MachineConfigs the MCO merges first, by their
   * `machineconfiguration.openshift.io/role` label.
   *
   * Every other MachineConfig of the list comes after them.
   *
   * @default 'worker'
   */
  readonly baseRole?: string;
}

/** One file as the node gets it after the merge. */
export interface MergedFile {
  /** Absolute path on the node. */
  readonly path: string;

  /**
   * The file's text: `source` decoded (base64 or percent-encoded data URL, gunzipped when
   * `compression` is `gzip`).
   *
   * @default - not known: no MachineConfig gave the file contents, or its source is not a data URL
   */
  readonly contents?: string;

  /**
   * `contents.source` of the MachineConfig that won (a data URL, or a remote URL Ignition fetches).
   *
   * @default - no MachineConfig gave the file contents
   */
  readonly source?: string;

  /**
   * Permission bits (decimal), the last value any writer set.
   *
   * @default - no writer set a mode
   */
  readonly mode?: number;

  /** Whether the file replaces an existing one: the last value any writer set, `true` when none did. */
  readonly overwrite: boolean;

  /** The MachineConfig whose contents land on the node: the last writer that set `contents.source` (else the last writer). */
  readonly machineConfigName: string;

  /** Every MachineConfig with an entry for this path, in merge order. */
  readonly writers: string[];
}

/** A drop-in of a merged unit. */
export interface MergedDropin {
  /** Drop-in file name, e.g. `10-override.conf`. */
  readonly name: string;

  /**
   * Drop-in text, the last value any MachineConfig set.
   *
   * @default - no MachineConfig gave it contents
   */
  readonly contents?: string;
}

/** One systemd unit as the node gets it after the merge. */
export interface MergedUnit {
  /** Unit name. */
  readonly name: string;

  /**
   * Whether the unit is enabled, the last value any MachineConfig set.
   *
   * @default - no MachineConfig said (the unit's presets decide)
   */
  readonly enabled?: boolean;

  /**
   * Whether the unit is masked, the last value any MachineConfig set.
   *
   * @default - no MachineConfig said (not masked)
   */
  readonly mask?: boolean;

  /**
   * Unit file text, the last value any MachineConfig set.
   *
   * @default - no MachineConfig wrote the unit file
   */
  readonly contents?: string;

  /** Drop-ins, merged by name, in the order they first appear. */
  readonly dropins: MergedDropin[];

  /** Every MachineConfig with an entry for this unit, in merge order. */
  readonly machineConfigNames: string[];
}

/** A foreign MachineConfig that breaks one Day 1 MachineConfig of the pool. */
export interface MachineConfigConflict {
  /** What the foreign MachineConfig does. */
  readonly kind: MachineConfigConflictKind;

  /** The Day 1 MachineConfig (one whose replace unit sets `MACHINE_CONFIG_NAME`) that it breaks. */
  readonly machineConfigName: string;

  /** The foreign MachineConfig. */
  readonly foreignMachineConfigName: string;

  /** The file path or unit name concerned. */
  readonly subject: string;

  /** One sentence naming both MachineConfigs, the subject and the consequence on the node. */
  readonly message: string;
}

/** A pool's MachineConfigs merged as the MCO merges them. */
export interface MergedMachineConfigs {
  /** `metadata.name` of every MachineConfig, in merge order. */
  readonly order: string[];

  /** Files merged by path, in the order they first appear. */
  readonly files: MergedFile[];

  /** Units merged by name, in the order they first appear. */
  readonly units: MergedUnit[];

  /** Every conflict between a foreign MachineConfig and a Day 1 MachineConfig of the list. */
  readonly conflicts: MachineConfigConflict[];
}

/** The parts of a MachineConfig the merge reads, checked. */
interface Parsed {
  readonly name: string;
  readonly role?: string;
  readonly files: ParsedFile[];
  readonly units: ParsedUnit[];
}

interface ParsedFile {
  readonly path: string;
  readonly source?: string;
  readonly compression?: string;
  readonly mode?: number;
  readonly overwrite?: boolean;
}

interface ParsedUnit {
  readonly name: string;
  readonly enabled?: boolean;
  readonly mask?: boolean;
  readonly contents?: string;
  readonly dropins: ReadonlyArray<{ readonly name: string; readonly contents?: string }>;
}

/**
 * An `Environment=` line that assigns MACHINE_CONFIG_NAME: every release of our replace unit
 * has one, the KMM operator's and day1-utility's units never do.
 */
const SETS_MACHINE_CONFIG_NAME = /^[ \t]*Environment[ \t]*=(?:.*[\s"'])?MACHINE_CONFIG_NAME=/m;
const SCRIPT_PATH_SET: ReadonlySet<string> = new Set(SCRIPT_PATHS);

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function list(field: string, value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Day1ValidationError(field, value, 'must be a list');
  return value;
}

function parse(machineConfig: unknown, i: number): Parsed {
  const at = `machineConfigs[${i}]`;
  if (!isObject(machineConfig)) throw new Day1ValidationError(at, machineConfig, 'must be a MachineConfig object');
  const metadata = isObject(machineConfig.metadata) ? machineConfig.metadata : {};
  const name = checkNonEmptyString(`${at}.metadata.name`, metadata.name);
  const role = isObject(metadata.labels) && typeof metadata.labels[ROLE_LABEL] === 'string' ? metadata.labels[ROLE_LABEL] as string : undefined;
  const config = isObject(machineConfig.spec) && isObject(machineConfig.spec.config) ? machineConfig.spec.config : {};
  const storage = isObject(config.storage) ? config.storage : {};
  const systemd = isObject(config.systemd) ? config.systemd : {};
  const files = list(`${at}.spec.config.storage.files`, storage.files).map((file, j): ParsedFile => {
    const f = `${at}.spec.config.storage.files[${j}]`;
    if (!isObject(file)) throw new Day1ValidationError(f, file, 'must be an Ignition file object');
    const contents = isObject(file.contents) ? file.contents : {};
    return {
      path: checkNonEmptyString(`${f}.path`, file.path),
      source: optionalOfType<string>(`${f}.contents.source`, contents.source, 'string'),
      compression: optionalOfType<string>(`${f}.contents.compression`, contents.compression, 'string'),
      mode: optionalOfType<number>(`${f}.mode`, file.mode, 'number'),
      overwrite: optionalOfType<boolean>(`${f}.overwrite`, file.overwrite, 'boolean'),
    };
  });
  const units = list(`${at}.spec.config.systemd.units`, systemd.units).map((unit, j): ParsedUnit => {
    const u = `${at}.spec.config.systemd.units[${j}]`;
    if (!isObject(unit)) throw new Day1ValidationError(u, unit, 'must be an Ignition unit object');
    return {
      name: checkNonEmptyString(`${u}.name`, unit.name),
      enabled: optionalOfType<boolean>(`${u}.enabled`, unit.enabled, 'boolean'),
      mask: optionalOfType<boolean>(`${u}.mask`, unit.mask, 'boolean'),
      contents: optionalOfType<string>(`${u}.contents`, unit.contents, 'string'),
      dropins: list(`${u}.dropins`, unit.dropins).map((dropin, k) => {
        const d = `${u}.dropins[${k}]`;
        if (!isObject(dropin)) throw new Day1ValidationError(d, dropin, 'must be an Ignition drop-in object');
        return { name: checkNonEmptyString(`${d}.name`, dropin.name), contents: optionalOfType<string>(`${d}.contents`, dropin.contents, 'string') };
      }),
    };
  });
  return { name, role, files, units };
}

interface KnownScripts {
  readonly byPath: ReadonlyMap<string, string>;
  readonly bySource: ReadonlyMap<string, { readonly path: string; readonly contents: string }>;
}
let knownScripts: KnownScripts | undefined;
function thisRelease(): KnownScripts {
  if (knownScripts === undefined) {
    const files = bootScriptFiles();
    knownScripts = {
      byPath: new Map(files.map((file) => [file.path, file.contents])),
      bySource: new Map(files.map((file) => [file.source, { path: file.path, contents: file.contents }])),
    };
  }
  return knownScripts;
}

/**
 * Decodes each distinct source at most once per merge, and only when needed. This release's
 * scripts are recognised by their data URL, which every Day 1 MachineConfig of this release
 * carries byte for byte, so in a pool of a thousand of them each check is a map lookup.
 */
class Sources {
  private readonly known = thisRelease();
  private readonly decoded = new Map<string, string | undefined>();

  public text(source: string, compression: string | undefined): string | undefined {
    const plain = compression === undefined || compression === '';
    if (plain) {
      const known = this.known.bySource.get(source);
      if (known !== undefined) return known.contents;
    }
    const key = plain ? source : `${compression}\0${source}`;
    if (!this.decoded.has(key)) this.decoded.set(key, decodeDataUrl(source, compression));
    return this.decoded.get(key);
  }

  /** Whether `source` holds exactly this release's script for `path`, however it is encoded. */
  public isThisRelease(path: string, source: string, compression: string | undefined): boolean {
    const plain = compression === undefined || compression === '';
    if (plain && this.known.bySource.get(source)?.path === path) return true;
    const text = this.text(source, compression);
    return text !== undefined && text === this.known.byPath.get(path);
  }
}

interface FileState {
  readonly path: string;
  source?: string;
  compression?: string;
  mode?: number;
  overwrite?: boolean;
  winner?: string;
  readonly writers: string[];
}

interface UnitState {
  readonly name: string;
  enabled?: boolean;
  mask?: boolean;
  contents?: string;
  readonly dropins: Map<string, { name: string; contents?: string }>;
  readonly machineConfigNames: string[];
}

/** Adds `name` once, keeping merge order (a MachineConfig may list a path or unit twice). */
function addWriter(writers: string[], name: string): void {
  if (writers[writers.length - 1] !== name) writers.push(name);
}

/**
 * Merges a pool's MachineConfigs the way the Machine Config Operator renders them, and
 * reports what breaks the Day 1 MachineConfigs among them.
 *
 * Order: the MachineConfigs labelled `machineconfiguration.openshift.io/role: <baseRole>`
 * first, then all the others, each group sorted by `metadata.name`. Files are merged by
 * `path` and units by `name`, field by field: a later MachineConfig that sets a field
 * replaces the earlier value of that field only (a unit's drop-ins are merged by name the
 * same way); a file that no MachineConfig gives `overwrite` gets `overwrite: true`. Each
 * merged file and unit says which MachineConfigs wrote it. A file's `append` and its owner
 * are not modelled.
 *
 * A Day 1 MachineConfig ("ours") is one whose unit `<its name>-replace-kernel-module.service`
 * sets `MACHINE_CONFIG_NAME`: that of any release of this library. Every other one is
 * foreign, including one the KMM operator rewrote after a hand-over. A foreign MachineConfig
 * conflicts with each of ours in the list when it writes one of the three script paths with
 * other contents than this release's scripts (`SCRIPT_CONTENTS`), enables or unmasks
 * `crio-wipe.service` (`CRIO_WIPE_ENABLED`), or defines a unit named after one of ours
 * (`UNIT_NAME`), whatever the merge order. Two of ours never conflict: every release's scripts
 * accept the units of every earlier one.
 *
 * Pass the MachineConfigs as plain objects (parsed YAML or `ApiObject.toJson()`); those of
 * every role the pool selects, nothing else.
 *
 * @param machineConfigs the pool's MachineConfig objects
 * @throws Error naming the field when an object is not a MachineConfig (no `metadata.name`,
 * a file without `path`, a unit without `name`, a field of the wrong type)
 */
export function mergeMachineConfigs(machineConfigs: any[], options: MergeMachineConfigsOptions = {}): MergedMachineConfigs {
  if (!Array.isArray(machineConfigs)) {
    throw new Day1ValidationError('machineConfigs', machineConfigs, 'must be a list of MachineConfig objects');
  }
  requireObject('options', options);
  const baseRole = options.baseRole === undefined ? WORKER_ROLE : checkLabelValue('options.baseRole', options.baseRole);
  const ordered = sortInMergeOrder(machineConfigs.map(parse), (mc) => mc.name, (mc) => mc.role, baseRole);
  const files = new Map<string, FileState>();
  const units = new Map<string, UnitState>();
  for (const mc of ordered) {
    for (const file of mc.files) mergeFile(files, mc.name, file);
    for (const unit of mc.units) mergeUnit(units, mc.name, unit);
  }
  const sources = new Sources();
  return {
    order: ordered.map((mc) => mc.name),
    files: [...files.values()].map((state) => mergedFile(state, sources)),
    units: [...units.values()].map(mergedUnit),
    conflicts: findConflicts(ordered, sources, files),
  };
}

/** Merges one MachineConfig's entry for a file into the state of its path, field by field. */
function mergeFile(files: Map<string, FileState>, machineConfigName: string, file: ParsedFile): void {
  let state = files.get(file.path);
  if (state === undefined) {
    state = { path: file.path, writers: [] };
    files.set(file.path, state);
  }
  addWriter(state.writers, machineConfigName);
  if (file.source !== undefined) {
    state.source = file.source;
    state.winner = machineConfigName;
  }
  if (file.compression !== undefined) state.compression = file.compression;
  if (file.mode !== undefined) state.mode = file.mode;
  if (file.overwrite !== undefined) state.overwrite = file.overwrite;
}

/** Merges one MachineConfig's entry for a unit into the state of its name, field by field, drop-ins by name. */
function mergeUnit(units: Map<string, UnitState>, machineConfigName: string, unit: ParsedUnit): void {
  let state = units.get(unit.name);
  if (state === undefined) {
    state = { name: unit.name, dropins: new Map(), machineConfigNames: [] };
    units.set(unit.name, state);
  }
  addWriter(state.machineConfigNames, machineConfigName);
  if (unit.enabled !== undefined) state.enabled = unit.enabled;
  if (unit.mask !== undefined) state.mask = unit.mask;
  if (unit.contents !== undefined) state.contents = unit.contents;
  for (const dropin of unit.dropins) {
    const existing = state.dropins.get(dropin.name);
    if (existing === undefined) state.dropins.set(dropin.name, { ...dropin });
    else if (dropin.contents !== undefined) existing.contents = dropin.contents;
  }
}

/** A file's merged state as the result reports it, its contents decoded. */
function mergedFile(state: FileState, sources: Sources): MergedFile {
  const contents = state.source === undefined ? undefined : sources.text(state.source, state.compression);
  return {
    path: state.path,
    ...(contents === undefined ? {} : { contents }),
    ...(state.source === undefined ? {} : { source: state.source }),
    ...(state.mode === undefined ? {} : { mode: state.mode }),
    overwrite: state.overwrite ?? true,
    machineConfigName: state.winner ?? state.writers[state.writers.length - 1],
    writers: state.writers,
  };
}

/** A unit's merged state as the result reports it. */
function mergedUnit(state: UnitState): MergedUnit {
  return {
    name: state.name,
    ...(state.enabled === undefined ? {} : { enabled: state.enabled }),
    ...(state.mask === undefined ? {} : { mask: state.mask }),
    ...(state.contents === undefined ? {} : { contents: state.contents }),
    dropins: [...state.dropins.values()].map((dropin) => (dropin.contents === undefined ? { name: dropin.name } : { ...dropin })),
    machineConfigNames: state.machineConfigNames,
  };
}

function isDay1(mc: Parsed): boolean {
  const replaceUnit = `${mc.name}${REPLACE_UNIT_SUFFIX}`;
  return mc.units.some((unit) => unit.name === replaceUnit && unit.contents !== undefined && SETS_MACHINE_CONFIG_NAME.test(unit.contents));
}

interface Breach {
  readonly kind: MachineConfigConflictKind;
  readonly subject: string;
  /** Completes "MachineConfig "<foreign>" ..." given the Day 1 MachineConfig it breaks. */
  readonly describe: (ours: string) => string;
}

function findConflicts(ordered: readonly Parsed[], sources: Sources, files: ReadonlyMap<string, FileState>): MachineConfigConflict[] {
  const ours = ordered.filter(isDay1);
  if (ours.length === 0) return [];
  const conflicts: MachineConfigConflict[] = [];
  for (const foreign of ordered) {
    if (ours.includes(foreign)) continue;
    const breaches: Breach[] = [];
    const seen = new Set<string>();
    for (const file of foreign.files) {
      if (!SCRIPT_PATH_SET.has(file.path) || file.source === undefined || seen.has(file.path)) continue;
      if (sources.isThisRelease(file.path, file.source, file.compression)) continue;
      seen.add(file.path);
      const winner = files.get(file.path)?.winner;
      breaches.push({
        kind: MachineConfigConflictKind.SCRIPT_CONTENTS,
        subject: file.path,
        describe: (day1) => `writes ${file.path} with other contents than the Day 1 scripts of MachineConfig "${day1}": a node runs one copy `
          + `of it, the one of the MachineConfig that comes last in the merge (here "${winner}"), and the units of both call it`,
      });
    }
    for (const unit of foreign.units) {
      if (unit.name !== CRIO_WIPE_UNIT || !(unit.enabled === true || unit.mask === false) || seen.has(unit.name)) continue;
      seen.add(unit.name);
      const what = unit.enabled === true ? (unit.mask === false ? 'enables and unmasks' : 'enables') : 'unmasks';
      breaches.push({
        kind: MachineConfigConflictKind.CRIO_WIPE_ENABLED,
        subject: unit.name,
        describe: (day1) => `${what} ${CRIO_WIPE_UNIT}, which MachineConfig "${day1}" disables and masks: it wipes container storage `
          + 'at boot, deleting the images the pull unit fetched, so the module never loads and every boot pulls and reboots again',
      });
    }
    for (const day1 of ours) {
      for (const breach of breaches) {
        conflicts.push({
          kind: breach.kind,
          machineConfigName: day1.name,
          foreignMachineConfigName: foreign.name,
          subject: breach.subject,
          message: `MachineConfig "${foreign.name}" ${breach.describe(day1.name)}`,
        });
      }
      for (const unitName of [`${day1.name}${REPLACE_UNIT_SUFFIX}`, `${day1.name}${PULL_UNIT_SUFFIX}`]) {
        if (!foreign.units.some((unit) => unit.name === unitName)) continue;
        conflicts.push({
          kind: MachineConfigConflictKind.UNIT_NAME,
          machineConfigName: day1.name,
          foreignMachineConfigName: foreign.name,
          subject: unitName,
          message: `MachineConfig "${foreign.name}" defines unit ${unitName}, a boot unit of Day 1 MachineConfig "${day1.name}": `
            + 'units are merged by name, so the node runs one unit made of the fields of both',
        });
      }
    }
  }
  return conflicts;
}

/**
 * A pool's MachineConfigs merged as the Machine Config Operator merges them, for every jsii
 * language (`mergeMachineConfigs` is the same code for TypeScript and JavaScript).
 */
export class MachineConfigMerge {
  /**
   * Merges a pool's MachineConfigs as the MCO does and reports every conflict between a
   * foreign MachineConfig and a Day 1 MachineConfig of the list.
   *
   * The order is that of the MCO: base-role ones first, then the rest, each group by name,
   * files merged by path and units by name, field by field.
   *
   * @param machineConfigs the pool's MachineConfig objects (parsed YAML or `ApiObject.toJson()`)
   * @throws Error naming the field when an object is not a MachineConfig
   */
  public static merge(machineConfigs: any[], options?: MergeMachineConfigsOptions): MergedMachineConfigs {
    return mergeMachineConfigs(machineConfigs, options);
  }

  private constructor() {}
}

/**
 * Whether `machineConfig` is a Day 1 MachineConfig of this library (any release): the rule
 * `mergeMachineConfigs` uses for "ours". Not for the package root: the constructs use it to
 * find Day 1 MachineConfigs a user added as plain objects.
 */
export function isDay1MachineConfig(machineConfig: unknown): boolean {
  try {
    return isDay1(parse(machineConfig, 0));
  } catch {
    return false;
  }
}
