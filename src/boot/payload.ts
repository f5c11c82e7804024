import { BootFile, bootScripts, SCRIPT_MODE } from './scripts';
import { CRIO_WIPE_UNIT, pullUnit, replaceUnit, UnitValues } from './units';

/*
 * Everything one Day 1 MachineConfig puts on a node: the three shared scripts with their mode,
 * its two units, and the mask of crio-wipe.service. The machine-config layer only encodes it.
 */

/** A file the node gets, with its permission bits. */
export interface NodeFile extends BootFile {
  readonly mode: number;
}

/** A unit the node gets: installed and enabled (`contents`), or only disabled and masked. */
export interface NodeUnit {
  readonly name: string;
  readonly enabled: boolean;
  readonly mask?: boolean;
  readonly contents?: string;
}

/** What the node runs for one Day 1 MachineConfig. */
export interface BootPayload {
  readonly files: NodeFile[];
  readonly units: NodeUnit[];
}

/**
 * The node side of one Day 1 MachineConfig. crio-wipe.service is disabled and masked: it wipes
 * container storage at boot, which would delete the images the pull unit fetched.
 */
export function bootPayload(values: UnitValues): BootPayload {
  return {
    files: bootScripts().map((script) => ({ ...script, mode: SCRIPT_MODE })),
    units: [
      ...[replaceUnit(values), pullUnit(values)].map((unit) => ({ name: unit.name, enabled: true, contents: unit.contents })),
      { name: CRIO_WIPE_UNIT, enabled: false, mask: true },
    ],
  };
}
