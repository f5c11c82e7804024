import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';
import { REFERENCE_ARGS } from '../test/util/reference';

/*
 * day1-utility start-up against a bare `node -e ''`, with the reference arguments, and also for
 * `--help` and `check-images --help` (the subcommand's modules must cost the top-level path
 * nothing, and its own start-up stays visible). All are spawned the same way and in rotation,
 * so machine noise (CPU frequency, page cache, other jobs) hits every series alike; medians
 * ignore the occasional outlier. The ratio is what we track: absolute
 * milliseconds depend on the machine, the overhead over node itself does not.
 */

const ROOT = join(__dirname, '..');
export const CLI_PATH = join(ROOT, 'lib', 'cli', 'day1-utility.js');


export const DEFAULT_RUNS = 21;
export const MIN_RUNS = 15;
export const TARGET_RATIO = 1.5;
export const AIM_RATIO = 1.2;

/** Further commands timed in the same alternation: the top-level help, and the subcommand's. */
export const EXTRA_COMMANDS: ReadonlyArray<{ readonly label: string; readonly args: readonly string[] }> = [
  { label: 'day1-utility --help', args: ['--help'] },
  { label: 'day1-utility check-images --help', args: ['check-images', '--help'] },
];

/** One extra command's figures. */
export interface CommandFigures {
  readonly label: string;
  readonly medianMs: number;
  /** medianMs / the node median. */
  readonly ratio: number;
  readonly samplesMs: readonly number[];
}

export interface CliStartupFigures {
  /** Runs of each command (the warm-up run is not counted). */
  readonly runs: number;
  readonly cliMedianMs: number;
  readonly nodeMedianMs: number;
  /** cliMedianMs / nodeMedianMs. */
  readonly ratio: number;
  readonly cliSamplesMs: readonly number[];
  readonly nodeSamplesMs: readonly number[];
  /** EXTRA_COMMANDS, in order. */
  readonly extra: readonly CommandFigures[];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function timeSpawn(args: readonly string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error || result.status !== 0) {
    // A broken CLI would make the figures meaningless, not slow.
    throw new Error(`node ${args.join(' ')} failed (status ${result.status}): ${result.error?.message ?? result.stderr.toString()}`);
  }
  return elapsed;
}

/**
 * Spawns the built CLI with the reference arguments and `node -e ''` alternately, `runs`
 * times each after one warm-up run of each, and returns the medians.
 *
 * @throws Error when lib/cli is not built or the CLI fails
 */
export function benchCliStartup(runs: number = DEFAULT_RUNS): CliStartupFigures {
  if (!Number.isInteger(runs) || runs < MIN_RUNS) {
    throw new Error(`runs must be an integer of at least ${MIN_RUNS}, got ${runs}`);
  }
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: run \`npx projen compile && npx projen post-compile\` first`);
  }
  // Index 0: node itself; 1: the reference arguments; then EXTRA_COMMANDS.
  const commands = [['-e', ''], [CLI_PATH, ...REFERENCE_ARGS], ...EXTRA_COMMANDS.map((command) => [CLI_PATH, ...command.args])];
  commands.forEach((args) => timeSpawn(args));
  const samples: number[][] = commands.map(() => []);
  for (let i = 0; i < runs; i++) {
    // Rotate which goes first so that none always benefits from the others' warm caches.
    for (let j = 0; j < commands.length; j++) {
      const k = (i + j) % commands.length;
      samples[k].push(timeSpawn(commands[k]));
    }
  }
  const [nodeSamplesMs, cliSamplesMs, ...extraSamples] = samples;
  const cliMedianMs = median(cliSamplesMs);
  const nodeMedianMs = median(nodeSamplesMs);
  const extra = EXTRA_COMMANDS.map(({ label }, i) => ({
    label, medianMs: median(extraSamples[i]), ratio: median(extraSamples[i]) / nodeMedianMs, samplesMs: extraSamples[i],
  }));
  return { runs, cliMedianMs, nodeMedianMs, ratio: cliMedianMs / nodeMedianMs, cliSamplesMs, nodeSamplesMs, extra };
}

/** A small Markdown table of the figures; the verdict is informative, never a failure. */
export function formatCliStartup(figures: CliStartupFigures): string {
  const verdict = figures.ratio <= AIM_RATIO ? 'within aim' : figures.ratio <= TARGET_RATIO ? 'within target, above aim' : 'ABOVE TARGET';
  const rows: Array<[string, string]> = [
    ["node -e ''", `${figures.nodeMedianMs.toFixed(1)} ms`],
    ['day1-utility (reference arguments)', `${figures.cliMedianMs.toFixed(1)} ms`],
    [`ratio (target ≤ ${TARGET_RATIO}, aim ${AIM_RATIO})`, `${figures.ratio.toFixed(2)} (${verdict})`],
    ...figures.extra.map((command): [string, string] => [command.label, `${command.medianMs.toFixed(1)} ms (ratio ${command.ratio.toFixed(2)})`]),
  ];
  const width = Math.max(...rows.map(([label]) => label.length), 'CLI start-up'.length);
  const valueWidth = Math.max(...rows.map(([, value]) => value.length), `median of ${figures.runs} runs`.length);
  const line = (a: string, b: string) => `| ${a.padEnd(width)} | ${b.padStart(valueWidth)} |`;
  return [
    line('CLI start-up', `median of ${figures.runs} runs`),
    `| ${'-'.repeat(width)} | ${'-'.repeat(valueWidth - 1)}: |`,
    ...rows.map(([label, value]) => line(label, value)),
  ].join('\n');
}

if (require.main === module) {
  const requested = process.argv[2] === undefined ? DEFAULT_RUNS : Number(process.argv[2]);
  process.stdout.write(`${formatCliStartup(benchCliStartup(requested))}\n`);
}
