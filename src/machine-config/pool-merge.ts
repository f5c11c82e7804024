import { findConflicts, MachineConfigConflict, Sources } from './day1-conflicts';
import { parse, ParsedFile, ParsedUnit } from './parse';
import { sortInMergeOrder, WORKER_ROLE } from './topology';
import { checkLabelValue, Day1ValidationError, requireObject } from '../validation';

/*
 * The pool as the Machine Config Operator renders it. A node runs one copy of each file path
 * and one unit of each name, whichever MachineConfig wrote them last in the MCO's merge order,
 * so whether every Day 1 module of a pool still loads depends on the whole pool, not on each
 * MachineConfig alone. This is the model the constructs check at synthesis and the tests
 * build the pools they boot from. The order comes from topology.ts, the reading of each
 * MachineConfig from parse.ts, and what counts as a conflict from day1-conflicts.ts.
 */


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
    conflicts: findConflicts(ordered, sources, (path) => files.get(path)?.winner),
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
