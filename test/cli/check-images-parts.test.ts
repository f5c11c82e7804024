import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { gzipSync } from 'zlib';
import { CLI, loadedModules, ROOT, runCli } from './run-cli';
import { bootScripts, PULL_SCRIPT_PATH, REPLACE_SCRIPT_PATH } from '../../src/boot/scripts';
import { environmentAssignment } from '../../src/boot/systemd';
import { checkImagesUsage, DEFAULT_TIMEOUT_SECONDS, parseCheckImagesArguments } from '../../src/cli/check-images/arguments';
import { checkImages } from '../../src/cli/check-images/command';
import { readModules } from '../../src/cli/check-images/inputs';
import { environmentWords, unitEnvironment } from '../../src/cli/check-images/unit-environment';
import { usage } from '../../src/cli/flags';
import { produceMachineConfig } from '../../src/machine-config/generator';
import { parseChallenges } from '../../src/registry/challenge';
import { credentialFor, normaliseAuthKey, parseAuthFile } from '../../src/registry/credentials';
import { parseImageReference } from '../../src/registry/reference';
import { checkKernelRelease, kernelReleaseTag } from '../../src/validation/kernel-module';
import { REFERENCE_ARGS } from '../util/reference';

/*
 * The pieces of check-images that need no registry: the tag rule, references, credentials,
 * challenges, unit environments, the command line and every usage error (exit 2, nothing on
 * standard output).
 */

describe('kernelReleaseTag (KMM\'s ${KERNEL_FULL_VERSION})', () => {
  test.each([
    ['5.14.0-284.59.1.el9_2.x86_64', '5.14.0-284.59.1.el9_2.x86_64'],
    ['5.14.0-427.el9.aarch64+64k', '5.14.0-427.el9.aarch64_64k'],
    ['6.1.0+', '6.1.0'],
    ['6.1.0++', '6.1.0_'],
    ['5.14.0-rt/x~y', '5.14.0-rt_x_y'],
  ])('%s → %s', (release, tag) => {
    expect(kernelReleaseTag(release)).toBe(tag);
  });

  test('a release whose tag is no OCI tag is refused, naming the tag', () => {
    expect(() => checkKernelRelease('--kernel-release', '-rc1')).toThrow(/Invalid --kernel-release "-rc1": .*image tag "-rc1" is an OCI tag/);
    expect(() => checkKernelRelease('--kernel-release', 'x'.repeat(129))).toThrow(/at most 128 characters/);
    expect(() => checkKernelRelease('--kernel-release', '')).toThrow(/is required/);
    expect(checkKernelRelease('f', '5.14.0-427.el9.aarch64+64k')).toEqual({ release: '5.14.0-427.el9.aarch64+64k', tag: '5.14.0-427.el9.aarch64_64k' });
  });
});

describe('parseImageReference', () => {
  test.each([
    ['quay.io/org/ice:5.14', { registry: 'quay.io', apiHost: 'quay.io', repository: 'org/ice', reference: '5.14' }],
    ['127.0.0.1:5000/a/b/c:t', { registry: '127.0.0.1:5000', apiHost: '127.0.0.1:5000', repository: 'a/b/c', reference: 't' }],
    ['localhost/x', { registry: 'localhost', apiHost: 'localhost', repository: 'x', reference: 'latest' }],
    ['busybox:1', { registry: 'docker.io', apiHost: 'registry-1.docker.io', repository: 'library/busybox', reference: '1' }],
    ['org/ice:1', { registry: 'docker.io', apiHost: 'registry-1.docker.io', repository: 'org/ice', reference: '1' }],
    ['docker.io/ubuntu', { registry: 'docker.io', apiHost: 'registry-1.docker.io', repository: 'library/ubuntu', reference: 'latest' }],
    ['index.docker.io/org/x:2', { registry: 'index.docker.io', apiHost: 'registry-1.docker.io', repository: 'org/x', reference: '2' }],
    [`r.io:443/w:v1@sha256:${'a'.repeat(64)}`, { registry: 'r.io:443', apiHost: 'r.io:443', repository: 'w', reference: `sha256:${'a'.repeat(64)}` }],
  ])('%s', (text, expected) => {
    expect(parseImageReference(text)).toEqual(expected);
  });

  test('no repository is an error', () => {
    expect(() => parseImageReference('quay.io/')).toThrow(/is not an image reference/);
  });
});

