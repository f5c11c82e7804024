import { spawnSync, SpawnSyncReturns } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { loadAll } from 'js-yaml';
import { commandExists, testWithOracle } from '../util/oracles';

/*
 * The README's quick start, as a new user runs it: the library packed with `npm pack`, the
 * app's files taken verbatim from README.md's code blocks (so the README cannot rot), installed
 * with npm from the registry, synthesized with `npx cdk8s synth`, its output built with
 * `kubectl kustomize` as Argo CD and Flux build it. Then the same app with
 * cdk8s-plus-33 added, type-checked against its types with a file that uses a cdk8s-plus-33
 * construct next to ours, and run.
 *
 * It packs the built lib/: `npx projen build` compiles before it tests. Run alone, it refuses
 * a missing or stale lib/ (a src/ file newer than what it compiles to) rather than testing
 * old code. Nothing is cached outside the temporary folder and npm's own cache.
 */

const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** What `npm install`, `tsc` and `cdk8s synth` may take on a loaded 2-core machine. */
const STEP_TIMEOUT_MS = 240_000;

// ---------------------------------------------------------------------------------------------
// The README, parsed

/** The text under `heading` up to the next heading of any level (headings inside code blocks do not count). */
function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`README.md has no "${heading}" heading`);
  let inFence = false;
  let end = start + 1;
  for (; end < lines.length; end++) {
    if (lines[end].startsWith('```')) inFence = !inFence;
    if (!inFence && /^#+ /.test(lines[end])) break;
  }
  return lines.slice(start + 1, end).join('\n');
}

interface CodeBlock {
  readonly language: string;
  readonly text: string;
  /** The file name of a block introduced by a line that starts with **`name`**. */
  readonly file?: string;
}

