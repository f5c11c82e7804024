import { spawnSync, SpawnSyncOptions } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { main } from '../../src/cli/day1-utility';

/*
 * The CLI is tested in two ways: in-process through `main` (the parser, the messages, the exit
 * statuses: fast, and the bulk of the suite), and as users run it, the compiled file under
 * lib/ in a fresh node process, for what only a process shows (exit codes, what reaches which
 * stream, start-up, the modules it loads).
 */

export const ROOT = join(__dirname, '..', '..');
export const CLI = join(ROOT, 'lib', 'cli', 'day1-utility.js');

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function requireBuiltCli(): void {
  if (!existsSync(CLI) || !existsSync(join(ROOT, 'lib', 'boot', 'replace-kernel-module.sh'))) {
    throw new Error(`${CLI} is not built: run \`npx projen compile && npx projen post-compile\` before the CLI tests`);
  }
}

/** What the CLI runs from src/, and is compiled or copied to lib/. */
const CLI_SOURCES = ['boot', 'cli', 'cli/check-images', 'ignition', 'machine-config', 'registry', 'validation'];

/**
 * Files of lib/ that are older than their source: the CLI then prints what an earlier src/
 * produced, and a byte comparison with src/ fails for a reason that has nothing to do with it.
 */
export function staleLibFiles(): string[] {
  const stale: string[] = [];
  for (const dir of CLI_SOURCES) {
    for (const name of readdirSync(join(ROOT, 'src', dir))) {
      const source = join(ROOT, 'src', dir, name);
      if (name.endsWith('.sh')) {
        const copy = join(ROOT, 'lib', dir, name);
        if (!existsSync(copy) || !readFileSync(copy).equals(readFileSync(source))) {
          stale.push(`lib/${dir}/${name}`);
        }
      } else if (name.endsWith('.ts')) {
        const compiled = join(ROOT, 'lib', dir, name.replace(/\.ts$/, '.js'));
        if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs) {
          stale.push(`lib/${dir}/${name.replace(/\.ts$/, '.js')}`);
        }
      }
    }
  }
  return stale;
}

/** `main(args)` in this process, its output captured, as `runCli` would report it. */
export function runMain(args: readonly string[]): CliResult {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = main(args, { stdout: (text) => stdout.push(text), stderr: (text) => stderr.push(text) });
  return { status, stdout: stdout.join(''), stderr: stderr.join('') };
}

/** `node <args>` from the repository root. */
export function runNode(args: readonly string[], options: SpawnSyncOptions = {}): CliResult {
  requireBuiltCli();
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', ...options });
  if (result.error) {
    throw result.error;
  }
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** `node [nodeArgs] lib/cli/day1-utility.js <args>`. */
export function runCli(args: readonly string[], nodeArgs: readonly string[] = []): CliResult {
  return runNode([...nodeArgs, CLI, ...args]);
}

/** Runs the CLI with a --require hook that records every loaded module when the process exits. */
export function loadedModules(args: readonly string[]): { result: CliResult; modules: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'day1-cli-'));
  try {
    const hook = join(dir, 'hook.js');
    const out = join(dir, 'modules.json');
    writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));\n`);
    const result = runCli(args, ['--require', hook]);
    return { result, modules: (JSON.parse(readFileSync(out, 'utf8')) as string[]).filter((m) => m !== hook) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}


export type FlagForm = '-f v' | '-f=v' | '--f v' | '--f=v';
export const FLAG_FORMS: readonly FlagForm[] = ['-f v', '-f=v', '--f v', '--f=v'];

/** One flag with its value, written in the given form. */
export function flag(name: string, value: string, form: FlagForm = '--f v'): string[] {
  switch (form) {
    case '-f v':
      return [`-${name}`, value];
    case '-f=v':
      return [`-${name}=${value}`];
    case '--f v':
      return [`--${name}`, value];
    case '--f=v':
      return [`--${name}=${value}`];
  }
}

/** Flags from name/value pairs, all in one form. */
export function flags(pairs: ReadonlyArray<readonly [string, string]>, form: FlagForm = '--f v'): string[] {
  return pairs.flatMap(([name, value]) => flag(name, value, form));
}
