import { spawn } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';
import { load } from 'js-yaml';
import { CLI, FLAG_FORMS, flag, flags, loadedModules, requireBuiltCli, ROOT, runCli, runMain, runNode, staleLibFiles } from './run-cli';
import { produceMachineConfig } from '../../src/machine-config/generator';
import { ProduceMachineConfigOptions } from '../../src/validation';
import { REFERENCE_ARGS, REFERENCE_OPTIONS } from '../util/reference';

const HINT = "Run 'day1-utility --help' for usage.\n";
const occurrencesOf = (haystack: string, needle: string) => haystack.split(needle).length - 1;
const STACK_FRAME = /^\s+at /m;

const WORKER = `registry.example.com:5000/kmm/worker@sha256:${'a'.repeat(64)}`;

/** Every flag, with the options it must produce. */
const ALL_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['machine-config', 'name'],
  ['machine-config-pool', 'mcpRef'],
  ['image', 'quay.io/project/repo'],
  ['kernel-module', 'testKernelModuleName'],
  ['in-tree-modules-to-remove', 'it1,it2'],
  ['worker-image', WORKER],
  ['firmware-files-path', '/opt/lib/test/firmware'],
  ['module-parameters', 'debug=1,rss=4,4'],
  ['peer-machine-configs', '99-mcp-b,00-mcp-a'],
];
const ALL_OPTIONS: ProduceMachineConfigOptions = {
  ...REFERENCE_OPTIONS,
  workerImage: WORKER,
  moduleParameters: ['debug=1', 'rss=4,4'],
  peerMachineConfigNames: ['99-mcp-b', '00-mcp-a'],
};

const MANDATORY: ReadonlyArray<readonly [string, string]> = ALL_FLAGS.slice(0, 4);
const MANDATORY_OPTIONS: ProduceMachineConfigOptions = {
  machineConfigName: 'name',
  machineConfigPoolRef: 'mcpRef',
  kernelModuleImage: 'quay.io/project/repo',
  kernelModuleName: 'testKernelModuleName',
};

/*
 * Most tests run `main` in-process (runMain): the parser, the messages and the exit statuses
 * are the same code a process runs. The last describe block spawns node for what only a real
 * process shows.
 */

function expectSuccess(args: readonly string[], options: ProduceMachineConfigOptions): void {
  const result = runMain(args);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(result.stdout).toBe(produceMachineConfig(options));
}

/** The same through the compiled CLI in a fresh process: lib/ must be as new as src/. */
function expectSpawnedSuccess(args: readonly string[], options: ProduceMachineConfigOptions): void {
  const result = runCli(args);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  const expected = produceMachineConfig(options);
  const stale = result.stdout === expected ? [] : staleLibFiles();
  if (stale.length > 0) {
    throw new Error(`lib/ is older than src/ (${stale.join(', ')}): run \`npx projen compile && npx projen post-compile\` before the CLI tests`);
  }
  expect(result.stdout).toBe(expected);
}

function expectUsageError(args: readonly string[], problem: string): void {
  const result = runMain(args);
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe(`day1-utility: ${problem}\n${HINT}`);
  expect(result.status).toBe(2);
}

/** An invalid value: exit 1, one line naming the flag, never the option field. */
function expectValueError(args: readonly string[], flagName: string, field: string): string {
  const result = runMain(args);
  expect(result.stdout).toBe('');
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(new RegExp(`^day1-utility: Invalid --${flagName}[ :]`));
  expect(result.stderr.endsWith('\n')).toBe(true);
  expect(result.stderr.split('\n')).toHaveLength(2);
  expect(result.stderr).not.toContain(field);
  expect(result.stderr).not.toMatch(STACK_FRAME);
  return result.stderr;
}