function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const fence = /(?:^\*\*`([^`]+)`\*\*[^\n]*(?:\n[^\n]+)*\n\n)?^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let match = fence.exec(markdown); match !== null; match = fence.exec(markdown)) {
    blocks.push({ file: match[1], language: match[2], text: match[3] });
  }
  return blocks;
}

/** The commands of a shell block, comments and blank lines dropped. */
function commands(block: CodeBlock): string[] {
  return block.text.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim()).filter((line) => line !== '' && !line.startsWith('#'));
}

const quickStart = section(README, '## Quick start');
const blocks = codeBlocks(quickStart);
const files = blocks.filter((block) => block.file !== undefined);
const shellBlocks = blocks.filter((block) => block.file === undefined && block.language === 'sh');
const chartExample = codeBlocks(section(README, '### In a cdk8s chart')).filter((block) => block.language === 'ts');

// ---------------------------------------------------------------------------------------------
// Processes

/**
 * The environment of every npm, npx and node process of the app: the caller's, without what
 * npm exports to the scripts it runs (under `npx projen build`, npm_config_local_prefix and
 * npm_package_* describe this repository, not the app). The cdk8s-cli upgrade check is left to
 * the README's command (`--no-check-upgrade`): it would fetch http://registry.npmjs.org itself,
 * past npm's registry and proxy settings, and print a stack trace to stderr when that fails.
 */
function appEnv(): NodeJS.ProcessEnv {
  const kept = new Set(['cache', 'registry', 'userconfig', 'globalconfig', 'cafile', 'proxy', 'https_proxy', 'noproxy', 'strict_ssl']);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    const config = /^npm_config_(.*)$/i.exec(name);
    if (name === 'INIT_CWD' || name.startsWith('CDK8S_') || (/^npm_/i.test(name) && !(config && kept.has(config[1].toLowerCase())))) continue;
    env[name] = value;
  }
  return {
    ...env,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    // Metadata already in npm's cache is good enough: the ranges come from the README either way.
    npm_config_prefer_offline: 'true',
  };
}

function run(command: string, cwd: string, extraEnv: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const result = spawnSync('sh', ['-c', command], {
    cwd,
    env: { ...appEnv(), ...extraEnv },
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`\`${command}\` in ${cwd} failed (status ${result.status}, signal ${result.signal}, error ${result.error?.message}):\n`
      + `${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** The npm registry answers `npm ping` (a few seconds at most); decided once, when the file loads. */
function registryReachable(): boolean {
  const result = spawnSync('npm', ['ping'], { env: appEnv(), stdio: 'ignore', timeout: 30_000 });
  return result.status === 0;
}

// ---------------------------------------------------------------------------------------------
// lib/, as `npm pack` packs it

/** src/ files whose compiled (or copied) counterpart in lib/ is missing or older. */
function staleInLib(): string[] {
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const rel = relative(join(ROOT, 'src'), path);
      const built = rel.endsWith('.ts') && !rel.endsWith('.d.ts') ? rel.replace(/\.ts$/, '.js') : rel.endsWith('.sh') ? rel : undefined;
      if (built === undefined) continue;
      const target = join(ROOT, 'lib', built);
      if (!existsSync(target) || statSync(target).mtimeMs < statSync(path).mtimeMs) stale.push(`src/${rel}`);
    }
  };
  walk(join(ROOT, 'src'));
  return stale;
}

// ---------------------------------------------------------------------------------------------
// The synthesized output

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: any;
}

/** `<folder>/<file>` → its objects, for every manifest (`*.k8s.yaml`) under `dir`. */
function readOutput(dir: string): Map<string, K8sObject[]> {
  const out = new Map<string, K8sObject[]>();
  for (const folder of readdirSync(dir).sort()) {
    const path = join(dir, folder);
    const entries = statSync(path).isDirectory() ? readdirSync(path).sort().map((file) => `${folder}/${file}`) : [folder];
    for (const file of entries.filter((entry) => entry.endsWith('.k8s.yaml'))) {
      out.set(file, loadAll(readFileSync(join(dir, file), 'utf8')) as K8sObject[]);
    }
  }
  return out;
}

/** Every `kustomization.yaml` under `dir` (`<folder>/kustomization.yaml`, the root one as `kustomization.yaml`) → its resources. */
function readKustomizations(dir: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const read = (rel: string) => {
    const doc = loadAll(readFileSync(join(dir, rel), 'utf8'))[0] as { apiVersion: string; kind: string; resources: string[] };
    expect([doc.apiVersion, doc.kind]).toEqual(['kustomize.config.k8s.io/v1beta1', 'Kustomization']);
    found.set(rel, doc.resources);
  };
  for (const entry of readdirSync(dir).sort()) {
    if (entry === 'kustomization.yaml') continue;
    if (statSync(join(dir, entry)).isDirectory() && existsSync(join(dir, entry, 'kustomization.yaml'))) read(`${entry}/kustomization.yaml`);
  }
  if (existsSync(join(dir, 'kustomization.yaml'))) read('kustomization.yaml');
  return found;
}

/** What `kubectl kustomize <dir>` builds: `Kind namespace/name` of each object, sorted. */
function kustomizeBuild(dir: string): string[] {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: STEP_TIMEOUT_MS });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr}`);
  return (loadAll(result.stdout) as K8sObject[]).map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
}

