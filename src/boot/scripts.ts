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

/*
 * A block of lines that several scripts share byte for byte is kept once, in
 * `fragments/<name>.sh` next to them, and each script's source holds the marker line
 * `# @fragment <name>` (indentation and a trailing remark allowed) where the block goes.
 * bootScripts() inlines the fragments, so each file on the node stays self-contained; a
 * fragment is inlined verbatim, without markers of its own, and may close a block that the
 * lines before its marker opened.
 */
const FRAGMENT_MARKER = /^[ \t]*# @fragment\b(.*)$/;
const FRAGMENT_NAME = /^ ([a-z0-9][a-z0-9-]*)(?: .*)?$/;

/** The file of fragment `name`, relative to the scripts' directory. */
export function fragmentFile(name: string): string {
  return join('fragments', `${name}.sh`);
}

/**
 * A script's source with every marker line replaced by its fragment. `fragment` returns a
 * fragment's text, or undefined when there is none; `where` names the source in errors.
 */
export function assembleScript(source: string, fragment: (name: string) => string | undefined, where: string): string {
  return source.split('\n').map((line, index) => {
    const marker = FRAGMENT_MARKER.exec(line);
    if (marker === null) return line;
    const at = `${where} line ${index + 1}`;
    const name = FRAGMENT_NAME.exec(marker[1])?.[1];
    if (name === undefined) throw new Error(`${at}: "${line.trim()}" must be "# @fragment <name>", the name in [a-z0-9-]`);
    const text = fragment(name);
    if (text === undefined) throw new Error(`${at}: fragment "${name}" does not exist (no ${fragmentFile(name)})`);
    if (!text.endsWith('\n') || text.split('\n').some((l) => FRAGMENT_MARKER.test(l))) {
      throw new Error(`${at}: ${fragmentFile(name)} must end with a newline and hold no marker`);
    }
    return text.slice(0, -1);
  }).join('\n');
}

/** The text of a file in `dir`, or undefined when it does not exist. */
function readIfExists(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Script `file` of `dir` (default: next to this module) with its fragments inlined. */
export function assembledScript(file: string, dir: string = __dirname): string {
  return assembleScript(readFileSync(join(dir, file), 'utf8'), (name) => readIfExists(dir, fragmentFile(name)), join(dir, file));
}

let scriptsCache: BootFile[] | undefined;

/**
 * The scripts, assembled once per process from the files next to this module (`src/boot` or
 * `lib/boot`, each with its `fragments/`).
 */
export function bootScripts(): BootFile[] {
  scriptsCache ??= SCRIPT_PATHS.map((path) => ({
    path,
    contents: assembledScript(path.slice(path.lastIndexOf('/') + 1)),
  }));
  return scriptsCache;
}
