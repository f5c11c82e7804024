import { mkdtempSync, readdirSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ApiObject, App, Chart, Testing, YamlOutputType } from 'cdk8s';
import {
  ArgoCdApplication,
  Day1KernelModule,
  FluxDelivery,
  GitOpsController,
  GitOpsControllerAccess,
  KmmMachineConfigPool,
  KmmModule,
} from '../../../src';
import { Day1ValidationError } from '../../../src/validation';
import { crdViolations } from '../../util/crd';
import { readTree } from '../../util/files';
import { byKind, errorOf, Manifest, only, onWorker, synthManifests, synthYaml } from '../helpers';
import { IMAGE } from '../scenarios';

/*
 * The GitOps bootstrap constructs read the app: which MachineConfigs were handed over, which
 * stage folders cdk8s writes and in which order, which objects the controller applies. Each
 * expectation here is derived independently of the library (from the synthesized objects or
 * spelled out), so that a wrong derivation fails.
 */

const REPO = 'https://git.example.com/platform/cluster-config.git';
const MC_GROUP = 'machineconfiguration.openshift.io';

/** The kinds this app emits and their resources, spelled out (not the library's plural rule). */
const RESOURCES: Record<string, [string, string]> = {
  MachineConfigPool: [MC_GROUP, 'machineconfigpools'],
  MachineConfig: [MC_GROUP, 'machineconfigs'],
  BootModuleConfig: ['kmm.sigs.x-k8s.io', 'bootmoduleconfigs'],
  Module: ['kmm.sigs.x-k8s.io', 'modules'],
  Namespace: ['', 'namespaces'],
  DaemonSet: ['apps', 'daemonsets'],
  ConfigMap: ['', 'configmaps'],
  NetworkPolicy: ['networking.k8s.io', 'networkpolicies'],
  StorageClass: ['storage.k8s.io', 'storageclasses'],
};
const APPLY = ['create', 'get', 'list', 'watch', 'patch'];

interface Stages {
  app: App;
  pool: Chart;
  day1: Chart;
  kmm: Chart;
  bootstrap: Chart;
  modules: Day1KernelModule[];
}

interface StageOptions {
  poolName?: string;
  /** kernel module names, in the day1 chart */
  modules?: string[];
  /** which of them are handed over */
  handOver?: string[];
  healthCheck?: boolean;
  pruneProtection?: boolean;
  outdir?: string;
}

