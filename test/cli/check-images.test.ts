import { spawn } from 'child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { dump, load } from 'js-yaml';
import {
  freePort, htpasswdFile, PASSWORD, push, Registry, selfSigned, startRegistry, startTokenIssuer, TokenIssuer, USER, withRegistry, writeOciLayout,
} from './registry-harness';
import { CLI, requireBuiltCli, ROOT } from './run-cli';
import { checkImages } from '../../src/cli/check-images/command';
import { produceMachineConfig } from '../../src/machine-config/generator';
import { kmmOperatorMachineConfig } from '../util/kmm-operator';

/*
 * check-images against a real registry (docker-registry, distribution 2.8) in every auth mode,
 * with inputs in every format a user may hold. Most runs call the subcommand in this process
 * (it is async, so the token issuer, also in this process, answers while it runs); a few spawn
 * the built CLI for what only a process shows.
 */

const K1 = '5.14.0-427.13.1.el9_4.x86_64';
const K2 = '5.14.0-570.el9.aarch64+64k';
const K2_TAG = '5.14.0-570.el9.aarch64_64k';
const FIXTURES = join(__dirname, '..', 'fixtures');
const OLD_WORKER = 'quay.io/edge-infrastructure/kernel-module-management-worker:latest';
/** Every frozen interface version (interface-v1, -v2, ... as they are added): same modules, same images. */
const INTERFACE_FIXTURES = readdirSync(FIXTURES).filter((name) => /^interface-v\d+$/.test(name)).sort();
const interfaceFormat = (version: string) => `${version.replace('-v', ' v')} (frozen fixture)`;

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(args: readonly string[]): Promise<Run> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = await checkImages(args, { stdout: (text) => stdout.push(text), stderr: (text) => stderr.push(text) });
  return { status, stdout: stdout.join(''), stderr: stderr.join('') };
}

