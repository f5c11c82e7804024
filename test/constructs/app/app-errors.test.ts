import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { App, Chart } from 'cdk8s';
import { AppValidation, Day1KernelModule, KmmMachineConfigPool } from '../../../src';

/*
 * One synthesis reports the invalid props of every construct of the app, each on a line of
 * its own after the construct path, in cdk8s's own "Validation failed" error: three constructs
 * in two charts here. Once in-process, once through a real `cdk8s synth` of an app that uses the
 * built package, where the user must see the three lines and nothing of this library's source.
 */

const ROOT = resolve(__dirname, '..', '..', '..');

const EXPECTED = [
  '[pools/nic] Invalid name "Bad_Pool": must be a DNS-1123 label: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit',
  '[day1/ice] Invalid kernelModuleName "ice.ko": must be a Linux kernel module name: letters, digits, "_" and "-", not starting with "-" (the .ko file name without .ko)',
  '[day1/sfc] Invalid kernelModuleImage "quay.io/example/sfc:v1": must not have a tag or digest: each node appends its kernel release (uname -r) '
    + 'as the tag, e.g. quay.io/example/sfc:5.14.0-284.59.1.el9_2.x86_64',
];

/** The app, the same in-process and in the subprocess (where `lib` is the built package). */
const APP_SOURCE = (lib: string) => `
const { App, Chart } = require('cdk8s');
const { Day1KernelModule, KmmMachineConfigPool } = require(${JSON.stringify(lib)});
const app = new App();
const pools = new Chart(app, 'pools');
new KmmMachineConfigPool(pools, 'nic', { name: 'Bad_Pool' });
const day1 = new Chart(app, 'day1');
const worker = KmmMachineConfigPool.fromPoolName(day1, 'worker', 'worker');
new Day1KernelModule(day1, 'ice', { pool: worker, kernelModuleImage: 'quay.io/example/ice', kernelModuleName: 'ice.ko' });
new Day1KernelModule(day1, 'sfc', { pool: worker, kernelModuleImage: 'quay.io/example/sfc:v1', kernelModuleName: 'sfc' });
app.synth();
`;

function buildApp(outdir: string): App {
  const app = new App({ outdir });
  const pools = new Chart(app, 'pools');
  new KmmMachineConfigPool(pools, 'nic', { name: 'Bad_Pool' });
  const day1 = new Chart(app, 'day1');
  const worker = KmmMachineConfigPool.fromPoolName(day1, 'worker', 'worker');
  new Day1KernelModule(day1, 'ice', { pool: worker, kernelModuleImage: 'quay.io/example/ice', kernelModuleName: 'ice.ko' });
  new Day1KernelModule(day1, 'sfc', { pool: worker, kernelModuleImage: 'quay.io/example/sfc:v1', kernelModuleName: 'sfc' });
  return app;
}

describe('app-wide errors', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const tmp = () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmm-day1-app-errors-'));
    dirs.push(dir);
    return dir;
  };

  test('app.synth() fails once with the problems of three constructs in two charts, and writes nothing', () => {
    const outdir = join(tmp(), 'dist');
    const app = buildApp(outdir);
    let message = '';
    try {
      app.synth();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual(['Validation failed with the following errors:', ...EXPECTED.map((line) => `  ${line}`)]);
    expect(existsSync(join(outdir, 'pools'))).toBe(false);
    expect(AppValidation.problemsOf(app).map((p) => `${p.path} ${p.field}`)).toEqual(['pools/nic name', 'day1/ice kernelModuleName', 'day1/sfc kernelModuleImage']);
  });

  test('`cdk8s synth` of an app on the built package shows the three lines and no line of the library\'s source', () => {
    if (!existsSync(join(ROOT, 'lib', 'index.js'))) {
      throw new Error('lib/ is not built: run `npx projen compile && npx projen post-compile` (the README test command does)');
    }
    const dir = tmp();
    writeFileSync(join(dir, 'main.js'), APP_SOURCE(join(ROOT, 'lib')));
    writeFileSync(join(dir, 'cdk8s.yaml'), 'language: typescript\napp: node main.js\n');
    const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'cdk8s'), ['synth', '--no-check-upgrade'], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
    });
    expect(result.status).not.toBe(0);
    const output = `${result.stdout}\n${result.stderr}`;
    const lines = output.split('\n').map((line) => line.trim());
    for (const line of EXPECTED) expect(lines).toContain(line);
    // Nothing of this library's own code: no stack frame or excerpt from lib/ or src/.
    expect(output).not.toContain(join(ROOT, 'lib'));
    expect(output).not.toContain(join(ROOT, 'src'));
    expect(existsSync(join(dir, 'dist', 'pools.k8s.yaml'))).toBe(false);
  });
});
