import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';
import { REFERENCE_ARGS } from '../test/util/reference';

/*
 * day1-utility start-up against a bare `node -e ''`. Both are spawned the same way and
 * alternately, so machine noise (CPU frequency, page cache, other jobs) hits both series
 * alike; medians ignore the occasional outlier. The ratio is what we track: absolute
 * milliseconds depend on the machine, the overhead over node itself does not.
 */

const ROOT = join(__dirname, '..');
export const CLI_PATH = join(ROOT, 'lib', 'cli', 'day1-utility.js');


export const DEFAULT_RUNS = 21;
export const MIN_RUNS = 15;
export const TARGET_RATIO = 1.5;
export const AIM_RATIO = 1.2;

export interface CliStartupFigures {
  /** Runs of each command (the warm-up run is not counted). */
  readonly runs: number;
  readonly cliMedianMs: number;
  readonly nodeMedianMs: number;
  /** cliMedianMs / nodeMedianMs. */
  readonly ratio: number;
  readonly cliSamplesMs: readonly number[];
  readonly nodeSamplesMs: readonly number[];
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
  const cliArgs = [CLI_PATH, ...REFERENCE_ARGS];
  const nodeArgs = ['-e', ''];
  timeSpawn(cliArgs);
  timeSpawn(nodeArgs);
  const cliSamplesMs: number[] = [];
  const nodeSamplesMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first so neither always benefits from the other's warm caches.
    if (i % 2 === 0) {
      cliSamplesMs.push(timeSpawn(cliArgs));
      nodeSamplesMs.push(timeSpawn(nodeArgs));
    } else {
      nodeSamplesMs.push(timeSpawn(nodeArgs));
      cliSamplesMs.push(timeSpawn(cliArgs));
    }
  }
  const cliMedianMs = median(cliSamplesMs);
  const nodeMedianMs = median(nodeSamplesMs);
  return { runs, cliMedianMs, nodeMedianMs, ratio: cliMedianMs / nodeMedianMs, cliSamplesMs, nodeSamplesMs };
}

/** A small Markdown table of the figures; the verdict is informative, never a failure. */
export function formatCliStartup(figures: CliStartupFigures): string {
  const verdict = figures.ratio <= AIM_RATIO ? 'within aim' : figures.ratio <= TARGET_RATIO ? 'within target, above aim' : 'ABOVE TARGET';
  const rows: Array<[string, string]> = [
    ["node -e ''", `${figures.nodeMedianMs.toFixed(1)} ms`],
    ['day1-utility (reference arguments)', `${figures.cliMedianMs.toFixed(1)} ms`],
    [`ratio (target ≤ ${TARGET_RATIO}, aim ${AIM_RATIO})`, `${figures.ratio.toFixed(2)} (${verdict})`],
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
