import { dataUrl } from './data-url';

/*
 * The subset of the Ignition 3.2.0 config that a Day 1 MachineConfig uses. Field names are
 * Ignition's own; objects are built with a fixed key order so serialisation is deterministic.
 */

/** Ignition spec version of every config we emit; the Machine Config Operator accepts it on every supported release. */
export const IGNITION_VERSION = '3.2.0';

/** The `ignition` section of an Ignition config. */
export interface IgnitionMetadata {
  /** Ignition spec version. */
  readonly version: string;
}

/** A user or group reference in an Ignition file entry. */
export interface IgnitionNodeOwner {
  /** User or group name on the node. */
  readonly name: string;
}

/** The contents of an Ignition file entry. */
export interface IgnitionFileContents {
  /** A `data:` URL holding the file's bytes, base64-encoded. */
  readonly source: string;
}

/** A file Ignition writes on the node. */
export interface IgnitionFile {
  /** Absolute path on the node. */
  readonly path: string;
  /** Permission bits, as a decimal number (0755 is 493). */
  readonly mode: number;
  /** Replace the file if it exists. */
  readonly overwrite: boolean;
  /** Owning user. */
  readonly user: IgnitionNodeOwner;
  /** Owning group. */
  readonly group: IgnitionNodeOwner;
  /** The file's bytes. */
  readonly contents: IgnitionFileContents;
}

/** A systemd unit Ignition installs, enables, disables or masks. */
export interface IgnitionUnit {
  /** Unit name, e.g. `crio-wipe.service`. */
  readonly name: string;
  /**
   * Whether the unit is enabled.
   * @default - left as the unit's presets say
   */
  readonly enabled?: boolean;
  /**
   * Whether the unit is masked.
   * @default false
   */
  readonly mask?: boolean;
  /**
   * Unit file contents.
   * @default - the unit file is not written
   */
  readonly contents?: string;
}

/** The `storage` section of an Ignition config. */
export interface IgnitionStorage {
  /** Files to write. */
  readonly files: IgnitionFile[];
}

/** The `systemd` section of an Ignition config. */
export interface IgnitionSystemd {
  /** Units to install or change. */
  readonly units: IgnitionUnit[];
}

/** An Ignition config as embedded in a MachineConfig's `spec.config`. */
export interface IgnitionConfig {
  /** Spec version. */
  readonly ignition: IgnitionMetadata;
  /** Files. */
  readonly storage: IgnitionStorage;
  /** systemd units. */
  readonly systemd: IgnitionSystemd;
}

/** A root-owned file with the given permission bits. */
export function rootOwnedFile(path: string, contents: string, mode: number): IgnitionFile {
  return {
    path,
    mode,
    overwrite: true,
    user: { name: 'root' },
    group: { name: 'root' },
    contents: { source: dataUrl(contents) },
  };
}

/** An Ignition config of our subset, spec version 3.2.0. */
export function ignitionConfig(files: IgnitionFile[], units: IgnitionUnit[]): IgnitionConfig {
  return {
    ignition: { version: IGNITION_VERSION },
    storage: { files },
    systemd: { units },
  };
}