const summary = (out: Map<string, K8sObject[]>) =>
  [...out].map(([file, objects]) => [file, objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`)]);

/** Uses cdk8s-plus-33 next to this library in one chart: types, scheduling and a plain ApiObject. */
const WITH_CDK8S_PLUS_33 = `import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { Day1KernelModule, HealthCheckToleration, KmmMachineConfigPool, TolerationEffect, TolerationOperator } from 'cdk8s-kmm-day1';

const app = new App({ outdir: 'dist-plus' });
const chart = new Chart(app, 'mixed');
const pool = new KmmMachineConfigPool(chart, 'pool', { name: 'oot-nic' });
const taint = 'node-role.kubernetes.io/oot-nic';
const toleration: HealthCheckToleration = { key: taint, operator: TolerationOperator.EXISTS, effect: TolerationEffect.NO_SCHEDULE };
const ice = new Day1KernelModule(chart, 'ice', {
  pool, kernelModuleImage: 'quay.io/example/ice-driver', kernelModuleName: 'ice', healthCheck: true, healthCheckTolerations: [toleration],
});
const web = new kplus.Deployment(chart, 'web', { containers: [{ image: 'quay.io/example/web:1' }] });
web.scheduling.tolerate(kplus.Node.tainted(kplus.NodeTaintQuery.exists(taint, { effect: kplus.TaintEffect.NO_SCHEDULE })));
ice.healthCheck!.daemonSet.metadata.addLabel('example.com/team', 'nic');
app.synth();
`;

// ---------------------------------------------------------------------------------------------

describe('the README quick start', () => {
  test('the README gives the app\'s four files, the commands, and a chart example', () => {
    expect(files.map((block) => block.file)).toEqual(['package.json', 'tsconfig.json', 'cdk8s.yaml', 'main.ts']);
    expect(shellBlocks).toHaveLength(2);
    expect(commands(shellBlocks[0])).toEqual([
      'npm ci && npx projen compile && npx projen post-compile',
      'mkdir -p ../my-nic-drivers && npm pack --pack-destination ../my-nic-drivers',
    ]);
    expect(commands(shellBlocks[1])).toEqual(['npm install', 'npx cdk8s synth --no-check-upgrade']);
    expect(chartExample).toHaveLength(1);
  });

  test('its package.json pins TypeScript to 5.x, which ts-node runs with (7.x breaks it), and installs the packed tarball', () => {
    const pkg = JSON.parse(files.find((block) => block.file === 'package.json')!.text);
    expect(pkg.devDependencies.typescript).toMatch(/^~5\.\d+\.\d+$/);
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    // `npm pack` names the tarball after the version; the README must name the same file.
    expect(pkg.devDependencies['cdk8s-kmm-day1']).toBe(`file:cdk8s-kmm-day1-${version}.tgz`);
    expect(Object.keys(pkg.devDependencies).filter((name) => name.startsWith('cdk8s-plus'))).toEqual([]);
  });

  describe('built from the packed library, installed with npm', () => {
    const reachable = registryReachable();
    const withRegistry = testWithOracle('the npm registry', reachable, '`npm ping` failed: check the network, or npm_config_registry for a mirror');
    const withRegistryAndKubectl = reachable ? testWithOracle('kubectl', commandExists('kubectl')) : withRegistry;
    let app: string;

    beforeAll(() => {
      if (!reachable) return;
      const stale = staleInLib();
      if (stale.length > 0) {
        throw new Error(`lib/ is missing or older than ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', …' : ''}: `
          + 'run `npx projen compile && npx projen post-compile` (npx projen build does)');
      }
      app = mkdtempSync(join(tmpdir(), 'kmm-day1-quickstart-'));
      // The README's second command, into the temporary folder instead of ../my-nic-drivers.
      run(`npm pack --ignore-scripts --pack-destination '${app}'`, ROOT);
      for (const block of files) writeFileSync(join(app, block.file!), block.text);
      run(commands(shellBlocks[1])[0], app);
    }, STEP_TIMEOUT_MS);

    afterAll(() => {
      if (app !== undefined) rmSync(app, { recursive: true, force: true });
    });

    withRegistry('`npx cdk8s synth --no-check-upgrade` writes the three stage folders and the two bootstrap folders, one file per object', () => {
      const synth = run(commands(shellBlocks[1])[1], app);
      expect(synth.stderr).toBe('');
      const out = readOutput(join(app, 'dist'));
      expect(summary(out)).toEqual([
        ['0000-pool/MachineConfigPool.oot-nic.k8s.yaml', ['MachineConfigPool /oot-nic']],
        ['0001-day1/DaemonSet.99-oot-nic-kmm-day1-ice.k8s.yaml', ['DaemonSet kmm-day1-health/99-oot-nic-kmm-day1-ice']],
        ['0001-day1/MachineConfig.99-oot-nic-kmm-day1-ice.k8s.yaml', ['MachineConfig /99-oot-nic-kmm-day1-ice']],
        ['0001-day1/Namespace.kmm-day1-health.k8s.yaml', ['Namespace /kmm-day1-health']],
        ['0002-kmm/BootModuleConfig.99-oot-nic-kmm-day1-ice.k8s.yaml', ['BootModuleConfig openshift-machine-config-operator/99-oot-nic-kmm-day1-ice']],
        ['0002-kmm/Module.ice.k8s.yaml', ['Module openshift-kmm/ice']],
        ['0003-bootstrap-argocd/Application.nic-drivers.k8s.yaml', ['Application openshift-gitops/nic-drivers']],
        ['0003-bootstrap-argocd/ClusterRole.nic-drivers-argocd.k8s.yaml', ['ClusterRole /nic-drivers-argocd']],
        ['0003-bootstrap-argocd/ClusterRoleBinding.nic-drivers-argocd.k8s.yaml', ['ClusterRoleBinding /nic-drivers-argocd']],
        ['0004-bootstrap-flux/ClusterRole.nic-drivers-flux.k8s.yaml', ['ClusterRole /nic-drivers-flux']],
        ['0004-bootstrap-flux/ClusterRoleBinding.nic-drivers-flux.k8s.yaml', ['ClusterRoleBinding /nic-drivers-flux']],
        ['0004-bootstrap-flux/GitRepository.nic-drivers.k8s.yaml', ['GitRepository flux-system/nic-drivers']],
        ['0004-bootstrap-flux/Kustomization.nic-drivers-day1.k8s.yaml', ['Kustomization flux-system/nic-drivers-day1']],
        ['0004-bootstrap-flux/Kustomization.nic-drivers-kmm.k8s.yaml', ['Kustomization flux-system/nic-drivers-kmm']],
        ['0004-bootstrap-flux/Kustomization.nic-drivers-pool.k8s.yaml', ['Kustomization flux-system/nic-drivers-pool']],
      ]);
      const daemonSet = out.get('0001-day1/DaemonSet.99-oot-nic-kmm-day1-ice.k8s.yaml')![0];
      expect(daemonSet.spec.template.spec.tolerations).toEqual([{ key: 'node-role.kubernetes.io/oot-nic', operator: 'Exists', effect: 'NoSchedule' }]);
      const machineConfig = out.get('0001-day1/MachineConfig.99-oot-nic-kmm-day1-ice.k8s.yaml')![0];
      expect(machineConfig.spec.config.systemd.units.map((unit: { name: string }) => unit.name)).toContain('99-oot-nic-kmm-day1-ice-replace-kernel-module.service');

      // Each folder's kustomization.yaml lists exactly its manifests; the root one the stage folders only.
      const kustomizations = readKustomizations(join(app, 'dist'));
      const folders = [...new Set([...out.keys()].map((file) => file.split('/')[0]))];
      expect([...kustomizations.keys()]).toEqual([...folders.map((folder) => `${folder}/kustomization.yaml`), 'kustomization.yaml']);
      for (const folder of folders) {
        expect(kustomizations.get(`${folder}/kustomization.yaml`)).toEqual([...out.keys()].filter((f) => f.startsWith(`${folder}/`)).map((f) => f.split('/')[1]));
      }
      expect(kustomizations.get('kustomization.yaml')).toEqual(['0000-pool', '0001-day1', '0002-kmm']);

      // The delivery points at what was written: the Application at dist/, each Flux Kustomization at a stage folder.
      expect(out.get('0003-bootstrap-argocd/Application.nic-drivers.k8s.yaml')![0].spec.source.path).toBe('dist');
      expect(['pool', 'day1', 'kmm'].map((stage) => out.get(`0004-bootstrap-flux/Kustomization.nic-drivers-${stage}.k8s.yaml`)![0].spec.path))
        .toEqual(['./dist/0000-pool', './dist/0001-day1', './dist/0002-kmm']);
    }, STEP_TIMEOUT_MS);

    withRegistryAndKubectl('`kubectl kustomize` builds dist/ (what the Application syncs) into the stage objects only, and each bootstrap folder into its own', () => {
      const out = readOutput(join(app, 'dist'));
      const objectsOf = (prefix: (file: string) => boolean) =>
        [...out].filter(([file]) => prefix(file)).flatMap(([, objects]) => objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`)).sort();
      expect(kustomizeBuild(join(app, 'dist'))).toEqual(objectsOf((file) => /^000[0-2]-/.test(file)));
      expect(kustomizeBuild(join(app, 'dist', '0003-bootstrap-argocd'))).toEqual([
        'Application openshift-gitops/nic-drivers', 'ClusterRole /nic-drivers-argocd', 'ClusterRoleBinding /nic-drivers-argocd',
      ]);
      expect(kustomizeBuild(join(app, 'dist', '0004-bootstrap-flux'))).toEqual([
        'ClusterRole /nic-drivers-flux', 'ClusterRoleBinding /nic-drivers-flux', 'GitRepository flux-system/nic-drivers',
        'Kustomization flux-system/nic-drivers-day1', 'Kustomization flux-system/nic-drivers-kmm', 'Kustomization flux-system/nic-drivers-pool',
      ]);
      for (const stage of ['0000-pool', '0001-day1', '0002-kmm']) {
        expect(kustomizeBuild(join(app, 'dist', stage))).toEqual(objectsOf((file) => file.startsWith(`${stage}/`)));
      }
    }, STEP_TIMEOUT_MS);

    withRegistry('with cdk8s-plus-33 added: main.ts, the chart example and a cdk8s-plus-33 Deployment next to ours type-check and synthesize', () => {
      run('npm install --save-dev cdk8s-plus-33@^2', app);
      // The chart example continues main.ts: it goes in before the synthesis.
      const main = files.find((block) => block.file === 'main.ts')!.text;
      const synthesis = '\nKustomizeOutput.synth(app);\n';
      expect(main).toContain(synthesis);
      writeFileSync(join(app, 'chart-example.ts'), main.replace(synthesis, `\n${chartExample[0].text}${synthesis}`));
      writeFileSync(join(app, 'with-cdk8s-plus-33.ts'), WITH_CDK8S_PLUS_33);
      // The README's tsconfig.json, with the declarations checked too: with skipLibCheck, a
      // declaration of ours that named a cdk8s-plus the app lacks would pass as `any`.
      run('npx tsc --noEmit -p . --skipLibCheck false', app);

      // Type-checked above already: transpiling is enough to run them.
      run('npx ts-node --transpile-only with-cdk8s-plus-33.ts', app);
      const mixed = readOutput(join(app, 'dist-plus'));
      expect(summary(mixed)).toEqual([['mixed.k8s.yaml', [
        'MachineConfigPool /oot-nic', 'MachineConfig /99-oot-nic-kmm-day1-ice', 'Namespace /kmm-day1-health',
        'DaemonSet kmm-day1-health/99-oot-nic-kmm-day1-ice', expect.stringMatching(/^Deployment \/mixed-web-[0-9a-f]{8}$/),
      ]]]);
      const daemonSet = mixed.get('mixed.k8s.yaml')!.find((o) => o.kind === 'DaemonSet')!;
      expect((daemonSet.metadata as any).labels['example.com/team']).toBe('nic');

      run('npx ts-node --transpile-only chart-example.ts', app, { CDK8S_OUTDIR: 'dist-chart-example' });
      const withSfc = readOutput(join(app, 'dist-chart-example'));
      expect([...withSfc.keys()].filter((file) => file.startsWith('0001-day1/MachineConfig.'))).toEqual([
        '0001-day1/MachineConfig.99-oot-nic-kmm-day1-ice.k8s.yaml',
        '0001-day1/MachineConfig.99-oot-nic-kmm-day1-sfc.k8s.yaml',
      ]);
    }, 2 * STEP_TIMEOUT_MS);
  });
});