describe('credentials (docker config JSON)', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const file = JSON.stringify({
    auths: {
      'quay.io': { auth: b64('robot:pw:with:colons') },
      'quay.io/org/special': { username: 'special', password: 'p' },
      'https://index.docker.io/v1/': { auth: b64('hub:h') },
      'registry.example.com:5000': { auth: '', identitytoken: 'x' },
    },
  });
  const credentials = parseAuthFile('auth.json', file);

  test('auth is base64 of user:password, split at the first colon', () => {
    expect(credentialFor(credentials, 'quay.io', 'org/ice')).toEqual({ username: 'robot', password: 'pw:with:colons' });
  });

  test('the most specific key wins (podman\'s repository keys)', () => {
    expect(credentialFor(credentials, 'quay.io', 'org/special/sub')).toEqual({ username: 'special', password: 'p' });
  });

  test('Docker Hub under its legacy URL key, for every name of it', () => {
    for (const registry of ['docker.io', 'index.docker.io', 'registry-1.docker.io']) {
      expect(credentialFor(credentials, registry, 'library/busybox')).toEqual({ username: 'hub', password: 'h' });
    }
  });

  test('an entry with nothing to send, and an unknown registry: none', () => {
    expect(credentialFor(credentials, 'registry.example.com:5000', 'x')).toBeUndefined();
    expect(credentialFor(credentials, 'other.io', 'x')).toBeUndefined();
  });

  test.each([
    ['https://quay.io/', 'quay.io'],
    ['http://r:5000/v2/', 'r:5000'],
    ['quay.io/org/', 'quay.io/org'],
  ])('key %s is %s', (key, normalised) => {
    expect(normaliseAuthKey(key)).toBe(normalised);
  });

  test.each([
    ['{', /auth\.json is not JSON/],
    ['[]', /must be a docker config JSON object with an "auths" object/],
    ['{"auths": {"q": 1}}', /auths\["q"\] must be an object/],
    [`{"auths": {"q": {"auth": "${b64('nocolon')}"}}}`, /auths\["q"\]\.auth must be base64 of "user:password"/],
  ])('%s is refused', (text, message) => {
    expect(() => parseAuthFile('auth.json', text)).toThrow(message);
  });
});

describe('parseChallenges', () => {
  test('a Bearer challenge with quoted parameters', () => {
    expect(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' } },
    ]);
  });

  test('several challenges joined, token values, escapes and commas inside quotes', () => {
    expect(parseChallenges('Basic realm="a \\"b\\", c", Bearer realm=https://t, error=insufficient_scope')).toEqual([
      { scheme: 'basic', params: { realm: 'a "b", c' } },
      { scheme: 'bearer', params: { realm: 'https://t', error: 'insufficient_scope' } },
    ]);
  });

  test('nothing parses to nothing', () => {
    expect(parseChallenges('')).toEqual([]);
  });
});

describe('unit environment (as systemd reads Environment=)', () => {
  test('reads back exactly what the generator\'s quoting wrote', () => {
    for (const value of ['quay.io/a/b', 'with space', 'q"uote', 'back\\slash', '100%', 'tab\there', 'new\nline']) {
      expect(unitEnvironment(`[Service]\nEnvironment=${environmentAssignment('V', value)}\n`, []).get('V')).toBe(value);
    }
  });

  test('several words, single quotes, unquoted words, continuation lines, comments, other sections', () => {
    const unit = [
      '[Unit]', 'Environment=IGNORED=1', '[Service]', '# Environment=COMMENTED=1',
      'Environment=A=1 "B=two words" \'C=x y\' \\', '  D=4', 'Environment = E=5',
    ].join('\n');
    expect(Object.fromEntries(unitEnvironment(unit, []))).toEqual({ A: '1', B: 'two words', C: 'x y', D: '4', E: '5' });
  });

  test('an empty Environment= clears; drop-ins apply after the unit, in name order', () => {
    const unit = '[Service]\nEnvironment=A=1 B=1\n';
    const dropins = [{ name: '20-b.conf', contents: '[Service]\nEnvironment=B=3\n' }, { name: '10-a.conf', contents: '[Service]\nEnvironment=\nEnvironment=B=2 C=2\n' }];
    expect(Object.fromEntries(unitEnvironment(unit, dropins))).toEqual({ B: '3', C: '2' });
  });

  test('words: escapes outside quotes, \\x, adjacent quoted parts', () => {
    expect(environmentWords('A=a\\x41"b c"d \\s')).toEqual(['A=aAb cd', ' ']);
  });
});

