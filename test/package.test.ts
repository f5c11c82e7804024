import { spawnSync } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { produceMachineConfig as fromSource } from '../src';
import { REFERENCE_OPTIONS } from './util/reference';

/*
 * What users install is lib/ inside the npm tarball, not src/: the boot scripts must be
 * packed and found next to the compiled code, and js-yaml must travel bundled.
 */
const ROOT = join(__dirname, '..');
const LIB = join(ROOT, 'lib', 'index.js');

describe('the npm package', () => {
  beforeAll(() => {
    if (!existsSync(LIB) || !existsSync(join(ROOT, 'lib', 'boot', 'replace-kernel-module.sh'))) {
      throw new Error('lib/ is not built: run `npx projen compile && npx projen post-compile` (the README test command does)');
    }
  });

  test('packs the compiled code, the boot scripts and their fragments, the CLI and the bundled js-yaml', () => {
    const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(0);
    const files: string[] = JSON.parse(result.stdout)[0].files.map((f: { path: string }) => f.path);
    for (const expected of [
      'lib/index.js',
      'lib/index.d.ts',
      'lib/boot/replace-kernel-module.sh',
      'lib/boot/pull-kernel-module-image.sh',
      'lib/boot/wait-for-dispatcher.sh',
      'lib/cli/day1-utility.js',
      'lib/errors.js',
      'lib/errors.d.ts',
      'node_modules/js-yaml/package.json',
      '.jsii',
    ]) {
      expect(files).toContain(expected);
    }
    // The scripts are assembled at run time: every fragment they name must travel too.
    for (const fragment of readdirSync(join(ROOT, 'src', 'boot', 'fragments'))) {
      expect(files).toContain(`lib/boot/fragments/${fragment}`);
    }
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('examples/'))).toEqual([]);
  });

  test('depends on no cdk8s-plus major, so an app may use any (or none): no dependency, no import in lib/', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    for (const field of ['dependencies', 'peerDependencies', 'devDependencies', 'bundledDependencies']) {
      const names = Object.keys(pkg[field] ?? {}).concat(Array.isArray(pkg[field]) ? pkg[field] : []);
      expect({ field, cdk8sPlus: names.filter((name) => name.startsWith('cdk8s-plus')) }).toEqual({ field, cdk8sPlus: [] });
    }
    // cdk8s-cli brings a cdk8s-plus into node_modules, so an import would still compile here.
    const importers = (readdirSync(join(ROOT, 'lib'), { recursive: true }) as string[])
      .filter((file) => /\.(js|d\.ts)$/.test(file))
      .filter((file) => /require\("cdk8s-plus|from ['"]cdk8s-plus/.test(readFileSync(join(ROOT, 'lib', file), 'utf8')));
    expect(importers).toEqual([]);
  });

  test('lib/ produces the same MachineConfig as src/, reading its scripts from lib/boot', () => {
    const script = [
      'const lib = require(process.argv[1]);',
      'const scripts = require(require("path").join(require("path").dirname(process.argv[1]), "boot", "scripts.js"));',
      'if (!scripts.bootScripts().length) throw new Error("no scripts");',
      'process.stdout.write(lib.produceMachineConfig(JSON.parse(process.argv[2])));',
    ].join('\n');
    const result = spawnSync(process.execPath, ['-e', script, LIB, JSON.stringify(REFERENCE_OPTIONS)], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(fromSource(REFERENCE_OPTIONS));
  });

  test('cdk8s-kmm-day1/errors gives TypeScript users the error class that the package throws', () => {
    const script = [
      'const { Day1ValidationError } = require("cdk8s-kmm-day1/errors");',
      'const { produceMachineConfig } = require("cdk8s-kmm-day1");',
      'try { produceMachineConfig({}); } catch (e) {',
      '  process.stdout.write(JSON.stringify({ ours: e instanceof Day1ValidationError, fields: e.problems.map((p) => p.field) }));',
      '}',
    ].join('\n');
    const result = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ ours: true, fields: ['kernelModuleImage', 'kernelModuleName', 'machineConfigName', 'machineConfigPoolRef'] });
  });
});
