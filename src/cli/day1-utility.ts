#!/usr/bin/env node
import { readFileSync, writeSync } from 'fs';
import { join } from 'path';
import { parseArguments, UsageError } from './arguments';
import type * as CheckImages from './check-images/command';
import { CHECK_IMAGES_SUBCOMMAND, FLAGS, flagForField, PROGRAM, usage } from './flags';
// Deep imports on purpose: the package index also loads cdk8s and constructs, which would
// multiply start-up time for nothing the CLI uses.
import type * as Generator from '../machine-config/generator';
import { Day1ValidationError, problemLine, ValidationProblem } from '../validation/error';

/** Where main writes; the process streams unless a caller captures the output. */
export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const EXIT_OK = 0;
export const EXIT_INVALID_VALUE = 1;
export const EXIT_USAGE = 2;

/** Raised when the reader of standard output has gone away (`| head`). */
class ClosedOutputError extends Error {}

/**
 * Writes straight to the file descriptor: creating `process.stdout` costs milliseconds of
 * stream set-up per run, and a synchronous write has nothing left to flush when main returns.
 */
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        // A non-blocking descriptor inherited from the parent: wait briefly for room in the pipe.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      if (code === 'EPIPE') {
        throw new ClosedOutputError();
      }
      throw error;
    }
  }
}

export const processOutput: CliOutput = {
  stdout: (text) => writeAll(1, text),
  stderr: (text) => writeAll(2, text),
};

/** Read only for --version; package.json sits two levels above lib/cli (and src/cli). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string') {
    throw new Error('package.json has no version');
  }
  return manifest.version;
}

/** `inTreeModulesToRemove[1]` → `--in-tree-modules-to-remove item 2`: users count the comma-separated items from 1. */
function flagReference(field: string): string | undefined {
  const match = /^([A-Za-z]+)(?:\[(\d+)\])?$/.exec(field);
  const flag = match ? flagForField(match[1]) : undefined;
  if (!match || !flag) {
    return undefined;
  }
  return match[2] === undefined ? `--${flag.name}` : `--${flag.name} item ${Number(match[2]) + 1}`;
}

/** Where the flag of an option field comes in --help; fields without a flag last. */
function flagRank(field: string): number {
  const index = FLAGS.findIndex((flag) => flag.field === /^[A-Za-z]*/.exec(field)![0]);
  return index < 0 ? FLAGS.length : index;
}

const FIELD_MENTION = new RegExp(`\\b(?:${FLAGS.map((flag) => flag.field).join('|')})(?:\\[\\d+\\])?`, 'g');

/**
 * One validation problem as a line of the CLI: option fields replaced by the flags the user
 * typed. The shown value (user text) is kept verbatim; only the field and the rule are rewritten.
 */
export function describeProblem(problem: ValidationProblem): string {
  const flag = flagReference(problem.field);
  if (flag === undefined) {
    return problemLine(problem);
  }
  const rule = problem.rule.replace(FIELD_MENTION, (mention) => flagReference(mention) ?? mention);
  return problemLine({ ...problem, field: flag, rule });
}

/**
 * Runs day1-utility with the arguments after the program name and returns the exit status.
 * Standard output is written once, after the YAML is complete, so a failure never leaves a
 * partial MachineConfig behind in a pipe or file.
 */
export function main(argv: readonly string[], output: CliOutput = processOutput): number {
  try {
    output.stdout(run(argv));
    return EXIT_OK;
  } catch (error) {
    if (error instanceof ClosedOutputError) {
      // Like a Go program killed by SIGPIPE: nothing more to say, and not a success.
      return EXIT_INVALID_VALUE;
    }
    const [status, message] = failure(error);
    try {
      output.stderr(message);
    } catch {
      // Standard error is gone too: the exit status is all that is left.
    }
    return status;
  }
}

/** The whole standard output of a successful run. */
function run(argv: readonly string[]): string {
  const command = parseArguments(argv);
  switch (command.action) {
    case 'help':
      return usage();
    case 'version':
      return `${packageVersion()}\n`;
    default: {
      // The generator brings js-yaml and the boot scripts; help and usage errors need neither.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const generator = require('../machine-config/generator') as typeof Generator;
      return generator.produceMachineConfig(command.options);
    }
  }
}

function failure(error: unknown): [number, string] {
  if (error instanceof UsageError) {
    return [EXIT_USAGE, `${PROGRAM}: ${error.message}\nRun '${PROGRAM} --help' for usage.\n`];
  }
  if (error instanceof Day1ValidationError) {
    // Every problem, one line each, in the order --help lists the flags (then item order).
    const lines = [...error.problems]
      .map((problem, seq) => ({ problem, seq, rank: flagRank(problem.field) }))
      .sort((a, b) => a.rank - b.rank || a.seq - b.seq)
      .map(({ problem }) => `${PROGRAM}: ${describeProblem(problem)}\n`);
    return [EXIT_INVALID_VALUE, lines.join('')];
  }
  // A bug, not a user mistake: the message is enough to report it, a stack trace only scares.
  const message = error instanceof Error ? error.message : String(error);
  return [EXIT_INVALID_VALUE, `${PROGRAM}: internal error: ${message}\n`];
}

if (require.main === module) {
  // Node >= 22.1 can keep compiled code between runs (as tsc does); most of a run is compiling
  // the generator and js-yaml. Older Node lacks the function, and NODE_DISABLE_COMPILE_CACHE opts out.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('module') as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  const argv = process.argv.slice(2);
  if (argv[0] === CHECK_IMAGES_SUBCOMMAND) {
    // The registry client and the input readers load only for the subcommand.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { checkImages } = require('./check-images/command') as typeof CheckImages;
    void checkImages(argv.slice(1), processOutput).then((status) => {
      process.exitCode = status;
    });
  } else {
    process.exitCode = main(argv);
  }
}
