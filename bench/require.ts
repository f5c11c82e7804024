import { spawnSync } from 'child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import { isAbsolute, join, relative, resolve } from 'path';

/*
 * What `require('cdk8s-kmm-day1')` costs a consumer: the built package (lib/) is required by its
 * name in a fresh node process, as an app does at the top of main.ts, against a bare `node -e 0`.
 * Each package directory is timed three times over: the wall time of its process, and the time
 * and the CPU time of the require itself, read inside the process (start-up of node not
 * included; CPU time is the least disturbed by other jobs on a shared machine). All
 * processes run in rotation, so machine noise hits every series alike; medians ignore outliers.
 *
 * Several package directories may be given, to compare two builds in the same rotation (for
 * example a copy of lib/ and package.json built from an earlier commit, with a node_modules link
 * to this tree's). The name resolves by the package's self-reference (its `exports`).
 *
 * Then each generated binding alone: the CPU time of requiring lib/imports/<file> once cdk8s is
 * loaded, which is what the import-time reduction of the CRDs (projenrc/import-reduced.ts) saves.
 *
 * Usage: ts-node bench/require.ts [runs] [<package dir>...]   (default: 21 runs, this tree)
 */

const ROOT = join(__dirname, '..');
const PACKAGE = 'cdk8s-kmm-day1';
export const DEFAULT_RUNS = 21;
export const MIN_RUNS = 5;

// Prints the milliseconds the require took, then the CPU milliseconds it used, and nothing else.
const PROBE = `const t = process.hrtime.bigint(); const c = process.cpuUsage(); require(${JSON.stringify(PACKAGE)}); `
  + 'const u = process.cpuUsage(c); '
  + 'process.stdout.write(`${Number(process.hrtime.bigint() - t) / 1e6} ${(u.user + u.system) / 1e3}`);';

/** Figures of one series of processes. */
export interface Series {
  readonly label: string;
  readonly wallMs: readonly number[];
  /** The require alone, measured in the process; empty for `node -e 0`. */
  readonly requireMs: readonly number[];
  /** CPU time (user and system) of the require alone: on a busy machine, less noisy than requireMs. */
  readonly requireCpuMs: readonly number[];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Spawns node with `-e code` in `cwd`; returns the wall time and what the process printed. */
function timeNode(code: string, cwd: string): { wallMs: number; stdout: string } {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ['-e', code], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error || result.status !== 0) {
    // A package that does not load would make the figures meaningless, not slow.
    throw new Error(`node -e in ${cwd} failed (status ${result.status}): ${result.error?.message ?? result.stderr.toString()}`);
  }
  return { wallMs, stdout: result.stdout.toString() };
}

function checkPackageDir(dir: string): void {
  const manifest = join(dir, 'package.json');
  if (!existsSync(join(dir, 'lib', 'index.js')) || !existsSync(manifest)) {
    throw new Error(`${dir}: no lib/index.js or package.json; build with \`npx projen compile\` first`);
  }
  const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
  if (name !== PACKAGE) throw new Error(`${manifest}: the package is ${JSON.stringify(name)}, not ${PACKAGE}`);
}

/**
 * Times `node -e 0` and the require of the package in each of `dirs`, `runs` times each in
 * rotation after one warm-up run of each.
 *
 * @throws Error when a directory holds no built package or the require fails
 */
export function benchRequire(dirs: readonly string[], runs: number = DEFAULT_RUNS): Series[] {
  if (!Number.isInteger(runs) || runs < MIN_RUNS) throw new Error(`runs must be an integer of at least ${MIN_RUNS}, got ${runs}`);
  dirs.forEach(checkPackageDir);
  const commands = [
    { label: 'node -e 0', code: '0', cwd: ROOT },
    ...dirs.map((dir) => ({ label: `require, ${labelOf(dir)}`, code: PROBE, cwd: dir })),
  ];
  commands.forEach((command) => timeNode(command.code, command.cwd));
  const series = commands.map((command) => ({
    label: command.label, wallMs: [] as number[], requireMs: [] as number[], requireCpuMs: [] as number[],
  }));
  for (let i = 0; i < runs; i++) {
    // Rotate which goes first so that none always benefits from the others' warm caches.
    for (let j = 0; j < commands.length; j++) {
      const k = (i + j) % commands.length;
      const { wallMs, stdout } = timeNode(commands[k].code, commands[k].cwd);
      series[k].wallMs.push(wallMs);
      if (commands[k].code === PROBE) {
        const [elapsed, cpu] = stdout.split(' ').map(Number);
        series[k].requireMs.push(elapsed);
        series[k].requireCpuMs.push(cpu);
      }
    }
  }
  return series;
}