/** An app laid out like the example: pool, day1 and kmm charts in a chain, and a bootstrap chart. */
function stages(options: StageOptions = {}): Stages {
  const app = new App({ outdir: options.outdir ?? mkdtempSync(join(tmpdir(), 'delivery-')), yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
  const pool = new Chart(app, 'pool');
  const day1 = new Chart(app, 'day1');
  const kmm = new Chart(app, 'kmm');
  day1.addDependency(pool);
  kmm.addDependency(day1);
  const bootstrap = new Chart(app, 'bootstrap');
  const kmmPool = new KmmMachineConfigPool(pool, 'pool', { name: options.poolName ?? 'oot-nic', pruneProtection: options.pruneProtection });
  const modules = (options.modules ?? ['ice', 'sfc']).map((name) => new Day1KernelModule(day1, name, {
    pool: kmmPool,
    kernelModuleImage: IMAGE,
    kernelModuleName: name,
    healthCheck: options.healthCheck,
    pruneProtection: options.pruneProtection,
  }));
  for (const module of modules) {
    if ((options.handOver ?? []).includes(module.kernelModuleName)) module.handOverToKmm({ scope: kmm });
  }
  return { app, pool, day1, kmm, bootstrap, modules };
}

function argoCd(scope: Chart, props: Partial<ConstructorParameters<typeof ArgoCdApplication>[2]> = {}): ArgoCdApplication {
  return new ArgoCdApplication(scope, 'argocd', { name: 'nic', repoUrl: REPO, path: 'clusters/prod/dist', ...props });
}

function flux(scope: Chart, props: Partial<ConstructorParameters<typeof FluxDelivery>[2]> = {}): FluxDelivery {
  return new FluxDelivery(scope, 'flux', { name: 'nic', url: REPO, path: 'clusters/prod/dist', ...props });
}

/** The objects of the stage charts (every chart but the bootstrap ones), as synthesized. */
function stageObjects(app: App, bootstrap: Chart[]): Manifest[] {
  return app.charts.filter((chart) => !bootstrap.includes(chart)).flatMap((chart) => Testing.synth(chart) as Manifest[]);
}

/** The MachineConfigs that the synthesized BootModuleConfigs name: what the operator rewrites. */
function handedOverInOutput(manifests: Manifest[]): string[] {
  return byKind(manifests, 'BootModuleConfig').map((bmc) => bmc.spec.machineConfigName).sort();
}

function ignoredMachineConfigs(application: Manifest): string[] {
  const ignore: any[] = application.spec.ignoreDifferences ?? [];
  for (const entry of ignore) {
    expect({ group: entry.group, kind: entry.kind, jsonPointers: entry.jsonPointers })
      .toEqual({ group: MC_GROUP, kind: 'MachineConfig', jsonPointers: ['/spec/config'] });
  }
  return ignore.map((entry) => entry.name).sort();
}

function cleanup(app: App): void {
  rmSync(app.outdir, { recursive: true, force: true });
}

let stderr: jest.SpyInstance;
beforeEach(() => {
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => stderr.mockRestore());

describe('ArgoCdApplication: ignoreDifferences equals the handed-over MachineConfigs', () => {
  test.each([
    ['no module handed over', {}, []],
    ['one module handed over', { handOver: ['ice'] }, ['99-oot-nic-kmm-day1-ice']],
    ['two modules handed over', { handOver: ['ice', 'sfc'] }, ['99-oot-nic-kmm-day1-ice', '99-oot-nic-kmm-day1-sfc']],
    ['two handed over, the pool renamed', { handOver: ['ice', 'sfc'], poolName: 'e810' }, ['99-e810-kmm-day1-ice', '99-e810-kmm-day1-sfc']],
    ['one of three handed over, another pool name', { modules: ['ice', 'sfc', 'mlx5_core'], handOver: ['mlx5_core'], poolName: 'mlx' },
      ['99-mlx-kmm-day1-mlx5-core']],
  ] as Array<[string, StageOptions, string[]]>)('%s', (_name, options, expected) => {
    const s = stages(options);
    try {
      argoCd(s.bootstrap);
      const application = only(synthManifests(s.app), 'Application');
      expect(handedOverInOutput(stageObjects(s.app, [s.bootstrap]))).toEqual(expected);
      expect(ignoredMachineConfigs(application)).toEqual(expected);
      if (expected.length === 0) expect(application.spec.ignoreDifferences).toBeUndefined();
      expect(application.spec.syncPolicy).toEqual({ automated: { prune: true, selfHeal: true }, syncOptions: ['RespectIgnoreDifferences=true'] });
    } finally {
      cleanup(s.app);
    }
  });

  test('a hand-over made after the Application was created is still in it (computed at synthesis)', () => {
    const s = stages();
    try {
      argoCd(s.bootstrap);
      s.modules[1].handOverToKmm({ scope: s.kmm });
      expect(ignoredMachineConfigs(only(synthManifests(s.app), 'Application'))).toEqual(['99-oot-nic-kmm-day1-sfc']);
    } finally {
      cleanup(s.app);
    }
  });

  test('the Application: source, destination, no finalizer unless asked', () => {
    const s = stages({ handOver: ['ice'] });
    try {
      argoCd(s.bootstrap, { targetRevision: 'main' });
      const application = only(synthManifests(s.app), 'Application');
      expect(application.metadata).toEqual({ name: 'nic', namespace: 'openshift-gitops' });
      expect(application.spec.source).toEqual({ repoURL: REPO, targetRevision: 'main', path: 'clusters/prod/dist' });
      expect(application.spec.destination).toEqual({ server: 'https://kubernetes.default.svc' });
      expect(application.spec.project).toBe('default');
    } finally {
      cleanup(s.app);
    }
    const t = stages();
    try {
      argoCd(t.bootstrap, { resourcesFinalizer: true, namespace: 'argocd', project: 'platform' });
      const application = only(synthManifests(t.app), 'Application');
      expect(application.metadata).toEqual({ name: 'nic', namespace: 'argocd', finalizers: ['resources-finalizer.argocd.argoproj.io'] });
      expect(application.spec.source.targetRevision).toBe('HEAD');
      expect(application.spec.project).toBe('platform');
    } finally {
      cleanup(t.app);
    }
  });
});

describe('a hand-over delivered by a hand-built Argo CD Application', () => {
  function withApplication(spec: Record<string, unknown>, handOver = ['ice']): () => string {
    const s = stages({ handOver });
    const apps = new Chart(s.app, 'apps');
    new ApiObject(apps, 'application', {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'by-hand', namespace: 'openshift-gitops' },
      spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc' }, source: { repoURL: REPO, path: 'dist' }, ...spec },
    });
    return () => {
      try {
        return synthYaml(s.app);
      } finally {
        cleanup(s.app);
      }
    };
  }
  const RESPECT = { syncPolicy: { syncOptions: ['RespectIgnoreDifferences=true'] } };
  const rule = (entry: Record<string, unknown>) => ({ ...RESPECT, ignoreDifferences: [{ group: MC_GROUP, kind: 'MachineConfig', ...entry }] });

  test('without the ignore rule: a synthesis error that names the MachineConfig and the Application', () => {
    const message = errorOf(withApplication(RESPECT)).message;
    expect(message).toContain('[day1/ice] MachineConfig "99-oot-nic-kmm-day1-ice" is handed over to KMM');
    expect(message).toContain('Argo CD Application "by-hand" (apps/application) does not ignore that field');
    expect(message).toContain('{"group":"machineconfiguration.openshift.io","kind":"MachineConfig","name":"99-oot-nic-kmm-day1-ice","jsonPointers":["/spec/config"]}');
    expect(message).not.toContain('sfc');
  });

  test('a rule for another MachineConfig, or another field, or a namespace, does not count', () => {
    for (const entry of [
      { name: '99-oot-nic-kmm-day1-sfc', jsonPointers: ['/spec/config'] },
      { name: '99-oot-nic-kmm-day1-ice', jsonPointers: ['/spec/kernelArguments'] },
      { name: '99-oot-nic-kmm-day1-ice', jsonPointers: ['/spec/config'], namespace: 'default' },
      { kind: 'MachineConfigPool', jsonPointers: ['/spec/config'] },
      { name: '99-oot-nic-kmm-day1-ice', managedFieldsManagers: ['kmm-operator'] },
    ]) {
      expect({ entry, message: errorOf(withApplication(rule(entry))).message })
        .toEqual({ entry, message: expect.stringContaining('MachineConfig "99-oot-nic-kmm-day1-ice" is handed over to KMM') });
    }
  });

  test('the rule without RespectIgnoreDifferences=true: an error, because a sync would write the field back', () => {
    const message = errorOf(withApplication({ ignoreDifferences: [{ group: MC_GROUP, kind: 'MachineConfig', name: '99-oot-nic-kmm-day1-ice', jsonPointers: ['/spec/config'] }] })).message;
    expect(message).toContain('lacks the sync option RespectIgnoreDifferences=true');
    expect(message).not.toContain('does not ignore that field');
  });

  test.each([
    ['by name', { name: '99-oot-nic-kmm-day1-ice', jsonPointers: ['/spec/config'] }],
    ['for every MachineConfig', { jsonPointers: ['/spec/config'] }],
    ['the whole spec', { name: '99-oot-nic-kmm-day1-ice', jsonPointers: ['/spec'] }],
    ['a jq path', { name: '99-oot-nic-kmm-day1-ice', jqPathExpressions: ['.spec.config'] }],
    ['a group glob', { group: '*.openshift.io', jsonPointers: ['/spec/config'] }],
  ])('a rule that covers it passes: %s', (_name, entry) => {
    expect(withApplication(rule(entry))()).toContain('kind: Application');
  });

  test('two handed-over modules: each one missing from the rules is named', () => {
    const message = errorOf(withApplication(rule({ name: '99-oot-nic-kmm-day1-ice', jsonPointers: ['/spec/config'] }), ['ice', 'sfc'])).message;
    expect(message).toContain('MachineConfig "99-oot-nic-kmm-day1-sfc" is handed over');
    expect(message).not.toContain('MachineConfig "99-oot-nic-kmm-day1-ice" is handed over');
  });

  test('no hand-over: an Application without any rule is fine', () => {
    expect(withApplication({}, [])()).toContain('kind: Application');
  });
});

describe('FluxDelivery: one Kustomization per stage folder, dependsOn in stage order', () => {
  test('paths, names and dependsOn follow the folders cdk8s writes; wait and prune on every one', () => {
    const s = stages({ handOver: ['ice'], healthCheck: true });
    try {
      const delivery = flux(s.bootstrap);
      s.app.synth();
      const written = readdirSync(s.app.outdir).filter((entry) => statSync(join(s.app.outdir, entry)).isDirectory()).sort();
      expect(written).toEqual(['0000-pool', '0001-day1', '0002-kmm', '0003-bootstrap']);
      expect(delivery.stageFolders()).toEqual(['0000-pool', '0001-day1', '0002-kmm']);
      const manifests = synthManifests(s.app);
      const repository = only(manifests, 'GitRepository');
      expect(repository.metadata).toEqual({ name: 'nic', namespace: 'flux-system' });
      expect(repository.spec).toEqual({ url: REPO, interval: '5m', ref: { branch: 'main' } });
      const kustomizations = byKind(manifests, 'Kustomization');
      expect(kustomizations.map((k) => [k.metadata.name, k.spec.path, k.spec.dependsOn, k.spec.timeout])).toEqual([
        ['nic-pool', './clusters/prod/dist/0000-pool', undefined, '10m'],
        ['nic-day1', './clusters/prod/dist/0001-day1', [{ name: 'nic-pool' }], '3h'],
        ['nic-kmm', './clusters/prod/dist/0002-kmm', [{ name: 'nic-day1' }], '10m'],
      ]);
      for (const k of kustomizations) {
        expect(k.metadata.namespace).toBe('flux-system');
        expect(k.spec).toMatchObject({ prune: true, wait: true, interval: '10m', sourceRef: { kind: 'GitRepository', name: 'nic' } });
      }
    } finally {
      cleanup(s.app);
    }
  });

  test('the chain follows cdk8s\'s chart order, not creation order; without chart dependencies the folders are unnumbered', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'delivery-order-'));
    try {
      const app = new App({ outdir, yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
      const bootstrap = new Chart(app, 'gitops');
      const late = new Chart(app, 'late');
      const early = new Chart(app, 'early');
      late.addDependency(early);
      const pool = new KmmMachineConfigPool(early, 'pool', { name: 'oot-nic' });
      new Day1KernelModule(late, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
      const delivery = flux(bootstrap, { path: '.' });
      app.synth();
      const written = readdirSync(outdir).sort();
      expect(written).toEqual(['0000-gitops', '0001-early', '0002-late']);
      expect(delivery.stageFolders()).toEqual(['0001-early', '0002-late']);
      expect(byKind(synthManifests(app), 'Kustomization').map((k) => [k.spec.path, k.spec.dependsOn]))
        .toEqual([['./0001-early', undefined], ['./0002-late', [{ name: 'nic-early' }]]]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
    const flat = mkdtempSync(join(tmpdir(), 'delivery-flat-'));
    try {
      const app = new App({ outdir: flat, yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
      onWorker(new Chart(app, 'day1'), 'ice', { kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
      const delivery = flux(new Chart(app, 'gitops'));
      app.synth();
      expect(readdirSync(flat).sort()).toEqual(['day1', 'gitops']);
      expect(delivery.stageFolders()).toEqual(['day1']);
    } finally {
      rmSync(flat, { recursive: true, force: true });
    }
  });

  test('created before the stages hold their objects: an error, at once or at synthesis', () => {
    const empty = new App();
    expect(errorOf(() => flux(new Chart(empty, 'gitops'))).message)
      .toContain('FluxDelivery "gitops/flux": the app has no chart with objects yet besides the GitOps bootstrap charts');
    const s = stages();
    try {
      flux(s.bootstrap);
      s.modules[0].handOverToKmm({ scope: s.kmm });
      expect(errorOf(() => synthYaml(s.app)).message)
        .toContain('FluxDelivery "bootstrap/flux": the app\'s stages changed after the FluxDelivery was created (then: pool, day1; now: pool, day1, kmm)');
    } finally {
      cleanup(s.app);
    }
  });

  test('options: branch, secret, namespace, intervals and timeouts', () => {
    const s = stages({ healthCheck: true });
    try {
      flux(s.bootstrap, {
        branch: 'release-1', secretName: 'git-credentials', namespace: 'gitops', sourceInterval: '1m', interval: '30m', timeout: '5m', rolloutTimeout: '6h',
      });
      const manifests = synthManifests(s.app);
      expect(only(manifests, 'GitRepository').spec).toEqual({ url: REPO, interval: '1m', ref: { branch: 'release-1' }, secretRef: { name: 'git-credentials' } });
      expect(byKind(manifests, 'Kustomization').map((k) => [k.metadata.namespace, k.spec.interval, k.spec.timeout]))
        .toEqual([['gitops', '30m', '5m'], ['gitops', '30m', '6h']]);
    } finally {
      cleanup(s.app);
    }
  });
});

describe('FluxDelivery with stages: the same output whatever the order of construction', () => {
  interface Built {
    app: App;
    delivery: FluxDelivery;
  }

  /**
   * The example's layout. The GitOps constructs are created either first (right after the
   * charts, before the charts depend on each other and hold anything) or last.
   */
  function build(gitOpsFirst: boolean, explicit: boolean): Built {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'delivery-order-')), yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
    const pool = new Chart(app, 'pool');
    const day1 = new Chart(app, 'day1');
    const kmm = new Chart(app, 'kmm');
    const bootstrap = new Chart(app, 'bootstrap');
    const deliver = () => {
      argoCd(bootstrap);
      return flux(bootstrap, explicit ? { stages: [pool, day1, kmm] } : {});
    };
    const first = gitOpsFirst ? deliver() : undefined;
    day1.addDependency(pool);
    kmm.addDependency(day1);
    const kmmPool = new KmmMachineConfigPool(pool, 'pool', { name: 'oot-nic' });
    const ice = new Day1KernelModule(day1, 'ice', { pool: kmmPool, kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true });
    new Day1KernelModule(day1, 'sfc', { pool: kmmPool, kernelModuleImage: IMAGE, kernelModuleName: 'sfc', moduleParameters: ['rss_cpus=4'] });
    ice.handOverToKmm({ scope: kmm });
    return { app, delivery: first ?? deliver() };
  }

  function written(built: Built): Map<string, string> {
    try {
      built.app.synth();
      return readTree(built.app.outdir);
    } finally {
      cleanup(built.app);
    }
  }

  test('created first with stages, last with stages, last without: byte for byte the same dist/', () => {
    const reference = written(build(false, false));
    const firstBuilt = build(true, true);
    expect(firstBuilt.delivery.stageFolders()).toEqual(['0000-pool', '0001-day1', '0002-kmm']);
    const first = written(firstBuilt);
    const last = written(build(false, true));
    expect([...first.keys()]).toEqual([...reference.keys()]);
    for (const [file, text] of reference) {
      expect({ file, first: first.get(file), last: last.get(file) }).toEqual({ file, first: text, last: text });
    }
    // What was read from the charts at synthesis is there: numbered folders, the health check's timeout,
    // the handed-over MachineConfig ignored by Argo CD, the KMM kinds granted to the controllers.
    const kustomizations = [...first.entries()].filter(([file]) => /^0003-bootstrap\/Kustomization\./.test(file)).map(([, text]) => text).join('\n');
    expect(kustomizations).toContain('path: ./clusters/prod/dist/0001-day1');
    expect(kustomizations).toContain('timeout: 3h');
    const bootstrapFiles = [...first.entries()].filter(([file]) => file.startsWith('0003-bootstrap/')).map(([, text]) => text).join('\n');
    expect(bootstrapFiles).toContain('name: 99-oot-nic-kmm-day1-ice');
    expect(bootstrapFiles).toContain('- bootmoduleconfigs');
  });

  test('the folders follow the chart dependencies added after the FluxDelivery: numbered, or not', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'delivery-flat-')), yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
    try {
      const a = new Chart(app, 'a');
      const b = new Chart(app, 'b');
      const delivery = flux(new Chart(app, 'gitops'), { stages: [a, b], path: '.' });
      onWorker(a, 'ice', { kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
      onWorker(b, 'sfc', { kernelModuleImage: IMAGE, kernelModuleName: 'sfc', healthCheck: true });
      const paths = () => byKind(synthManifests(app), 'Kustomization').map((k) => [k.spec.path, k.spec.dependsOn, k.spec.timeout]);
      expect(paths()).toEqual([['./a', undefined, '10m'], ['./b', [{ name: 'nic-a' }], '3h']]);
      b.addDependency(a);
      expect(paths()).toEqual([['./0000-a', undefined, '10m'], ['./0001-b', [{ name: 'nic-a' }], '3h']]);
      expect(delivery.stages).toEqual([a, b]);
    } finally {
      cleanup(app);
    }
  });

  test('independent charts are chained in the order listed, not in cdk8s\'s', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'delivery-listed-')), yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
    try {
      const a = new Chart(app, 'a');
      const b = new Chart(app, 'b');
      const delivery = flux(new Chart(app, 'gitops'), { stages: [b, a] });
      onWorker(a, 'ice', { kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
      onWorker(b, 'sfc', { kernelModuleImage: IMAGE, kernelModuleName: 'sfc' });
      expect(byKind(synthManifests(app), 'Kustomization').map((k) => [k.metadata.name, k.spec.path, k.spec.dependsOn]))
        .toEqual([['nic-b', './clusters/prod/dist/b', undefined], ['nic-a', './clusters/prod/dist/a', [{ name: 'nic-b' }]]]);
      expect(delivery.stageFolders()).toEqual(['b', 'a']);
    } finally {
      cleanup(app);
    }
  });

  test('without stages: a health check added to a stage after the FluxDelivery still gets the rollout timeout', () => {
    const s = stages();
    try {
      flux(s.bootstrap);
      new Day1KernelModule(s.day1, 'late', { pool: s.modules[0].pool, kernelModuleImage: IMAGE, kernelModuleName: 'late', healthCheck: true });
      expect(byKind(synthManifests(s.app), 'Kustomization').map((k) => [k.metadata.name, k.spec.timeout]))
        .toEqual([['nic-pool', '10m'], ['nic-day1', '3h']]);
    } finally {
      cleanup(s.app);
    }
  });
});

describe('FluxDelivery stages: invalid lists name the entry, the chart and the rule', () => {
  test.each([
    ['not a list', () => 'pool', 'bootstrap/flux: Invalid stages "pool": must be a list of Charts (leave it out for the app\'s stages when the FluxDelivery is created)'],
    ['empty', () => [], 'bootstrap/flux: Invalid stages []: must list at least one chart'],
    ['a construct that is no chart', (s: Stages) => [s.pool, s.modules[0]], 'bootstrap/flux: Invalid stages[1] "day1/ice": must be a Chart'],
    ['a plain object', () => [{ node: 'pool' }], 'bootstrap/flux: Invalid stages[0] {"node":"pool"}: must be a Chart'],
    ['a chart of another app', () => [Testing.chart()], 'bootstrap/flux: Invalid stages[0] "test": is a chart of another App'],
    ['a chart listed twice', (s: Stages) => [s.pool, s.day1, s.pool], 'bootstrap/flux: Invalid stages[2] "pool": is listed twice (also stages[0]): list each stage chart once'],
    ['the FluxDelivery\'s own chart', (s: Stages) => [s.pool, s.bootstrap],
      'bootstrap/flux: Invalid stages[1] "bootstrap": is the chart of this FluxDelivery, a GitOps bootstrap chart that no Kustomization applies'],
  ] as Array<[string, (s: Stages) => unknown, string]>)('at once: %s', (_name, list, message) => {
    const s = stages();
    try {
      expect(errorOf(() => flux(s.bootstrap, { stages: list(s) as Chart[] })).message).toContain(message);
    } finally {
      cleanup(s.app);
    }
  });

  test('every problem at once, in the order of the props', () => {
    const s = stages();
    try {
      const error = errorOf(() => flux(s.bootstrap, { url: 'git@x:y', stages: [s.pool, s.pool, 'kmm'] as any, timeout: '1d' })) as Day1ValidationError;
      expect(error.problems.map((p) => `${p.field} ${p.value}`)).toEqual(['url "git@x:y"', 'stages[1] "pool"', 'stages[2] "kmm"', 'timeout "1d"']);
    } finally {
      cleanup(s.app);
    }
  });

  test.each([
    ['another bootstrap chart', (s: Stages) => {
      const argo = new Chart(s.app, 'argo');
      argoCd(argo);
      return [s.pool, s.day1, argo, s.kmm];
    }, 'Invalid stages[2] "argo": is a GitOps bootstrap chart (it holds an ArgoCdApplication, FluxDelivery or GitOpsControllerAccess)'],
    ['a chart without objects', (s: Stages) => [s.pool, s.day1, new Chart(s.app, 'empty')], 'Invalid stages[2] "empty": holds no objects'],
    ['a stage left out', (s: Stages) => [s.pool, s.day1],
      'Invalid stages ["pool","day1"]: leaves out the app\'s stage chart "kmm", which no Kustomization would apply'],
    ['a chart before the chart it depends on', (s: Stages) => [s.day1, s.pool, s.kmm],
      'Invalid stages[0] "day1": comes before chart "pool", which it depends on'],
    ['a chart before a chart it depends on through another', (s: Stages) => [s.kmm, s.pool, s.day1],
      'Invalid stages[0] "kmm": comes before chart "pool", which it depends on'],
  ] as Array<[string, (s: Stages) => Chart[], string]>)('at synthesis: %s', (_name, list, message) => {
    const s = stages({ handOver: ['ice'] });
    try {
      flux(s.bootstrap, { stages: list(s) });
      expect(errorOf(() => synthYaml(s.app)).message).toContain(`[bootstrap/flux] ${message}`);
    } finally {
      cleanup(s.app);
    }
  });

  test('a chart that depends on nothing listed later passes', () => {
    const s = stages({ handOver: ['ice'] });
    try {
      flux(s.bootstrap, { stages: [s.pool, s.day1, s.kmm] });
      expect(byKind(synthManifests(s.app), 'Kustomization').map((k) => k.metadata.name)).toEqual(['nic-pool', 'nic-day1', 'nic-kmm']);
    } finally {
      cleanup(s.app);
    }
  });
});

describe('bootstrap objects have a folder of their own', () => {
  test('the Argo CD Application syncs the stage folders only', () => {
    const s = stages({ handOver: ['ice'] });
    try {
      const application = argoCd(s.bootstrap);
      expect(application.stageFolders()).toEqual(['0000-pool', '0001-day1', '0002-kmm']);
    } finally {
      cleanup(s.app);
    }
  });

  test.each([
    ['ArgoCdApplication', (chart: Chart) => argoCd(chart)],
    ['FluxDelivery', (chart: Chart) => flux(chart)],
    ['GitOpsControllerAccess', (chart: Chart) => new GitOpsControllerAccess(chart, 'access', { controller: GitOpsController.FLUX, name: 'nic' })],
  ])('%s in a chart with objects of the app: a synthesis error', (kind, create) => {
    const s = stages();
    try {
      create(s.day1);
      const message = errorOf(() => synthYaml(s.app)).message;
      expect(message).toContain(`${kind} "day1/`);
      expect(message).toContain('chart "day1" also holds objects of the app (day1/ice/Resource');
      expect(message).toContain('must have a chart (and so an output folder) of their own');
    } finally {
      cleanup(s.app);
    }
  });

  test('an app with nothing but bootstrap charts: a synthesis error', () => {
    const app = new App();
    argoCd(new Chart(app, 'gitops'));
    expect(errorOf(() => synthYaml(app)).message).toContain('the app has no chart with objects besides the GitOps bootstrap charts');
  });
});

describe('GitOpsControllerAccess: exactly the verbs on exactly the resources of the app', () => {
  type Triple = string;
  const triple = (group: string, resource: string, verb: string): Triple => `${group === '' ? 'core' : group}/${resource}/${verb}`;

  /** The (group, resource, verb) triples a ClusterRole grants. */
  function granted(clusterRole: Manifest): Triple[] {
    const rules = (clusterRole as any).rules as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    const triples: Triple[] = [];
    for (const rule of rules) {
      // No resourceNames or nonResourceURLs: every rule is read as its triples alone.
      expect(Object.keys(rule).sort()).toEqual(['apiGroups', 'resources', 'verbs']);
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) {
          for (const verb of rule.verbs) triples.push(triple(group, resource, verb));
        }
      }
    }
    expect(new Set(triples).size).toBe(triples.length);
    return triples.sort();
  }

  /** What each object needs: apply verbs, and delete where the controller may prune it. */
  function needed(objects: Manifest[], mayDelete: (object: Manifest) => boolean): Triple[] {
    const triples = new Set<Triple>();
    for (const object of objects) {
      const known = RESOURCES[object.kind];
      if (known === undefined) throw new Error(`no resource spelled out for kind ${object.kind}`);
      const [group, resource] = known;
      expect(object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '').toBe(group);
      for (const verb of APPLY) triples.add(triple(group, resource, verb));
      if (mayDelete(object)) triples.add(triple(group, resource, 'delete'));
    }
    return [...triples].sort();
  }
  const syncOptions = (o: Manifest) => (o.metadata.annotations?.['argocd.argoproj.io/sync-options'] ?? '').split(',');
  const argoPrunes = (o: Manifest) => !syncOptions(o).includes('Prune=false');
  const fluxPrunes = (o: Manifest) => o.metadata.annotations?.['kustomize.toolkit.fluxcd.io/prune'] !== 'disabled';

  function rolesOf(s: Stages): Record<string, Manifest> {
    const manifests = synthManifests(s.app);
    return Object.fromEntries(byKind(manifests, 'ClusterRole').map((role) => [role.metadata.name, role]));
  }

  test.each([
    ['with prune protection (the defaults)', true],
    ['without prune protection', false],
  ])('the example\'s kinds, %s, for Argo CD and Flux', (_name, pruneProtection) => {
    const s = stages({ handOver: ['ice'], healthCheck: true, pruneProtection });
    try {
      argoCd(s.bootstrap);
      flux(s.bootstrap);
      const objects = stageObjects(s.app, [s.bootstrap]);
      expect([...new Set(objects.map((o) => o.kind))].sort())
        .toEqual(['BootModuleConfig', 'DaemonSet', 'MachineConfig', 'MachineConfigPool', 'Module', 'Namespace']);
      const roles = rolesOf(s);
      expect(Object.keys(roles).sort()).toEqual(['nic-argocd', 'nic-flux']);
      expect(granted(roles['nic-argocd'])).toEqual(needed(objects, argoPrunes));
      expect(granted(roles['nic-flux'])).toEqual(needed(objects, fluxPrunes));
      // Spelled out once, so that a derivation that is wrong the same way in the test fails too.
      const deletable = granted(roles['nic-argocd']).filter((t) => t.endsWith('/delete'));
      expect(deletable).toEqual(pruneProtection
        ? ['apps/daemonsets/delete', 'core/namespaces/delete', 'kmm.sigs.x-k8s.io/bootmoduleconfigs/delete']
        : ['apps/daemonsets/delete', 'core/namespaces/delete', 'kmm.sigs.x-k8s.io/bootmoduleconfigs/delete', 'kmm.sigs.x-k8s.io/modules/delete',
          'machineconfiguration.openshift.io/machineconfigpools/delete', 'machineconfiguration.openshift.io/machineconfigs/delete']);
      expect(granted(roles['nic-argocd'])).toHaveLength(6 * 5 + deletable.length);
    } finally {
      cleanup(s.app);
    }
  });

  test('one unprotected object of a kind is enough for delete on that kind; objects of the user\'s own kinds are covered', () => {
    const s = stages();
    try {
      new KmmModule(s.kmm, 'unprotected', { kernelModuleName: 'ice', kernelModuleImage: IMAGE, selector: { a: 'b' }, pruneProtection: false });
      new ApiObject(s.kmm, 'config', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } });
      new ApiObject(s.kmm, 'policy', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'default' } });
      new ApiObject(s.kmm, 'class', {
        apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 's', annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false' } },
      });
      argoCd(s.bootstrap);
      const objects = stageObjects(s.app, [s.bootstrap]);
      const role = rolesOf(s)['nic-argocd'];
      expect(granted(role)).toEqual(needed(objects, argoPrunes));
      expect(granted(role)).toContain('kmm.sigs.x-k8s.io/modules/delete');
      expect(granted(role)).toContain('networking.k8s.io/networkpolicies/delete');
      expect(granted(role)).toContain('storage.k8s.io/storageclasses/patch');
      expect(granted(role)).not.toContain('storage.k8s.io/storageclasses/delete');
    } finally {
      cleanup(s.app);
    }
  });

  describe('delete on a kind is decided by ANY object of it that the controller may delete, whatever the order of the objects', () => {
    const PROTECTED_BY: Record<string, Record<string, string>> = {
      argocd: { 'argocd.argoproj.io/sync-options': 'Prune=false' },
      flux: { 'kustomize.toolkit.fluxcd.io/prune': 'disabled' },
    };
    /** StorageClasses in the kmm stage, created in the order given (true: prune protection). */
    function storageClasses(controller: 'argocd' | 'flux', protection: boolean[], where: (s: Stages, index: number) => Chart = (s) => s.kmm): Triple[] {
      const s = stages();
      try {
        protection.forEach((protectedObject, index) => new ApiObject(where(s, index), `class-${index}`, {
          apiVersion: 'storage.k8s.io/v1',
          kind: 'StorageClass',
          metadata: { name: `class-${index}`, ...(protectedObject ? { annotations: PROTECTED_BY[controller] } : {}) },
        }));
        if (controller === 'argocd') argoCd(s.bootstrap);
        else flux(s.bootstrap);
        const objects = stageObjects(s.app, [s.bootstrap]).filter((o) => o.kind === 'StorageClass');
        // The objects reach the output in the order they were created: the order under test.
        expect(objects.map((o) => Boolean(o.metadata.annotations))).toEqual(protection);
        return granted(rolesOf(s)[`nic-${controller}`]).filter((t) => t.startsWith('storage.k8s.io/'));
      } finally {
        cleanup(s.app);
      }
    }
    const WITH_DELETE = [...APPLY, 'delete'].map((verb) => `storage.k8s.io/storageclasses/${verb}`).sort();
    const WITHOUT_DELETE = APPLY.map((verb) => `storage.k8s.io/storageclasses/${verb}`).sort();

    test.each([
      ['argocd', 'the protected one after the unprotected one', [false, true], WITH_DELETE],
      ['argocd', 'the protected one before the unprotected one', [true, false], WITH_DELETE],
      ['argocd', 'the unprotected one between two protected ones', [true, false, true], WITH_DELETE],
      ['argocd', 'all protected', [true, true], WITHOUT_DELETE],
      ['flux', 'the protected one after the unprotected one', [false, true], WITH_DELETE],
      ['flux', 'the protected one before the unprotected one', [true, false], WITH_DELETE],
      ['flux', 'the unprotected one between two protected ones', [true, false, true], WITH_DELETE],
      ['flux', 'all protected', [true, true], WITHOUT_DELETE],
    ] as Array<['argocd' | 'flux', string, boolean[], Triple[]]>)('%s: %s', (controller, _name, protection, expected) => {
      expect(storageClasses(controller, protection)).toEqual(expected);
    });

    test('across stages: the protected object in the later stage, the unprotected one in the earlier', () => {
      const inStage = (s: Stages, index: number) => (index === 0 ? s.day1 : s.kmm);
      expect(storageClasses('argocd', [false, true], inStage)).toEqual(WITH_DELETE);
      expect(storageClasses('flux', [false, true], inStage)).toEqual(WITH_DELETE);
      expect(storageClasses('flux', [true, true], inStage)).toEqual(WITHOUT_DELETE);
    });
  });

  test('Argo CD with the resources finalizer: an object with Prune=false but without Delete=false may be deleted with the Application', () => {
    const s = stages();
    try {
      new ApiObject(s.kmm, 'class', {
        apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 's', annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false' } },
      });
      argoCd(s.bootstrap, { resourcesFinalizer: true });
      const granted_ = granted(rolesOf(s)['nic-argocd']);
      expect(granted_).toContain('storage.k8s.io/storageclasses/delete');
      // The library's protection carries Delete=false too: still no delete on the MachineConfigs.
      expect(granted_).not.toContain('machineconfiguration.openshift.io/machineconfigs/delete');
    } finally {
      cleanup(s.app);
    }
  });

  test('the bindings: the controllers\' default service accounts, or the given ones', () => {
    const s = stages();
    try {
      argoCd(s.bootstrap);
      flux(s.bootstrap);
      new GitOpsControllerAccess(s.bootstrap, 'custom', {
        controller: GitOpsController.ARGO_CD, name: 'nic-custom', serviceAccountName: 'argocd-application-controller', serviceAccountNamespace: 'argocd',
      });
      const bindings = byKind(synthManifests(s.app), 'ClusterRoleBinding').map((b: any) => [b.metadata.name, b.roleRef, b.subjects]);
      const ref = (name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
      expect(bindings.sort()).toEqual([
        ['nic-argocd', ref('nic-argocd'), [{ kind: 'ServiceAccount', name: 'openshift-gitops-argocd-application-controller', namespace: 'openshift-gitops' }]],
        ['nic-custom', ref('nic-custom'), [{ kind: 'ServiceAccount', name: 'argocd-application-controller', namespace: 'argocd' }]],
        ['nic-flux', ref('nic-flux'), [{ kind: 'ServiceAccount', name: 'kustomize-controller', namespace: 'flux-system' }]],
      ]);
    } finally {
      cleanup(s.app);
    }
  });

  test('controllerAccess: false leaves the RBAC to the user; the service account props then have no effect', () => {
    const s = stages();
    try {
      argoCd(s.bootstrap, { controllerAccess: false });
      expect(byKind(synthManifests(s.app), 'ClusterRole')).toEqual([]);
      expect(errorOf(() => flux(s.bootstrap, { controllerAccess: false, controllerServiceAccountName: 'x' })).message)
        .toContain('controllerServiceAccountName "x": has no effect with controllerAccess: false');
      expect(errorOf(() => argoCd(new Chart(s.app, 'other'), { controllerAccess: false, controllerServiceAccountNamespace: 'argocd' })).message)
        .toContain('controllerServiceAccountNamespace "argocd": has no effect with controllerAccess: false');
    } finally {
      cleanup(s.app);
    }
  });
});

