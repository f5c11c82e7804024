import { availableParallelism, cpus, loadavg } from 'os';
import { join } from 'path';
import { AIM_RATIO, benchCliStartup, CliStartupFigures, DEFAULT_RUNS, TARGET_RATIO } from './cli';
import { benchRequire, importLineCounts } from './require';
import { AIM_SECONDS, benchSynth, LARGE, SMALL, SynthFigures, TARGET_GROWTH, TARGET_SECONDS } from './synth';
import { produceMachineConfig } from '../lib';
import { REFERENCE_OPTIONS } from '../test/util/reference';

/*
 * The benchmark table of docs/benchmarks.md: CLI start-up, the import time of the package,
 * synthesis at fleet scale and the size of the reference MachineConfig. Figures are reported with a verdict against the
 * targets, never turned into a failure: a shared or slow machine must not break the build,
 * and a regression shows up in the table that docs/benchmarks.md keeps.
 */

interface Row {
  readonly measure: string;
  readonly figure: string;
  readonly spread: string;
  readonly target: string;
  readonly verdict: string;
}

function verdict(value: number, target: number, aim?: number): string {
  if (aim !== undefined && value <= aim) return 'within aim';
  if (value <= target) return aim === undefined ? 'within target' : 'within target, above aim';
  return 'ABOVE TARGET';
}

function seconds(value: number): string {
  return `${value.toFixed(3)} s`;
}

function range(samples: readonly number[], format: (n: number) => string): string {
  return samples.length < 2 ? '1 run' : `${format(Math.min(...samples))} – ${format(Math.max(...samples))}`;
}

function cliRows(figures: CliStartupFigures): Row[] {
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  return [
    { measure: 'node -e \'\' (median)', figure: ms(figures.nodeMedianMs), spread: range(figures.nodeSamplesMs, ms), target: '', verdict: '' },
    { measure: 'day1-utility, reference flags (median)', figure: ms(figures.cliMedianMs), spread: range(figures.cliSamplesMs, ms), target: '', verdict: '' },
    {
      measure: `CLI start-up ratio (${figures.runs} alternating runs each)`,
      figure: figures.ratio.toFixed(2),
      spread: '',
      target: `≤ ${TARGET_RATIO} (aim ${AIM_RATIO})`,
      verdict: verdict(figures.ratio, TARGET_RATIO, AIM_RATIO),
    },
    ...figures.extra.map((command) => ({
      measure: `${command.label} (median; ratio to node ${command.ratio.toFixed(2)})`,
      figure: ms(command.medianMs),
      spread: range(command.samplesMs, ms),
      target: '',
      verdict: '',
    })),
  ];
}

/** The package's import time in a fresh process (bench/require.ts), and the size of the bindings it loads. */
function requireRows(): Row[] {
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const [, series] = benchRequire([join(__dirname, '..')]);
  const sorted = [...series.requireMs].sort((a, b) => a - b);
  const lines = importLineCounts().reduce((sum, { lines: n }) => sum + n, 0);
  return [
    {
      measure: `require('cdk8s-kmm-day1') in a fresh process, the require alone (median of ${sorted.length})`,
      figure: ms(sorted[Math.floor(sorted.length / 2)]),
      spread: range(sorted, ms),
      target: '',
      verdict: '',
    },
    { measure: 'generated bindings (src/imports/*.ts)', figure: `${lines} lines`, spread: '', target: '', verdict: '' },
  ];
}

function synthRow(figures: SynthFigures, target: boolean): Row {
  return {
    measure: `synth ${figures.modules} modules / ${figures.pools} pools, ${figures.layout} (${figures.objects} objects, median of ${figures.runs})`,
    figure: seconds(figures.medianSeconds),
    spread: range(figures.samplesSeconds, seconds),
    target: target ? `≤ ${TARGET_SECONDS} s (aim ${AIM_SECONDS} s)` : '',
    verdict: target ? verdict(figures.medianSeconds, TARGET_SECONDS, AIM_SECONDS) : '',
  };
}

function table(rows: Row[]): string {
  const header: Row = { measure: 'measure', figure: 'figure', spread: 'range', target: 'target', verdict: 'verdict' };
  const keys = Object.keys(header) as Array<keyof Row>;
  const widths = keys.map((key) => Math.max(...[header, ...rows].map((row) => row[key].length)));
  const line = (row: Row) => `| ${keys.map((key, i) => row[key].padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

function main(): void {
  const started = Date.now();
  const load = loadavg().map((n) => n.toFixed(2)).join(' ');
  const rows: Row[] = [...cliRows(benchCliStartup(DEFAULT_RUNS)), ...requireRows()];

  const small = benchSynth(SMALL, 9);
  const large = benchSynth(LARGE, 5);
  const growth = large.medianSeconds / small.medianSeconds;
  rows.push(synthRow(small, false), synthRow(large, true), {
    measure: `growth ${SMALL.modules} → ${LARGE.modules} modules`,
    figure: `${growth.toFixed(1)}×`,
    spread: '',
    target: `≤ ${TARGET_GROWTH}×`,
    verdict: verdict(growth, TARGET_GROWTH),
  });
  // One sample each: the point is what a layout with cross-chart dependencies costs.
  for (const layout of ['numbered-stages', 'chart-per-pool'] as const) {
    rows.push(synthRow(benchSynth({ ...LARGE, layout }, 1, 0), true));
  }

  const bytes = Buffer.byteLength(produceMachineConfig(REFERENCE_OPTIONS), 'utf8');
  rows.push({ measure: 'MachineConfig of the reference case (test/util/reference.ts)', figure: `${bytes} bytes`, spread: '', target: '', verdict: '' });

  process.stdout.write(`${table(rows)}\n\n`
    + `${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), node ${process.version}, `
    + `load average ${load} at the start; ${((Date.now() - started) / 1000).toFixed(0)} s in all\n`);
}

main();