describe('day1-utility output', () => {
  test('the reference invocation prints exactly what produceMachineConfig returns', () => {
    expectSuccess(REFERENCE_ARGS, REFERENCE_OPTIONS);
  });

  test.each(FLAG_FORMS)('every flag in the form %s gives the same bytes as produceMachineConfig', (form) => {
    expectSuccess(flags(ALL_FLAGS, form), ALL_OPTIONS);
  });

  test('forms can be mixed and flags come in any order', () => {
    const args = [...ALL_FLAGS].reverse().flatMap(([name, value], i) => flag(name, value, FLAG_FORMS[i % FLAG_FORMS.length]));
    expectSuccess(args, ALL_OPTIONS);
  });

  test('only the mandatory flags', () => {
    expectSuccess(flags(MANDATORY), MANDATORY_OPTIONS);
  });

  test.each<[string, string, Partial<ProduceMachineConfigOptions>]>([
    ['in-tree-modules-to-remove', 'ice,irdma', { inTreeModulesToRemove: ['ice', 'irdma'] }],
    ['in-tree-modules-to-remove', 'ice', { inTreeModulesToRemove: ['ice'] }],
    ['worker-image', WORKER, { workerImage: WORKER }],
    ['firmware-files-path', '/opt/lib/firmware', { firmwareFilesPath: '/opt/lib/firmware' }],
    ['module-parameters', 'debug=1', { moduleParameters: ['debug=1'] }],
    ['peer-machine-configs', 'p', { peerMachineConfigNames: ['p'] }],
  ])('optional --%s %s', (name, value, extra) => {
    expectSuccess([...flags(MANDATORY), ...flag(name, value)], { ...MANDATORY_OPTIONS, ...extra });
  });

  test.each(['in-tree-modules-to-remove', 'worker-image', 'firmware-files-path', 'module-parameters', 'peer-machine-configs'])(
    'an empty --%s is the same as not giving it', (name) => {
      const without = runMain(flags(MANDATORY));
      expect(without.status).toBe(0);
      for (const args of [[`--${name}=`], [`--${name}`, ''], [`-${name}=`]]) {
        const result = runMain([...flags(MANDATORY), ...args]);
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
        expect(result.stdout).toBe(without.stdout);
      }
    });

  test.each([
    ['rss=4,4', ['rss=4,4']],
    ['rss=4,4,debug=1', ['rss=4,4', 'debug=1']],
    ['debug=1,rss=4,4', ['debug=1', 'rss=4,4']],
    ['a=1,b=2,c=3', ['a=1', 'b=2', 'c=3']],
    ['map=1,2,3,4,mode=fast', ['map=1,2,3,4', 'mode=fast']],
  ])('--module-parameters %s is split into %j', (text, parameters) => {
    expectSuccess([...flags(MANDATORY), ...flag('module-parameters', text)], { ...MANDATORY_OPTIONS, moduleParameters: parameters });
  });

  test('module parameters reach the replace unit as given', () => {
    const result = runMain([...flags(MANDATORY), '--module-parameters', 'rss=4,4,debug=1']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Environment="MODULE_PARAMETERS=rss=4,4 debug=1"');
  });

  test('peers order the replace unit by name: After= those before this MachineConfig, Before= those after; duplicates and self ignored', () => {
    const result = runMain([...flags(MANDATORY), '--peer-machine-configs', 'zz,a,name,zz,b']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const replace = (load(result.stdout) as any).spec.config.systemd.units[0];
    expect(replace.name).toBe('name-replace-kernel-module.service');
    expect(replace.contents).toContain('RequiresMountsFor=/var/lib/containers\n'
      + 'After=a-replace-kernel-module.service\nAfter=b-replace-kernel-module.service\nBefore=zz-replace-kernel-module.service\n\n[Service]');
    expect(occurrencesOf(replace.contents, '-replace-kernel-module.service\n')).toBe(3);
    expectSuccess([...flags(MANDATORY), '--peer-machine-configs', 'zz,a,name,zz,b'], { ...MANDATORY_OPTIONS, peerMachineConfigNames: ['a', 'b', 'zz'] });
  });

  test('a value that starts with a dash is a value, and validation judges it', () => {
    expectValueError([...flags(MANDATORY.slice(0, 3)), '--kernel-module', '-ice'], 'kernel-module', 'kernelModuleName');
  });

  test('"--" ends the flags', () => {
    expectSuccess([...REFERENCE_ARGS, '--'], REFERENCE_OPTIONS);
  });
});

describe('day1-utility --help and --version', () => {
  test.each([['--help'], ['-help'], ['-h'], ['--h'], ['--image', 'x', '--help']])('%s prints the usage and exits 0', (...args) => {
    const result = runMain(args);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    const help = result.stdout;
    for (const [name] of ALL_FLAGS) {
      expect(help).toMatch(new RegExp(`^ {2}--${name} [A-Z]+\\n`, 'm'));
      expect(help).toMatch(new RegExp(`^ +Example: --${name} \\S`, 'm'));
    }
    expect(help).toContain('-h, --help');
    expect(help).toContain('--version');
    // The comma rule of --module-parameters must be documented where users look.
    expect(help).toContain('a comma-separated piece without "=" continues the previous');
    expect(help).toContain('rss=4,4,debug=1 means the two parameters rss=4,4 and debug=1');
    expect(help).toContain('quay.io/edge-infrastructure/kernel-module-management-worker:latest');
    expect(help).toContain('day1-utility --machine-config name --machine-config-pool mcpRef --image quay.io/project/repo');
    expect(help.endsWith('\n')).toBe(true);
  });

  test('the usage example works as printed', () => {
    const help = runMain(['--help']).stdout;
    const example = /^Example:\n((?:.*\\\n)*.*)$/m.exec(help);
    expect(example).not.toBeNull();
    const words = example![1].replace(/\\\n/g, ' ').replace(/>.*$/, '').trim().split(/\s+/);
    expect(words[0]).toBe('day1-utility');
    expect(words.slice(1)).toEqual(REFERENCE_ARGS);
  });

  test.each([['--version'], ['-version']])('%s prints the package.json version', (arg) => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    const result = runMain([arg]);
    expect(result).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('day1-utility usage errors (exit 2)', () => {
  test.each(MANDATORY.map(([name]) => name))('missing --%s', (name) => {
    expectUsageError(flags(MANDATORY.filter(([n]) => n !== name)), `missing required flag --${name}`);
  });

  test('several missing flags are named together', () => {
    expectUsageError(['--image', 'quay.io/project/repo'], 'missing required flags --machine-config, --machine-config-pool, --kernel-module');
    expectUsageError([], 'missing required flags --machine-config, --machine-config-pool, --image, --kernel-module');
  });

  test.each([
    [['--bogus', 'x'], 'unknown flag "--bogus"'],
    [['-bogus=x'], 'unknown flag "-bogus"'],
    [['--Image', 'quay.io/project/repo'], 'unknown flag "--Image"'],
    [['---image', 'quay.io/project/repo'], 'unknown flag "---image"'],
    [['--machine_config', 'name'], 'unknown flag "--machine_config"'],
  ])('unknown flag %j', (args, problem) => {
    expectUsageError([...REFERENCE_ARGS, ...args], problem);
  });

  const WITHOUT_MODULE = flags(MANDATORY.slice(0, 3));
  test.each([
    [[...WITHOUT_MODULE, '--kernel-module']],
    [['-kernel-module', ...WITHOUT_MODULE]],
    [[...WITHOUT_MODULE, '--kernel-module', '-h']],
    [[...WITHOUT_MODULE, '--kernel-module', '--']],
  ])('flag without a value %j', (args) => {
    expectUsageError(args, 'flag --kernel-module needs a value');
  });

  test.each([
    [['stray'], 'unexpected argument "stray"'],
    [['-'], 'unexpected argument "-"'],
    [['--', 'stray'], 'unexpected argument "stray" after "--"'],
  ])('stray argument %j', (args, problem) => {
    expectUsageError([...REFERENCE_ARGS, ...args], problem);
  });

  test('a stray argument between flags', () => {
    expectUsageError(['--machine-config', 'name', 'mcpRef', ...REFERENCE_ARGS.slice(2)], 'unexpected argument "mcpRef"');
  });

  test.each([
    [['--image', 'quay.io/other/repo']],
    [['-image=quay.io/project/repo']],
    [['--in-tree-modules-to-remove=']],
  ])('a flag given twice %j', (extra) => {
    const name = extra[0].replace(/^-+/, '').split('=')[0];
    expectUsageError([...REFERENCE_ARGS, ...extra], `flag --${name} is given more than once`);
  });

  test('--help and --version take no value', () => {
    expectUsageError(['--help=true'], 'flag --help does not take a value');
    expectUsageError(['--version=1'], 'flag --version does not take a value');
    expectUsageError(['-h=1'], 'flag -h does not take a value');
  });

  test('a problem before --help is reported, like Go flag parsing', () => {
    expectUsageError(['--bogus', '--help'], 'unknown flag "--bogus"');
  });

  test('user text in a usage error stays on one line', () => {
    const result = runMain([...REFERENCE_ARGS, 'two\nlines']);
    expect(result.stderr).toBe(`day1-utility: unexpected argument "two\\nlines"\n${HINT}`);
  });
});

describe('day1-utility invalid values (exit 1)', () => {
  test('an image with a tag: the validation message, naming --image', () => {
    const stderr = expectValueError([...REFERENCE_ARGS.slice(0, 4), '--image', 'quay.io/project/repo:v1', ...REFERENCE_ARGS.slice(6)],
      'image', 'kernelModuleImage');
    expect(stderr).toBe('day1-utility: Invalid --image "quay.io/project/repo:v1": must not have a tag or digest: '
      + 'each node appends its kernel release (uname -r) as the tag, e.g. quay.io/project/repo:5.14.0-284.59.1.el9_2.x86_64\n');
  });

  test('an empty mandatory value', () => {
    const stderr = expectValueError([...REFERENCE_ARGS.slice(0, 6), '--kernel-module=', ...REFERENCE_ARGS.slice(8)],
      'kernel-module', 'kernelModuleName');
    expect(stderr).toBe('day1-utility: Invalid --kernel-module "": is required and must not be empty\n');
  });

  test.each([
    ['machine-config', 'Bad_Name', 'machineConfigName', 'DNS-1123 subdomain'],
    ['machine-config-pool', 'pool with spaces', 'machineConfigPoolRef', 'Kubernetes label value'],
    ['image', 'quay.io/Project/repo', 'kernelModuleImage', 'must be lowercase'],
    ['image', 'quay.io/project/repo@sha256:' + 'b'.repeat(64), 'kernelModuleImage', 'must not have a tag or digest'],
    ['kernel-module', 'ice.ko', 'kernelModuleName', 'Linux kernel module name'],
    ['kernel-module', 'ice;reboot', 'kernelModuleName', 'Linux kernel module name'],
    ['firmware-files-path', 'relative/path', 'firmwareFilesPath', 'absolute'],
    ['firmware-files-path', '/opt/$(reboot)', 'firmwareFilesPath', 'absolute'],
    ['worker-image', 'Not An Image', 'workerImage', 'OCI image reference'],
  ])('--%s %j', (name, value, field, rule) => {
    const args = [...flags(MANDATORY.filter(([n]) => n !== name)), ...flag(name, value)];
    const stderr = expectValueError(args, name, field);
    expect(stderr).toContain(JSON.stringify(value));
    expect(stderr).toContain(rule);
  });

  test.each([
    ['ice,ice', 'Invalid --in-tree-modules-to-remove item 2 "ice": duplicates --in-tree-modules-to-remove item 1; list each entry once'],
    ['ice,irdma,ice', 'Invalid --in-tree-modules-to-remove item 3 "ice": duplicates --in-tree-modules-to-remove item 1; list each entry once'],
    ['ice,', 'Invalid --in-tree-modules-to-remove item 2 "": is required and must not be empty'],
    [',ice', 'Invalid --in-tree-modules-to-remove item 1 "": is required and must not be empty'],
  ])('--in-tree-modules-to-remove %j', (value, message) => {
    const stderr = expectValueError([...flags(MANDATORY), '--in-tree-modules-to-remove', value], 'in-tree-modules-to-remove', 'inTreeModulesToRemove');
    expect(stderr).toBe(`day1-utility: ${message}\n`);
  });

  test.each([
    ['debug', 1, '"debug"'],
    ['debug=1,rss=', 2, '"rss="'],
    ['debug=1,debug=2', 2, '"debug=2"'],
    ['debug=1,x=$(reboot)', 2, '"x=$(reboot)"'],
  ])('--module-parameters %j names item %i', (value, item, shown) => {
    const stderr = expectValueError([...flags(MANDATORY), '--module-parameters', value], 'module-parameters', 'moduleParameters');
    expect(stderr).toMatch(new RegExp(`^day1-utility: Invalid --module-parameters item ${item} ${shown.replace(/[$()]/g, '\\$&')}: `));
  });

  test('--peer-machine-configs names the item that is not a MachineConfig name', () => {
    const stderr = expectValueError([...flags(MANDATORY), '--peer-machine-configs', 'ok,Not_OK'], 'peer-machine-configs', 'peerMachineConfigNames');
    expect(stderr).toMatch(/^day1-utility: Invalid --peer-machine-configs item 2 "Not_OK": must be a DNS-1123 subdomain/);
  });

  test('"debug=1,rss" continues debug, so the value is judged as a whole', () => {
    // "rss" has no "=", so it belongs to debug's value: debug=1,rss is a valid parameter.
    expectSuccess([...flags(MANDATORY), '--module-parameters', 'debug=1,rss'], { ...MANDATORY_OPTIONS, moduleParameters: ['debug=1,rss'] });
  });

  test('every invalid value is reported, one line each, in the order of --help, lists by item', () => {
    const args = [
      '--module-parameters', 'debug,ok=1,x=$(id)',
      '--in-tree-modules-to-remove', 'a b,ice,ice',
      '--kernel-module', 'ice.ko',
      '--image', 'quay.io/a/b:v1',
      '--machine-config-pool', 'pool with spaces',
      '--machine-config', 'Bad_Name',
      '--firmware-files-path', 'relative',
      '--worker-image', 'Not An Image',
      '--peer-machine-configs', 'ok,Not_OK',
    ];
    const result = runMain(args);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => /^day1-utility: Invalid (--[a-z-]+(?: item \d+)?) /.exec(line)?.[1])).toEqual([
      '--machine-config',
      '--machine-config-pool',
      '--image',
      '--kernel-module',
      '--in-tree-modules-to-remove item 1',
      '--in-tree-modules-to-remove item 3',
      '--worker-image',
      '--firmware-files-path',
      '--module-parameters item 1',
      '--module-parameters item 3',
      '--peer-machine-configs item 2',
    ]);
    expect(lines[5]).toBe('day1-utility: Invalid --in-tree-modules-to-remove item 3 "ice": duplicates --in-tree-modules-to-remove item 2; list each entry once');
    expect(result.stderr).not.toMatch(/machineConfigName|kernelModuleImage|inTreeModulesToRemove|moduleParameters|peerMachineConfigNames/);
  });

  test('--help says that an empty optional flag is the same as not giving it', () => {
    const help = runMain(['--help']).stdout;
    expect(help).toContain('An optional flag with an empty value is\nthe same as not giving it');
    expect(help).toMatch(/--worker-image IMAGE\n(?: {6}.*\n)*? {6}Empty or not given: quay\.io\/edge-infrastructure/);
    expect(help).toMatch(/--firmware-files-path PATH\n(?: {6}.*\n)*? {6}.*Empty or not given: no firmware/);
    for (const name of ['in-tree-modules-to-remove', 'module-parameters', 'peer-machine-configs']) {
      expect(help).toMatch(new RegExp(`--${name} LIST\\n(?: {6}.*\\n)*? {6}.*Empty or not given: none`));
    }
  });

  test('a control character is shown escaped, on one line', () => {
    const stderr = expectValueError([...flags(MANDATORY.slice(0, 3)), '--kernel-module', 'ice\nreboot'], 'kernel-module', 'kernelModuleName');
    expect(stderr.startsWith('day1-utility: Invalid --kernel-module "ice\\nreboot": ')).toBe(true);
  });
});

describe('day1-utility as a process (spawned)', () => {
  beforeAll(() => {
    requireBuiltCli();
  });

  test('the reference invocation: exit 0, the YAML on stdout, nothing on stderr', () => {
    expectSpawnedSuccess(REFERENCE_ARGS, REFERENCE_OPTIONS);
  });

  test('a usage error: exit 2, the message on stderr, nothing on stdout', () => {
    expect(runCli(['--bogus'])).toEqual({ status: 2, stdout: '', stderr: `day1-utility: unknown flag "--bogus"\n${HINT}` });
  });

  test('invalid values: exit 1, every problem on stderr, nothing on stdout', () => {
    const result = runCli([...flags(MANDATORY.slice(0, 2)), '--image', 'quay.io/a/b:v1', '--kernel-module', 'ice.ko']);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n').map((line) => line.split(' "')[0])).toEqual([
      'day1-utility: Invalid --image', 'day1-utility: Invalid --kernel-module', '',
    ]);
  });

  test('--version reads package.json from the installed layout (lib/cli/..)', () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    expect(runCli(['--version'])).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
  });

  const PACKAGE_INDEX = join(ROOT, 'lib', 'index.js');

  test('generating loads neither cdk8s nor constructs nor the package index', () => {
    const { result, modules } = loadedModules(REFERENCE_ARGS);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(produceMachineConfig(REFERENCE_OPTIONS));
    // The hook really saw the CLI's modules.
    expect(modules).toContain(CLI);
    expect(modules).toContain(join(ROOT, 'lib', 'machine-config', 'generator.js'));
    expect(modules.filter((m) => /[\\/]node_modules[\\/](cdk8s|cdk8s-plus-\d+|constructs)[\\/]/.test(m))).toEqual([]);
    expect(modules).not.toContain(PACKAGE_INDEX);
    expect(modules.filter((m) => /[\\/]lib[\\/](constructs|imports)[\\/]/.test(m))).toEqual([]);
  });

  test('help and usage errors do not even load the generator', () => {
    for (const args of [['--help'], ['--bogus']]) {
      const { modules } = loadedModules(args);
      expect(modules).toContain(CLI);
      expect(modules.filter((m) => /[\\/]node_modules[\\/]js-yaml[\\/]/.test(m) || m.includes(join('lib', 'machine-config')))).toEqual([]);
    }
  });

  test('main can be required without running, and loads no cdk8s either', () => {
    const script = `
      const { main } = require(${JSON.stringify(CLI)});
      const out = [];
      const status = main(${JSON.stringify(REFERENCE_ARGS)}, { stdout: (t) => out.push(t), stderr: (t) => out.push(t) });
      const loaded = Object.keys(require.cache).filter((m) => /[\\\\/]node_modules[\\\\/](cdk8s|constructs)/.test(m));
      process.stdout.write(JSON.stringify({ status, length: out.join('').length, loaded }));`;
    const result = runNode(['-e', script]);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ status: 0, length: produceMachineConfig(REFERENCE_OPTIONS).length, loaded: [] });
  });

  test('a reader that closes early gets no stack trace', async () => {
    requireBuiltCli();
    const child = spawn(process.execPath, [CLI, ...REFERENCE_ARGS], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before the CLI has even started: its only write must fail with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(stderr).toBe('');
    expect(status).toBe(1);
  });
});