/** The built CLI in a child process, without blocking this one (the token issuer lives here). */
function spawnCli(args: readonly string[]): Promise<Run> {
  requireBuiltCli();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status: status ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

interface JsonImage {
  module: string;
  machineConfig: string;
  kind: string;
  role: string;
  kernelRelease: string | null;
  image: string;
  state: string;
  digest: string | null;
  reason: string | null;
}

function jsonImages(result: Run): JsonImage[] {
  return (JSON.parse(result.stdout) as { images: JsonImage[] }).images;
}

/** What a row of the JSON report must be: [module, MachineConfig, role, kernel, image]. */
type Expected = readonly [string, string, 'module' | 'worker', string | null, string];

let work: string;
let storage: string;
let open: Registry;
/** Digest of each pushed image, as skopeo reads it back. */
let digests: Map<string, string>;

const PUSHED = [
  `day1/ice-driver:${K1}`, `day1/ice-driver:${K2_TAG}`,
  `day1/sfc-driver:${K1}`, // no K2 image: the "missing" case
  `day1/kmm-driver:${K1}`, `day1/kmm-driver:${K2_TAG}`,
  'kmm/worker:v1',
];

/** The pushed image as another registry (same storage) serves it. */
function digestOf(image: string): string {
  const path = image.slice(image.indexOf('/') + 1);
  const digest = digests.get(`${open.host}/${path}`);
  if (digest === undefined) throw new Error(`${path} was not pushed`);
  return digest;
}

/** Every input format, written for a registry host; returns the folder and each format's file or folder. */
function writeInputs(host: string): { dir: string; formats: Record<string, string> } {
  const dir = mkdtempSync(join(work, 'inputs-'));
  const rewrite = (text: string) => text
    .replace(/quay\.io\/example\/(ice|sfc)-driver/g, `${host}/day1/$1-driver`)
    .split(OLD_WORKER).join(`${host}/kmm/worker:v1`);
  for (const version of INTERFACE_FIXTURES) {
    mkdirSync(join(dir, version));
    for (const name of readdirSync(join(FIXTURES, version)).filter((file) => file.endsWith('.yaml'))) {
      writeFileSync(join(dir, version, name), rewrite(readFileSync(join(FIXTURES, version, name), 'utf8')));
    }
  }
  const current = produceMachineConfig({
    machineConfigName: '99-worker-current-ice',
    machineConfigPoolRef: 'worker',
    kernelModuleImage: `${host}/day1/ice-driver`,
    kernelModuleName: 'ice',
    workerImage: `${host}/kmm/worker:v1`,
  });
  writeFileSync(join(dir, 'current.yaml'), current);
  const operator = kmmOperatorMachineConfig({
    machineConfigName: '99-worker-kmm-operator',
    machineConfigPoolName: 'worker',
    kernelModuleImage: `${host}/day1/kmm-driver`,
    kernelModuleName: 'kmmdrv',
    workerImage: `${host}/kmm/worker:v1`,
  });
  writeFileSync(join(dir, 'kmm-operator.json'), JSON.stringify(operator, null, 2));
  writeFileSync(join(dir, 'kmm-day1-utility.yaml'),
    readFileSync(join(__dirname, 'fixtures', 'kmm-day1-utility.yaml'), 'utf8').split('@REGISTRY@').join(host));
  const bootModuleConfig = {
    apiVersion: 'kmm.sigs.x-k8s.io/v1beta1',
    kind: 'BootModuleConfig',
    metadata: { name: 'ice-handover', namespace: 'openshift-kmm' },
    spec: { machineConfigName: '99-worker-current-ice', machineConfigPoolName: 'worker', kernelModuleImage: `${host}/day1/ice-driver`, kernelModuleName: 'ice' },
  };
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated' }, data: { a: 'b' } };
  writeFileSync(join(dir, 'multi-document.yml'), [dump(configMap), dump(bootModuleConfig)].join('---\n'));
  writeFileSync(join(dir, 'oc-get-list.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [operator, load(current)] }));
  return {
    dir,
    formats: {
      ...Object.fromEntries(INTERFACE_FIXTURES.map((version) => [interfaceFormat(version), join(dir, version)])),
      'this release (generator)': join(dir, 'current.yaml'),
      'the KMM operator\'s rewrite (JSON)': join(dir, 'kmm-operator.json'),
      'KMM\'s day1-utility output': join(dir, 'kmm-day1-utility.yaml'),
      'a BootModuleConfig in a multi-document YAML': join(dir, 'multi-document.yml'),
      'an `oc get -o json` List': join(dir, 'oc-get-list.json'),
    },
  };
}

/** The rows each format must give for one kernel release (tag), worker rows after module rows. */
function expectedRows(host: string, release: string, tag: string): Record<string, Expected[]> {
  const worker = `${host}/kmm/worker:v1`;
  const oot: Expected[] = [
    ['ice', '99-oot-nic-kmm-day1-ice', 'module', release, `${host}/day1/ice-driver:${tag}`],
    ['ice', '99-oot-nic-kmm-day1-ice', 'worker', null, worker],
    ['sfc', '99-oot-nic-kmm-day1-sfc', 'module', release, `${host}/day1/sfc-driver:${tag}`],
    ['sfc', '99-oot-nic-kmm-day1-sfc', 'worker', null, worker],
  ];
  const current: Expected[] = [
    ['ice', '99-worker-current-ice', 'module', release, `${host}/day1/ice-driver:${tag}`],
    ['ice', '99-worker-current-ice', 'worker', null, worker],
  ];
  const operator: Expected[] = [
    ['kmmdrv', '99-worker-kmm-operator', 'module', release, `${host}/day1/kmm-driver:${tag}`],
    ['kmmdrv', '99-worker-kmm-operator', 'worker', null, worker],
  ];
  return {
    ...Object.fromEntries(INTERFACE_FIXTURES.map((version) => [interfaceFormat(version), oot])),
    'this release (generator)': current,
    'the KMM operator\'s rewrite (JSON)': operator,
    'KMM\'s day1-utility output': [
      ['kmmdrv', '99-worker-kmm-utility', 'module', release, `${host}/day1/kmm-driver:${tag}`],
      ['kmmdrv', '99-worker-kmm-utility', 'worker', null, worker],
    ],
    // No workerImage: the operator's own worker image, which check-images cannot know.
    'a BootModuleConfig in a multi-document YAML': [['ice', '99-worker-current-ice', 'module', release, `${host}/day1/ice-driver:${tag}`]],
    'an `oc get -o json` List': [...operator, ...current],
  };
}

function rowsOf(result: Run): Expected[] {
  return jsonImages(result).map((image) => [image.module, image.machineConfig, image.role as 'module' | 'worker', image.kernelRelease, image.image]);
}

const withTools = withRegistry();

beforeAll(async () => {
  if (withTools === test.skip) return;
  work = mkdtempSync(join(tmpdir(), 'day1-check-images-'));
  storage = join(work, 'storage');
  const layout = join(work, 'layout');
  writeOciLayout(layout, PUSHED.map((_, i) => `image-${i}`));
  open = await startRegistry('open', { storage, work });
  digests = await push(layout, open.host, PUSHED.map((image, i) => ({ refName: `image-${i}`, image })));
}, 120_000);

afterAll(async () => {
  await open?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('open registry', () => {
  let inputs: ReturnType<typeof writeInputs>;
  beforeAll(() => {
    if (withTools !== test.skip) inputs = writeInputs(open.host);
  });
  const insecure = () => ['--insecure-registry', open.host];

  describe.each(Object.keys(expectedRows('h', K1, K1)))('reads %s', (format) => {
    withTools('every image present: exit 0, the digests skopeo reads, nothing on stderr', async () => {
      const result = await run([inputs.formats[format], '--kernel-release', K1, '--output', 'json', ...insecure()]);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(rowsOf(result)).toEqual(expectedRows(open.host, K1, K1)[format]);
      for (const image of jsonImages(result)) {
        expect({ image: image.image, state: image.state, digest: image.digest }).toEqual({ image: image.image, state: 'present', digest: digestOf(image.image) });
      }
    });
  });

  withTools('a missing tag: exit 1, MISSING in the table, the image named on stderr', async () => {
    const result = await run([inputs.formats['interface v2 (frozen fixture)'], '--kernel-release', K2, ...insecure()]);
    const missing = `${open.host}/day1/sfc-driver:${K2_TAG}`;
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`day1-utility check-images: MISSING ${missing} (module sfc, MachineConfig 99-oot-nic-kmm-day1-sfc, kernel ${K2})\n`);
    const lines = result.stdout.split('\n');
    expect(lines[0].split(/\s+/)).toEqual(['MODULE', 'MACHINECONFIG', 'KERNEL', 'IMAGE', 'RESULT']);
    expect(lines.find((line) => line.includes(missing))?.split(/\s+/)).toEqual(['sfc', '99-oot-nic-kmm-day1-sfc', K2, missing, 'MISSING']);
    const ice = `${open.host}/day1/ice-driver:${K2_TAG}`;
    expect(lines.find((line) => line.includes(ice))?.split(/\s+/)).toEqual(['ice', '99-oot-nic-kmm-day1-ice', K2, ice, digestOf(ice)]);
    expect(result.stdout).toContain('\n4 images: 3 present, 1 missing, 0 unknown\n');
  });

  withTools('a missing worker image is named too', async () => {
    const file = join(work, 'missing-worker.yaml');
    writeFileSync(file, produceMachineConfig({
      machineConfigName: '99-worker-w',
      machineConfigPoolRef: 'worker',
      kernelModuleImage: `${open.host}/day1/ice-driver`,
      kernelModuleName: 'ice',
      workerImage: `${open.host}/kmm/worker:v2`,
    }));
    const result = await run([file, '--kernel-release', K1, ...insecure()]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`day1-utility check-images: MISSING ${open.host}/kmm/worker:v2 (worker image of module ice, MachineConfig 99-worker-w)\n`);
  });

  withTools('--output json: the releases, every image, a summary and the exit status', async () => {
    const result = await run([inputs.formats['this release (generator)'], '--kernel-release', K1, '--kernel-release', K2, '--output', 'json', ...insecure()]);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.kernelReleases).toEqual([{ release: K1, tag: K1 }, { release: K2, tag: K2_TAG }]);
    expect(report.summary).toEqual({ present: 3, missing: 0, unknown: 0 });
    expect(report.exitStatus).toBe(0);
    expect(report.images[1]).toEqual({
      module: 'ice',
      machineConfig: '99-worker-current-ice',
      kind: 'MachineConfig',
      source: inputs.formats['this release (generator)'],
      role: 'module',
      kernelRelease: K2,
      image: `${open.host}/day1/ice-driver:${K2_TAG}`,
      state: 'present',
      digest: digestOf(`${open.host}/day1/ice-driver:${K2_TAG}`),
      reason: null,
    });
  });

  withTools('--nodes: every kernelVersion of `oc get nodes -o json`, each once, after --kernel-release', async () => {
    const node = (name: string, kernelVersion: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { nodeInfo: { kernelVersion } } });
    const nodes = join(work, 'nodes.json');
    writeFileSync(nodes, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [node('a', K2), node('b', K1), node('c', K2)] }));
    const result = await run([inputs.formats['this release (generator)'], '--nodes', nodes, '--output', 'json', ...insecure()]);
    expect(JSON.parse(result.stdout).kernelReleases.map((r: { release: string }) => r.release)).toEqual([K2, K1]);
    expect(result.status).toBe(0);
    const withFlag = await run([inputs.formats['interface v1 (frozen fixture)'], '--kernel-release', K1, '--nodes', nodes, ...insecure()]);
    expect(withFlag.status).toBe(1);
    expect(withFlag.stderr).toContain(`MISSING ${open.host}/day1/sfc-driver:${K2_TAG} `);
  });

  withTools('the whole folder at once: every format together', async () => {
    const result = await run([inputs.dir, '--kernel-release', K1, '--output', 'json', ...insecure()]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const images = jsonImages(result);
    expect(new Set(images.map((image) => image.machineConfig))).toEqual(new Set([
      '99-oot-nic-kmm-day1-ice', '99-oot-nic-kmm-day1-sfc', '99-worker-current-ice', '99-worker-kmm-operator', '99-worker-kmm-utility',
    ]));
    expect(images.every((image) => image.state === 'present')).toBe(true);
  });

  withTools('without --insecure-registry the plain-http registry is not spoken to over TLS: unknown, exit 3', async () => {
    const result = await run([inputs.formats['this release (generator)'], '--kernel-release', K1, '--timeout', '5']);
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(new RegExp(`UNKNOWN ${open.host}/day1/ice-driver:${K1} .*: TLS with ${open.host} failed`));
  });

  withTools('missing wins over unknown: exit 1, both named', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const file = join(work, 'missing-and-unknown.yaml');
    writeFileSync(file, produceMachineConfig({
      machineConfigName: '99-worker-dead',
      machineConfigPoolRef: 'worker',
      kernelModuleImage: `${open.host}/day1/sfc-driver`,
      kernelModuleName: 'sfc',
      workerImage: `${dead}/kmm/worker:v1`,
    }));
    const result = await run([file, '--kernel-release', K2, ...insecure(), '--insecure-registry', dead]);
    expect(result.status).toBe(1);
    expect(result.stderr.split('\n').map((line) => line.split(' ').slice(2, 4).join(' '))).toEqual([
      `MISSING ${open.host}/day1/sfc-driver:${K2_TAG}`, `UNKNOWN ${dead}/kmm/worker:v1`, '',
    ]);
  });

  withTools('a reader that went away does not change the exit status', async () => {
    const status = await checkImages([inputs.formats['interface v2 (frozen fixture)'], '--kernel-release', K2, ...insecure()], {
      stdout: () => {
        throw new Error('EPIPE');
      },
      stderr: () => {
        throw new Error('EPIPE');
      },
    });
    expect(status).toBe(1);
  });

  withTools('as a process: the table on stdout, exit 1 on a missing tag', async () => {
    const result = await spawnCli(['check-images', inputs.formats['interface v1 (frozen fixture)'], '--kernel-release', K2, ...insecure()]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^MODULE +MACHINECONFIG +KERNEL +IMAGE +RESULT\n/);
    expect(result.stderr).toContain(`MISSING ${open.host}/day1/sfc-driver:${K2_TAG} `);
  });
});