test('every bootstrap object conforms to its CRD, with nothing pruned', () => {
  const s = stages({ handOver: ['ice', 'sfc'], healthCheck: true });
  try {
    argoCd(s.bootstrap, { resourcesFinalizer: true, targetRevision: 'v1.2.3' });
    flux(s.bootstrap, { secretName: 'git' });
    const bootstrap = Testing.synth(s.bootstrap) as Manifest[];
    const checked = bootstrap.filter((m) => ['Application', 'GitRepository', 'Kustomization'].includes(m.kind));
    expect(checked.map((m) => m.kind).sort()).toEqual(['Application', 'GitRepository', 'Kustomization', 'Kustomization', 'Kustomization']);
    for (const manifest of checked) {
      expect({ object: `${manifest.kind} ${manifest.metadata.name}`, violations: crdViolations(manifest) })
        .toEqual({ object: `${manifest.kind} ${manifest.metadata.name}`, violations: [] });
    }
  } finally {
    cleanup(s.app);
  }
});

describe('invalid props name the field, the value and the rule', () => {
  test.each([
    ['name', { name: 'Nic' }, 'name "Nic": must be a DNS-1123 label'],
    ['path', { path: '/abs/dist' }, 'path "/abs/dist": must be a folder of the repository relative to its root'],
    ['path', { path: 'a/../b' }, 'path "a/../b": must be a folder of the repository'],
    ['repoUrl', { repoUrl: 'https://x y' }, 'repoUrl "https://x y": must not contain whitespace'],
    ['destinationServer', { destinationServer: 'in-cluster' }, 'destinationServer "in-cluster": must be the URL of a Kubernetes API server'],
    ['resourcesFinalizer', { resourcesFinalizer: 'yes' }, 'resourcesFinalizer "yes": must be a boolean'],
  ])('ArgoCdApplication %s', (_field, props, message) => {
    const s = stages();
    try {
      expect(errorOf(() => argoCd(s.bootstrap, props as any)).message).toContain(`bootstrap/argocd: Invalid ${message}`);
    } finally {
      cleanup(s.app);
    }
  });

  test.each([
    ['url', { url: 'git@example.com:org/repo.git' }, 'url "git@example.com:org/repo.git": must start with http://, https:// or ssh://'],
    ['interval', { interval: '10 minutes' }, 'interval "10 minutes": must not contain whitespace'],
    ['timeout', { timeout: '1d' }, 'timeout "1d": must be a Go duration'],
    ['secretName', { secretName: 'Git_Secret' }, 'secretName "Git_Secret": must be a DNS-1123 subdomain'],
  ])('FluxDelivery %s', (_field, props, message) => {
    const s = stages();
    try {
      expect(errorOf(() => flux(s.bootstrap, props as any)).message).toContain(`bootstrap/flux: Invalid ${message}`);
    } finally {
      cleanup(s.app);
    }
  });

  test('GitOpsControllerAccess', () => {
    const chart = Testing.chart();
    expect(errorOf(() => new GitOpsControllerAccess(chart, 'a', { controller: 'argo' as any, name: 'x' })).message)
      .toContain('test/a: Invalid controller "argo": must be GitOpsController.ARGO_CD or GitOpsController.FLUX');
    expect(errorOf(() => new GitOpsControllerAccess(chart, 'b', { controller: GitOpsController.FLUX, name: 'x', argoCdResourcesFinalizer: true })).message)
      .toContain('argoCdResourcesFinalizer true: applies to GitOpsController.ARGO_CD only');
    expect(errorOf(() => new GitOpsControllerAccess(chart, 'c', { controller: GitOpsController.FLUX, name: 'x', serviceAccountNamespace: 'Flux' })).message)
      .toContain('serviceAccountNamespace "Flux": must be a DNS-1123 label');
  });
});

