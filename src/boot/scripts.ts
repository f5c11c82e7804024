import { readFileSync } from 'fs';
import { join } from 'path';

/*
 * The three scripts every Day 1 MachineConfig installs, shared by all of them (identical bytes,
 * so that several merge cleanly in one pool). Their paths are a contract with the KMM operator,
 * whose node disruption policies name exactly these files.
 */

/** A file installed on the node. */
export interface BootFile {
  readonly path: string;
  readonly contents: string;
}

/** Loads the module at boot, before the network (called by the replace units). */
export const REPLACE_SCRIPT_PATH = '/usr/local/bin/replace-kernel-module.sh';
/** Pulls the images once the network is up, and reboots (called by the pull units). */
export const PULL_SCRIPT_PATH = '/usr/local/bin/pull-kernel-module-image.sh';
/** Waits for NetworkManager's dispatcher before a pull (the pull units' ExecStartPre). */
export const WAIT_SCRIPT_PATH = '/usr/local/bin/wait-for-dispatcher.sh';
/** Every script path, in the order the MachineConfig lists the files. */
export const SCRIPT_PATHS = [REPLACE_SCRIPT_PATH, PULL_SCRIPT_PATH, WAIT_SCRIPT_PATH] as const;

/** Scripts run as root at boot: writable by root only. */
export const SCRIPT_MODE = 0o755;

let scriptsCache: BootFile[] | undefined;

/** The scripts, read once per process from the files next to this module (`src/boot` or `lib/boot`). */
export function bootScripts(): BootFile[] {
  scriptsCache ??= SCRIPT_PATHS.map((path) => ({
    path,
    contents: readFileSync(join(__dirname, path.slice(path.lastIndexOf('/') + 1)), 'utf8'),
  }));
  return scriptsCache;
}