describe('htpasswd basic auth', () => {
  let registry: Registry;
  let inputs: ReturnType<typeof writeInputs>;
  beforeAll(async () => {
    if (withTools === test.skip) return;
    const file = join(work, 'htpasswd');
    await htpasswdFile(file, USER, PASSWORD);
    registry = await startRegistry('basic', { storage, work, auth: { htpasswd: file } });
    inputs = writeInputs(registry.host);
  }, 60_000);
  afterAll(async () => registry?.stop());

  const authfile = (name: string, entry: object) => {
    const file = join(work, `${name}.json`);
    writeFileSync(file, JSON.stringify({ auths: { 'quay.io': { auth: Buffer.from('someone:else').toString('base64') }, [registry.host]: entry } }));
    return file;
  };
  const args = (...more: string[]) => [inputs.formats['KMM\'s day1-utility output'], '--kernel-release', K1, '--insecure-registry', registry.host, ...more];

  withTools('auths.<host>.auth (base64 user:password): exit 0 with the digests', async () => {
    const result = await run([...args('--output', 'json'), '--authfile', authfile('auth', { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') })]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(jsonImages(result).map((image) => image.digest)).toEqual([`${registry.host}/day1/kmm-driver:${K1}`, `${registry.host}/kmm/worker:v1`].map(digestOf));
  });

  withTools('username and password fields: exit 0', async () => {
    const result = await run([...args(), '--authfile', authfile('fields', { username: USER, password: PASSWORD })]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  withTools('a missing tag is still MISSING behind basic auth: exit 1', async () => {
    const result = await run([inputs.formats['interface v2 (frozen fixture)'], '--kernel-release', K2, '--insecure-registry', registry.host,
      '--authfile', authfile('auth2', { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') })]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`day1-utility check-images: MISSING ${registry.host}/day1/sfc-driver:${K2_TAG} (module sfc, MachineConfig 99-oot-nic-kmm-day1-sfc, kernel ${K2})\n`);
  });

  withTools('no credentials or a wrong password: neither present nor missing, exit 3, saying why', async () => {
    const anonymous = await run(args());
    expect(anonymous.status).toBe(3);
    expect(anonymous.stderr).toContain(`${registry.host} denied access to day1/kmm-driver (HTTP 401) without credentials: no --authfile entry for ${registry.host}`);
    const wrong = await run([...args(), '--authfile', authfile('wrong', { username: USER, password: 'nope' })]);
    expect(wrong.status).toBe(3);
    expect(wrong.stderr).toContain(`denied access to day1/kmm-driver (HTTP 401) with the credentials of --authfile for ${registry.host}`);
  });
});

describe.each(['token', 'access_token'] as const)('token auth (the registry\'s `token` mode, the issuer answering "%s")', (field) => {
  let issuer: TokenIssuer;
  let registry: Registry;
  let inputs: ReturnType<typeof writeInputs>;
  beforeAll(async () => {
    if (withTools === test.skip) return;
    issuer = await startTokenIssuer(work, field);
    registry = await startRegistry(`token-${field}`, { storage, work, auth: { token: issuer } });
    inputs = writeInputs(registry.host);
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
    await issuer?.stop();
  });

  const authfile = (password: string) => {
    const file = join(work, `token-${field}-${password}.json`);
    writeFileSync(file, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${USER}:${password}`).toString('base64') } } }));
    return file;
  };

  withTools('with the pull secret: tokens per repository, digests, exit 0; a missing tag exits 1', async () => {
    issuer.requests.length = 0;
    const result = await run([inputs.formats['interface v1 (frozen fixture)'], '--kernel-release', K1, '--kernel-release', K2, '--output', 'json',
      '--insecure-registry', registry.host, '--authfile', authfile(PASSWORD)]);
    expect(result.status).toBe(1);
    const byImage = new Map(jsonImages(result).map((image) => [image.image, image]));
    expect(byImage.get(`${registry.host}/day1/sfc-driver:${K2_TAG}`)?.state).toBe('missing');
    expect(byImage.get(`${registry.host}/day1/ice-driver:${K2_TAG}`)?.digest).toBe(digestOf(`${registry.host}/day1/ice-driver:${K2_TAG}`));
    expect(byImage.get(`${registry.host}/kmm/worker:v1`)?.digest).toBe(digestOf(`${registry.host}/kmm/worker:v1`));
    // One token per scope, asked with the credentials, for the service the registry named.
    expect(issuer.requests.map((request) => request.scope).sort()).toEqual(
      ['repository:day1/ice-driver:pull', 'repository:day1/sfc-driver:pull', 'repository:kmm/worker:pull']);
    expect(issuer.requests.every((request) => request.authorised && request.service === issuer.service)).toBe(true);
  });

  withTools('a wrong password: the token service refuses, exit 3 naming it', async () => {
    const result = await run([inputs.formats['this release (generator)'], '--kernel-release', K1, '--insecure-registry', registry.host, '--authfile', authfile('wrong')]);
    expect(result.status).toBe(3);
    expect(result.stderr).toContain(`the token service ${new URL(issuer.realm).origin}/token answered HTTP 401 for scope repository:day1/ice-driver:pull with user "${USER}"`);
  });

  withTools('as a process: exit 0', async () => {
    const result = await spawnCli(['check-images', inputs.formats['this release (generator)'], '--kernel-release', K1,
      '--insecure-registry', registry.host, '--authfile', authfile(PASSWORD)]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('TLS with a self-signed certificate', () => {
  let registry: Registry;
  let inputs: ReturnType<typeof writeInputs>;
  let certificate: string;
  beforeAll(async () => {
    if (withTools === test.skip) return;
    const tls = await selfSigned(work, 'registry-tls', '127.0.0.1');
    certificate = tls.certificate;
    registry = await startRegistry('tls', { storage, work, tls });
    inputs = writeInputs(registry.host);
  }, 60_000);
  afterAll(async () => registry?.stop());

  withTools('trusted with --ca-file: exit 0 with the digests', async () => {
    const result = await run([inputs.formats['this release (generator)'], '--kernel-release', K1, '--ca-file', certificate, '--output', 'json']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(jsonImages(result).map((image) => image.digest)).toEqual([`${registry.host}/day1/ice-driver:${K1}`, `${registry.host}/kmm/worker:v1`].map(digestOf));
  });

  withTools('the system bundle is trusted too ($SSL_CERT_FILE standing for the distribution\'s bundle)', async () => {
    const saved = process.env.SSL_CERT_FILE;
    process.env.SSL_CERT_FILE = certificate;
    try {
      const result = await run([inputs.formats['this release (generator)'], '--kernel-release', K1]);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.SSL_CERT_FILE;
      else process.env.SSL_CERT_FILE = saved;
    }
  });

  withTools('refused without it: exit 3, the TLS failure and the remedy on stderr', async () => {
    const result = await run([inputs.formats['this release (generator)'], '--kernel-release', K1]);
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(new RegExp(`UNKNOWN ${registry.host}/day1/ice-driver:${K1} .*: TLS with ${registry.host} failed: .*self[- ]signed.*--ca-file`));
  });
});

describe('registries that do not answer (no registry needed)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'day1-check-images-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function input(host: string): string {
    const file = join(dir, `${host.replace(/[^0-9]/g, '')}.yaml`);
    writeFileSync(file, produceMachineConfig({
      machineConfigName: 'm',
      machineConfigPoolRef: 'worker',
      kernelModuleImage: `${host}/day1/x`,
      kernelModuleName: 'x',
      workerImage: `${host}/kmm/worker:v1`,
    }));
    return file;
  }

  test('nothing listening: exit 3, "cannot reach"', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const result = await run([input(host), '--kernel-release', K1, '--insecure-registry', host]);
    expect(result.status).toBe(3);
    expect(result.stderr).toContain(`UNKNOWN ${host}/day1/x:${K1} (module x, MachineConfig m, kernel ${K1}): cannot reach ${host}: connect ECONNREFUSED`);
    expect(result.stdout).toContain('UNKNOWN (see below)');
  });

  test('a registry that accepts and never answers is given up after --timeout', async () => {
    const sockets = new Set<import('net').Socket>();
    const server = http.createServer(() => { /* never answers */ });
    server.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const started = Date.now();
      const result = await run([input(host), '--kernel-release', K1, '--insecure-registry', '127.0.0.1', '--timeout', '1']);
      const elapsed = Date.now() - started;
      expect(result.status).toBe(3);
      expect(result.stderr).toContain(`no answer from ${host} within 1 s (--timeout)`);
      // Both images (module and worker) are asked in parallel, each within its bound.
      expect(elapsed).toBeLessThan(5_000);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