describe('the GitOps constructs report every invalid prop at once, and reject empty strings', () => {
  test('ArgoCdApplication: every problem, in the order of its props', () => {
    const s = stages();
    try {
      const error = errorOf(() => argoCd(s.bootstrap, {
        controllerAccess: false, controllerServiceAccountName: 'x', destinationServer: 'in-cluster', path: '/abs', name: 'Nic',
      })) as Day1ValidationError;
      expect(error.problems.map((p) => `${p.path} ${p.field}`)).toEqual([
        'bootstrap/argocd name', 'bootstrap/argocd path', 'bootstrap/argocd destinationServer', 'bootstrap/argocd controllerServiceAccountName',
      ]);
    } finally {
      cleanup(s.app);
    }
  });

  test('FluxDelivery: every problem, in the order of its props', () => {
    const s = stages();
    try {
      const error = errorOf(() => flux(s.bootstrap, { timeout: '1d', url: 'git@x:y', secretName: '', controllerServiceAccountNamespace: 'Flux' })) as Day1ValidationError;
      expect(error.problems.map((p) => `${p.field} ${p.value}`)).toEqual(['url "git@x:y"', 'secretName ""', 'timeout "1d"', 'controllerServiceAccountNamespace "Flux"']);
    } finally {
      cleanup(s.app);
    }
  });

  test('GitOpsControllerAccess: every problem at once', () => {
    const error = errorOf(() => new GitOpsControllerAccess(Testing.chart(), 'a', { controller: 'argo' as any, name: 'X', serviceAccountName: '' })) as Day1ValidationError;
    expect(error.problems.map((p) => p.field)).toEqual(['controller', 'name', 'serviceAccountName']);
  });

  test.each([
    ['targetRevision', 'HEAD'],
    ['namespace', 'the default namespace (openshift-gitops)'],
    ['project', 'the default project'],
    ['destinationServer', 'the cluster Argo CD runs in (https://kubernetes.default.svc)'],
    ['controllerServiceAccountName', 'the default service account (openshift-gitops-argocd-application-controller)'],
    ['controllerServiceAccountNamespace', 'the default namespace (openshift-gitops)'],
  ])('ArgoCdApplication: an empty %s is rejected', (field, unset) => {
    const s = stages();
    try {
      expect(errorOf(() => argoCd(s.bootstrap, { [field]: '' })).message).toBe(`bootstrap/argocd: Invalid ${field} "": must not be empty: leave it out for ${unset}`);
    } finally {
      cleanup(s.app);
    }
  });

  test.each([
    ['branch', 'the default branch (main)'],
    ['secretName', 'no credentials (a public repository)'],
    ['namespace', 'the default namespace (flux-system)'],
    ['sourceInterval', 'the default (5m)'],
    ['interval', 'the default (10m)'],
    ['timeout', 'the default (10m)'],
    ['rolloutTimeout', 'the default (3h)'],
    ['controllerServiceAccountName', 'the default service account (kustomize-controller)'],
    ['controllerServiceAccountNamespace', 'the default namespace (flux-system)'],
  ])('FluxDelivery: an empty %s is rejected', (field, unset) => {
    const s = stages();
    try {
      expect(errorOf(() => flux(s.bootstrap, { [field]: '' })).message).toBe(`bootstrap/flux: Invalid ${field} "": must not be empty: leave it out for ${unset}`);
    } finally {
      cleanup(s.app);
    }
  });

  test.each(['serviceAccountName', 'serviceAccountNamespace'])('GitOpsControllerAccess: an empty %s is rejected', (field) => {
    expect(errorOf(() => new GitOpsControllerAccess(Testing.chart(), 'a', { controller: GitOpsController.FLUX, name: 'x', [field]: '' })).message)
      .toMatch(new RegExp(`^test/a: Invalid ${field} "": must not be empty: leave it out for the controller's default`));
  });
});