function labelOf(dir: string): string {
  const rel = relative(ROOT, dir);
  return rel === '' ? 'this tree' : rel.startsWith('..') || isAbsolute(rel) ? dir : rel;
}

/** Line counts of the generated bindings (src/imports/*.ts) of this tree. */
export function importLineCounts(root: string = ROOT): Array<{ file: string; lines: number }> {
  const dir = join(root, 'src', 'imports');
  return readdirSync(dir).filter((file) => file.endsWith('.ts')).sort().map((file) => ({
    file: `src/imports/${file}`,
    lines: readFileSync(join(dir, file), 'utf8').split('\n').length - 1,
  }));
}

/** One compiled binding (lib/imports/<file>) in each package directory, in the order given. */
export interface BindingCost {
  readonly file: string;
  /** Size of the file in each directory; 0 where it is missing. */
  readonly bytes: readonly number[];
  /** Median CPU time of requiring it once cdk8s is loaded; undefined where it is missing. */
  readonly cpuMs: ReadonlyArray<number | undefined>;
}

/**
 * What each generated binding costs on its own: the CPU time of requiring lib/imports/<file>
 * after cdk8s (which every binding requires first), `runs` times in each directory, in rotation.
 */
export function bindingCosts(dirs: readonly string[], runs: number): BindingCost[] {
  const files = [...new Set(dirs.flatMap((dir) => readdirSync(join(dir, 'lib', 'imports')).filter((file) => file.endsWith('.js'))))].sort();
  return files.map((file) => {
    const present = dirs.map((dir) => existsSync(join(dir, 'lib', 'imports', file)));
    const code = `require('cdk8s'); const c = process.cpuUsage(); require('./lib/imports/${file}'); `
      + 'const u = process.cpuUsage(c); process.stdout.write(String((u.user + u.system) / 1e3));';
    const samples: number[][] = dirs.map(() => []);
    for (let i = 0; i < runs; i++) {
      dirs.forEach((dir, j) => {
        if (present[j]) samples[j].push(Number(timeNode(code, dir).stdout));
      });
    }
    return {
      file,
      bytes: dirs.map((dir, j) => (present[j] ? statSync(join(dir, 'lib', 'imports', file)).size : 0)),
      cpuMs: samples.map((values, j) => (present[j] ? median(values) : undefined)),
    };
  });
}

/** A Markdown table; the first column left-aligned, the others (figures) right-aligned. */
function markdownTable(table: readonly string[][]): string[] {
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const line = (row: readonly string[]) => `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(table[0]), rule, ...table.slice(1).map(line)];
}

/** Markdown tables: the timings, the cost of each binding, then the line counts. */
export function formatRequire(series: readonly Series[], dirs: readonly string[], bindings: readonly BindingCost[]): string {
  const ms = (values: readonly number[], pick: (v: readonly number[]) => number) => values.length === 0 ? '' : `${pick(values).toFixed(1)} ms`;
  const timing = markdownTable([
    ['process', 'wall median', 'wall min', 'require median', 'require min', 'require CPU median', 'require CPU min'],
    ...series.map((s) => [s.label, ms(s.wallMs, median), ms(s.wallMs, (v) => Math.min(...v)),
      ms(s.requireMs, median), ms(s.requireMs, (v) => Math.min(...v)),
      ms(s.requireCpuMs, median), ms(s.requireCpuMs, (v) => Math.min(...v))]),
  ]);
  const perBinding = markdownTable([
    ['lib/imports/ (bytes, CPU median of the require after cdk8s)', ...dirs.map(labelOf)],
    ...bindings.map((b) => [b.file, ...b.cpuMs.map((cpu, j) => (cpu === undefined ? '' : `${b.bytes[j]} B, ${cpu.toFixed(1)} ms`))]),
  ]);
  const counts = importLineCounts();
  const total = counts.reduce((sum, { lines }) => sum + lines, 0);
  const lineCounts = markdownTable([['file (this tree)', 'lines'], ...counts.map(({ file, lines }) => [file, String(lines)]), ['total', String(total)]]);
  return [`${series[0].wallMs.length} runs of each, in rotation`, '', ...timing, '', ...perBinding, '', ...lineCounts].join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const runs = args.length > 0 && /^\d+$/.test(args[0]) ? Number(args.shift()) : DEFAULT_RUNS;
  const dirs = args.length === 0 ? [ROOT] : args.map((dir) => resolve(dir));
  const series = benchRequire(dirs, runs);
  // Fewer runs per binding: seven files per directory, and CPU time varies little.
  const bindings = bindingCosts(dirs, Math.max(MIN_RUNS, Math.ceil(runs / 2)));
  process.stdout.write(`${formatRequire(series, dirs, bindings)}\n`);
}