describe('parseCheckImagesArguments', () => {
  test('every flag, repeatable ones in order, positional paths anywhere, -- before a dash path', () => {
    expect(parseCheckImagesArguments([
      'a.yaml', '--kernel-release', 'k1', '-kernel-release=k2', '--nodes', 'n.json', 'dir', '--authfile=auth.json',
      '--ca-file', 'ca1', '--ca-file', 'ca2', '--insecure-registry', 'r:5000', '--timeout', '2.5', '--output', 'json', '--', '-odd',
    ])).toEqual({
      action: 'check',
      options: {
        paths: ['a.yaml', 'dir', '-odd'],
        kernelReleases: ['k1', 'k2'],
        nodesFiles: ['n.json'],
        authfile: 'auth.json',
        caFiles: ['ca1', 'ca2'],
        insecureRegistries: ['r:5000'],
        timeoutSeconds: 2.5,
        output: 'json',
      },
    });
  });

  test('defaults', () => {
    expect(parseCheckImagesArguments(['x', '--nodes', 'n'])).toEqual({
      action: 'check',
      options: { paths: ['x'], kernelReleases: [], nodesFiles: ['n'], authfile: undefined, caFiles: [], insecureRegistries: [], timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, output: 'table' },
    });
  });

  test.each([['-h'], ['--help']])('%s asks for help, whatever else is there', (flag) => {
    expect(parseCheckImagesArguments(['--bogus-later-is-not-reached', flag].slice(1))).toEqual({ action: 'help' });
    expect(parseCheckImagesArguments(['x', flag, '--nope'])).toEqual({ action: 'help' });
  });
});

