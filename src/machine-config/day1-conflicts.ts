import { bootScriptFiles } from './generator';
import { parse, Parsed } from './parse';
import { CRIO_WIPE_UNIT, PULL_UNIT_SUFFIX, REPLACE_UNIT_SUFFIX, SCRIPT_PATHS } from '../boot';
import { decodeDataUrl } from '../ignition';

/*
 * Day 1 policy over a merged pool: which MachineConfigs are Day 1 ones of this library (any
 * release), which scripts are this release's, and what a foreign MachineConfig does that breaks
 * a Day 1 one of its pool. The merge itself (MCO semantics) is pool-merge.ts.
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

/**
 * An `Environment=` line that assigns MACHINE_CONFIG_NAME: every release of our replace unit
 * has one, the KMM operator's and day1-utility's units never do.
 */
const SETS_MACHINE_CONFIG_NAME = /^[ \t]*Environment[ \t]*=(?:.*[\s"'])?MACHINE_CONFIG_NAME=/m;
const SCRIPT_PATH_SET: ReadonlySet<string> = new Set(SCRIPT_PATHS);

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
export class Sources {
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

/**
 * Every conflict between a foreign MachineConfig and a Day 1 one of the list (`ordered`, in merge
 * order); `winnerOf` names the MachineConfig whose contents of a path land on the node.
 */
export function findConflicts(ordered: readonly Parsed[], sources: Sources, winnerOf: (path: string) => string | undefined): MachineConfigConflict[] {
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
      const winner = winnerOf(file.path);
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
