import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Chart } from 'cdk8s';
import { Day1KernelModule, KmmMachineConfigPool } from '../lib';

/*
 * Synthesis at fleet scale: one cdk8s app with N Day1KernelModules spread evenly over P
 * KmmMachineConfigPools, every module with its health check. What is timed is what
 * `cdk8s synth` spends inside the app: building the constructs and `app.synth()` writing the
 * files (the process start and the TypeScript compilation of main.ts are the CLI's and
 * ts-node's, not ours). The built library in lib/ is measured, as users run it.
 *
 * Three layouts: `stages` (a chart of pools and a chart of Day 1 modules, ordered by sync
 * waves), `numbered-stages` (the same with `day1.addDependency(pools)`, as
 * examples/ice-nic-driver does to number its folders for Flux) and `chart-per-pool` (a pool and
 * its modules per chart). cdk8s resolves a dependency across charts by linking every object of
 * one chart to every object of the other and checking each link for cycles, so the layout
 * matters; the constructs themselves add no cross-chart dependency.
 */

export type SynthLayout = 'stages' | 'numbered-stages' | 'chart-per-pool';

export interface SynthScale {
  readonly modules: number;
  readonly pools: number;
  readonly layout: SynthLayout;
}

export interface SynthFigures extends SynthScale {
  readonly runs: number;
  readonly medianSeconds: number;
  readonly samplesSeconds: readonly number[];
  /** Objects in the synthesized files (pools, MachineConfigs, health checks, namespace). */
  readonly objects: number;
}

export const SMALL: SynthScale = { modules: 100, pools: 5, layout: 'stages' };
export const LARGE: SynthScale = { modules: 1000, pools: 50, layout: 'stages' };
export const TARGET_SECONDS = 2;
export const AIM_SECONDS = 1;
export const TARGET_GROWTH = 10;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Builds the fleet into `app`. */
export function buildFleet(app: App, scale: SynthScale): void {
  const perPool = Math.ceil(scale.modules / scale.pools);
  const staged = scale.layout !== 'chart-per-pool';
  const poolStage = staged ? new Chart(app, 'pools') : undefined;
  const day1Stage = staged ? new Chart(app, 'day1') : undefined;
  if (scale.layout === 'numbered-stages') {
    day1Stage!.addDependency(poolStage!);
  }
  for (let p = 0; p < scale.pools; p++) {
    const own = scale.layout === 'chart-per-pool' ? new Chart(app, `pool-${p}`) : undefined;
    const pool = new KmmMachineConfigPool(poolStage ?? own!, `Pool${p}`, { name: `pool-${p}` });
    for (let i = p * perPool; i < Math.min(scale.modules, (p + 1) * perPool); i++) {
      new Day1KernelModule(day1Stage ?? own!, `Module${i}`, {
        pool,
        kernelModuleImage: `quay.io/example/driver-${i}`,
        kernelModuleName: `driver_${i}`,
        inTreeModulesToRemove: [`legacy_${i}`],
        firmwareFilesPath: '/firmware',
        healthCheck: true,
      });
    }
  }
}

/** One synthesis into a fresh temporary directory, in seconds. */
function synthOnce(scale: SynthScale): { seconds: number; objects: number } {
  const outdir = mkdtempSync(join(tmpdir(), 'kmm-day1-bench-synth-'));
  try {
    const start = process.hrtime.bigint();
    const app = new App({ outdir });
    buildFleet(app, scale);
    app.synth();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const objects = app.charts.reduce((n, chart) => n + chart.toJson().length, 0);
    return { seconds, objects };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * The median of `runs` syntheses, after `warmUps` that load and compile the modules (the
 * first synthesis in a process is twice as slow, which `cdk8s synth` pays once as well).
 */
export function benchSynth(scale: SynthScale, runs: number, warmUps = 1): SynthFigures {
  let objects = 0;
  for (let i = 0; i < warmUps; i++) {
    objects = synthOnce(scale).objects;
  }
  const samplesSeconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const sample = synthOnce(scale);
    objects = sample.objects;
    samplesSeconds.push(sample.seconds);
  }
  return { ...scale, runs, medianSeconds: median(samplesSeconds), samplesSeconds, objects };
}

if (require.main === module) {
  for (const [scale, runs] of [[SMALL, 9], [LARGE, 5], [{ ...LARGE, layout: 'numbered-stages' }, 1], [{ ...LARGE, layout: 'chart-per-pool' }, 1]] as const) {
    const figures = benchSynth(scale, runs);
    process.stdout.write(`${scale.modules} modules / ${scale.pools} pools (${scale.layout}): ${figures.medianSeconds.toFixed(3)} s median `
      + `(${figures.samplesSeconds.map((s) => s.toFixed(3)).join(', ')}), ${figures.objects} objects\n`);
  }
}