describe('usage errors: exit 2, the message and a hint on stderr, nothing on stdout', () => {
  // Made while the tests are collected: the expected messages name its files.
  const dir = mkdtempSync(join(tmpdir(), 'day1-check-images-usage-'));
  beforeAll(() => {
    writeFileSync(join(dir, 'mc.yaml'), produceMachineConfig({ machineConfigName: 'm', machineConfigPoolRef: 'worker', kernelModuleImage: 'r.io/a/b', kernelModuleName: 'b' }));
    writeFileSync(join(dir, 'bad.yaml'), 'a: [\n');
    writeFileSync(join(dir, 'other.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    writeFileSync(join(dir, 'tagged.yaml'), produceMachineConfig({ machineConfigName: 't', machineConfigPoolRef: 'worker', kernelModuleImage: 'r.io/a/b', kernelModuleName: 'b' })
      .replace('KERNEL_MODULE_IMAGE=r.io/a/b', 'KERNEL_MODULE_IMAGE=r.io/a/b:v1'));
    writeFileSync(join(dir, 'nodes.json'), JSON.stringify({ kind: 'List', items: [{ kind: 'Node', metadata: { name: 'n' }, status: {} }] }));
    writeFileSync(join(dir, 'auth.json'), '{"auths": []}');
    writeFileSync(join(dir, 'not-a-cert.pem'), 'hello\n');
    // A folder whose files are no inputs: a README, a script, a dangling link named like YAML.
    mkdirSync(join(dir, 'no-inputs'));
    writeFileSync(join(dir, 'no-inputs', 'README.md'), 'kind: MachineConfig\n');
    writeFileSync(join(dir, 'no-inputs', 'units.service'), '[Service]\nEnvironment=KERNEL_MODULE_IMAGE=r.io/a/b\n');
    symlinkSync(join(dir, 'nowhere.yaml'), join(dir, 'no-inputs', 'dangling.yaml'));
    writeFileSync(join(dir, 'badmc.yaml'), 'kind: MachineConfig\nmetadata: {name: broken}\nspec: {config: {systemd: {units: [{enabled: true}]}}}\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, () => string[], string | RegExp]> = [
    ['unknown flag', () => ['x', '--kernel-release', 'k', '--nope'], 'unknown flag "--nope"'],
    ['unknown flag with a value', () => ['x', '--nope=1'], 'unknown flag "--nope"'],
    ['flag without value', () => ['x', '--kernel-release'], 'flag --kernel-release needs a value'],
    ['flag followed by a flag', () => ['x', '--authfile', '--kernel-release', 'k'], 'flag --authfile needs a value'],
    ['repeated single flag', () => ['x', '--kernel-release', 'k', '--output', 'json', '--output', 'table'], 'flag --output is given more than once'],
    ['empty value', () => ['x', '--kernel-release', ''], 'flag --kernel-release needs a non-empty value'],
    ['help with a value', () => ['--help=1'], 'flag --help does not take a value'],
    ['bad --output', () => ['x', '--kernel-release', 'k', '--output', 'yaml'], 'invalid --output "yaml": must be table or json'],
    ['bad --timeout', () => ['x', '--kernel-release', 'k', '--timeout', '0'], 'invalid --timeout "0": must be a number of seconds above 0 and at most 3600'],
    ['non-numeric --timeout', () => ['x', '--kernel-release', 'k', '--timeout', '1e3'], 'invalid --timeout "1e3": must be a number of seconds above 0 and at most 3600'],
    ['no file', () => ['--kernel-release', 'k'], 'no MachineConfig or BootModuleConfig file or folder given'],
    ['no release', () => [join(dir, 'mc.yaml')], 'no kernel release: give --kernel-release or --nodes'],
    ['missing file', () => [join(dir, 'nope.yaml'), '--kernel-release', 'k'], `cannot read ${JSON.stringify(join(dir, 'nope.yaml'))}: ENOENT`],
    ['not YAML', () => [join(dir, 'bad.yaml'), '--kernel-release', 'k'], new RegExp(`^${join(dir, 'bad.yaml')} is neither YAML nor JSON: `)],
    ['no Day 1 object', () => [join(dir, 'other.yaml'), '--kernel-release', 'k'], `no Day 1 MachineConfig or BootModuleConfig in ${JSON.stringify(join(dir, 'other.yaml'))}`],
    ['a folder without inputs (other files and dangling links are skipped)', () => [join(dir, 'no-inputs'), '--kernel-release', 'k'],
      `no Day 1 MachineConfig or BootModuleConfig in ${JSON.stringify(join(dir, 'no-inputs'))}`],
    ['a module image with a tag', () => [join(dir, 'tagged.yaml'), '--kernel-release', 'k'],
      new RegExp(`^${join(dir, 'tagged.yaml')}: MachineConfig "t": Invalid KERNEL_MODULE_IMAGE "r.io/a/b:v1": must not have a tag or digest`)],
    ['a malformed MachineConfig', () => [join(dir, 'badmc.yaml'), '--kernel-release', 'k'],
      `${join(dir, 'badmc.yaml')}: MachineConfig "broken": Invalid spec.config.systemd.units[0].name undefined: must be a non-empty string`],
    ['a bad kernel release', () => [join(dir, 'mc.yaml'), '--kernel-release', '.hidden'], /^Invalid --kernel-release "\.hidden": must be a kernel release/],
    ['nodes without kernel versions', () => [join(dir, 'mc.yaml'), '--nodes', join(dir, 'nodes.json')],
      `--nodes ${join(dir, 'nodes.json')}: no Node with status.nodeInfo.kernelVersion (expected the output of \`oc get nodes -o json\`)`],
    ['a bad authfile', () => [join(dir, 'mc.yaml'), '--kernel-release', 'k', '--authfile', join(dir, 'auth.json')],
      `--authfile ${join(dir, 'auth.json')} must be a docker config JSON object with an "auths" object`],
    ['a missing authfile', () => [join(dir, 'mc.yaml'), '--kernel-release', 'k', '--authfile', join(dir, 'none.json')],
      `cannot read --authfile ${JSON.stringify(join(dir, 'none.json'))}: ENOENT`],
    ['a CA file without certificate', () => [join(dir, 'mc.yaml'), '--kernel-release', 'k', '--ca-file', join(dir, 'not-a-cert.pem')],
      `--ca-file ${JSON.stringify(join(dir, 'not-a-cert.pem'))} holds no PEM certificate`],
  ];

  test.each(cases)('%s', async (_, args, message) => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const status = await checkImages(args(), { stdout: (text) => stdout.push(text), stderr: (text) => stderr.push(text) });
    expect(stdout.join('')).toBe('');
    const text = stderr.join('');
    expect(text.endsWith("\nRun 'day1-utility check-images --help' for usage.\n")).toBe(true);
    const line = text.split('\n')[0];
    expect(line.startsWith('day1-utility check-images: ')).toBe(true);
    const problem = line.slice('day1-utility check-images: '.length);
    if (typeof message === 'string') expect(problem).toBe(message);
    else expect(problem).toMatch(message);
    expect(status).toBe(2);
  });
});

describe('help', () => {
  test('check-images --help prints its usage, exit 0', async () => {
    const stdout: string[] = [];
    const status = await checkImages(['--help'], { stdout: (text) => stdout.push(text), stderr: () => { throw new Error('no stderr expected'); } });
    expect(status).toBe(0);
    expect(stdout.join('')).toBe(checkImagesUsage());
    for (const flag of ['--kernel-release', '--nodes', '--authfile', '--ca-file', '--insecure-registry', '--timeout', '--output']) {
      expect(checkImagesUsage()).toContain(`  ${flag} `);
    }
    expect(checkImagesUsage()).toMatch(/Exit status: 0 when every image exists, 1 when one is missing.*\n.*2 on a usage error.*3 when none is missing but a registry could\nnot answer/);
  });

  test('the top-level help points at the subcommand', () => {
    expect(usage()).toContain('\nSubcommand:\n  day1-utility check-images ');
  });
});

describe('as a process (spawned)', () => {
  const libOf = (...parts: string[]) => join(ROOT, 'lib', ...parts);
  const subcommandModules = (modules: readonly string[]) => modules.filter((m) => m.startsWith(libOf('cli', 'check-images')) || m.startsWith(libOf('registry')));

  test('check-images --help: its usage on stdout, exit 0', () => {
    expect(runCli(['check-images', '--help'])).toEqual({ status: 0, stdout: checkImagesUsage(), stderr: '' });
  });

  test('a usage error: exit 2, nothing on stdout', () => {
    expect(runCli(['check-images', '--kernel-release', 'k'])).toEqual({
      status: 2,
      stdout: '',
      stderr: 'day1-utility check-images: no MachineConfig or BootModuleConfig file or folder given\nRun \'day1-utility check-images --help\' for usage.\n',
    });
  });

  test('the top-level command loads nothing of the subcommand, for generating, help and usage errors', () => {
    for (const args of [REFERENCE_ARGS, ['--help'], ['--bogus']]) {
      const { result, modules } = loadedModules(args);
      expect(result.status === 0 || result.status === 2).toBe(true);
      expect(modules).toContain(CLI);
      expect(subcommandModules(modules)).toEqual([]);
    }
  });

  test('check-images loads its modules, and neither cdk8s nor constructs nor the package index', () => {
    const { result, modules } = loadedModules(['check-images', '--help']);
    expect(result.status).toBe(0);
    expect(modules).toContain(libOf('cli', 'check-images', 'command.js'));
    expect(modules).toContain(libOf('registry', 'client.js'));
    expect(modules.filter((m) => /[\\/]node_modules[\\/](cdk8s|cdk8s-plus-\d+|constructs)[\\/]/.test(m))).toEqual([]);
    expect(modules).not.toContain(libOf('index.js'));
    expect(modules.filter((m) => /[\\/]lib[\\/](constructs|imports)[\\/]/.test(m))).toEqual([]);
  });
});

describe('readModules: units written as files (hand-written Butane)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'day1-check-images-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const unitText = (image: string, worker: string) => `[Unit]\nBefore=network-pre.target\n[Service]\nType=oneshot\nEnvironment="KERNEL_MODULE=ice" "KERNEL_MODULE_IMAGE=${image}"\nEnvironment=WORKER_IMAGE=${worker}\n`;
  const machineConfig = (units: object[]) => ({
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: { name: '99-worker-butane', labels: { 'machineconfiguration.openshift.io/role': 'worker' } },
    spec: {
      config: {
        ignition: { version: '3.2.0' },
        storage: {
          files: [
            {
              path: '/etc/systemd/system/ice-load.service',
              contents: { compression: 'gzip', source: `data:;base64,${gzipSync(unitText('r.io/day1/ice', 'r.io/kmm/worker:v1')).toString('base64')}` },
            },
            {
              path: '/etc/systemd/system/ice-load.service.d/10-worker.conf',
              contents: { source: `data:,${encodeURIComponent('[Service]\nEnvironment=WORKER_IMAGE=r.io/kmm/worker:v2\n')}` },
            },
            { path: '/etc/other.conf', contents: { source: 'data:,x' } },
          ],
        },
        systemd: { units },
      },
    },
  });

  test('a gzip base64 unit file and a percent-encoded drop-in file are read, decoded by the pool model', () => {
    const file = join(dir, 'files.json');
    writeFileSync(file, JSON.stringify(machineConfig([{ name: 'ice-load.service', enabled: true }])));
    expect(readModules([file])).toEqual([{
      source: file, kind: 'MachineConfig', machineConfigName: '99-worker-butane', moduleName: 'ice', moduleImage: 'r.io/day1/ice', workerImage: 'r.io/kmm/worker:v2',
    }]);
  });

  test('a unit\'s own contents win over the file of the same path (Ignition writes units after files)', () => {
    const file = join(dir, 'both.json');
    writeFileSync(file, JSON.stringify(machineConfig([{ name: 'ice-load.service', enabled: true, contents: unitText('r.io/day1/ice2', 'r.io/kmm/worker:v3') }])));
    expect(readModules([file])).toEqual([{
      source: file, kind: 'MachineConfig', machineConfigName: '99-worker-butane', moduleName: 'ice', moduleImage: 'r.io/day1/ice2', workerImage: 'r.io/kmm/worker:v2',
    }]);
  });
});

describe('the tag rule is the one the node runs', () => {
  // The scripts' own lines, run by bash: the replace script's sanitize function and kernel_tag
  // assignment, the pull script's tag_of function. check-images must ask for exactly the tag
  // the node will pull, and both scripts must agree on it.
  const script = (path: string) => bootScripts().find((file) => file.path === path)!.contents;
  const replace = script(REPLACE_SCRIPT_PATH);
  const sanitize = /^sanitize\(\) \{\n[\s\S]*?\n\}\n/m.exec(replace)?.[0];
  const assignment = /^kernel_tag=.*$/m.exec(replace)?.[0];
  const tagOf = /^tag_of\(\) \{\n[\s\S]*?\n\}\n/m.exec(script(PULL_SCRIPT_PATH))?.[0];

  /** What `program` prints for kernel release `release` under bash. */
  function bash(program: string, release: string): string {
    // stdin not a socket: bash would read ~/.bashrc when it thinks a remote shell daemon started it.
    const result = spawnSync('bash', ['--norc', '--noprofile', '-c', program, 'bash', release],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { LC_ALL: 'C.UTF-8', PATH: process.env.PATH } });
    expect(result.stderr).toBe('');
    return result.stdout;
  }

  test.each([
    '5.14.0-284.59.1.el9_2.x86_64', '5.14.0-427.el9.aarch64+64k', '6.1.0+', '6.1.0++', '6.1.0+rt', 'a b\tc', 'ü-é/ß~x', '6.1-\u{1F600}+', '5.14.0-rt+x+', '',
  ])('%j', (release) => {
    expect([sanitize, assignment, tagOf].map((found) => found !== undefined)).toEqual([true, true, true]);
    expect(bash(`${sanitize}kernel_release="$1"\n${assignment}\nprintf '%s' "\${kernel_tag}"`, release)).toBe(kernelReleaseTag(release));
    expect(bash(`${tagOf}tag_of "$1"\nprintf '%s' "\${REPLY}"`, release)).toBe(kernelReleaseTag(release));
  });
});
