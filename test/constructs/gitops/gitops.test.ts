import { mkdtempSync, readdirSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Chart, Testing, YamlOutputType } from 'cdk8s';
import { Construct } from 'constructs';
import { BootModuleConfig, Day1KernelModule, KmmMachineConfigPool, KmmModule, SyncWave } from '../../../src';
import { byKind, clusterPool, errorOf, HANDED_OVER_MACHINE_CONFIG_ANNOTATIONS, MACHINE_CONFIG_ANNOTATIONS, Manifest, MODULE_ANNOTATIONS, NO_FLUX_SUBSTITUTION, only, onWorker, PRUNE_PROTECTION, syncWave, synthManifests, testApp } from '../helpers';
import { IMAGE } from '../scenarios';

const WAVE = 'argocd.argoproj.io/sync-wave';
const SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';
const FLUX_PRUNE = 'kustomize.toolkit.fluxcd.io/prune';
const FLUX_SSA = 'kustomize.toolkit.fluxcd.io/ssa';

/** A pool, a module with a health check handed over to KMM: every kind the library emits. */
function everything(chart: Chart, switches: { syncWaves?: boolean; pruneProtection?: boolean } = {}): Day1KernelModule {
  const pool = new KmmMachineConfigPool(chart, 'pool', { name: 'sfc', ...switches });
  const day1 = new Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true, ...switches });
  day1.handOverToKmm();
  return day1;
}

function annotationsByKind(manifests: Manifest[]): Record<string, Record<string, string> | undefined> {
  const result: Record<string, Record<string, string> | undefined> = {};
  for (const manifest of manifests) {
    expect(result[manifest.kind]).toBeUndefined();
    result[manifest.kind] = manifest.metadata.annotations;
  }
  return result;
}

let stderr: jest.SpyInstance;
beforeEach(() => {
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => stderr.mockRestore());

describe('GitOps defaults', () => {
  test('the public wave constants', () => {
    expect([SyncWave.MACHINE_CONFIG_POOL, SyncWave.MACHINE_CONFIG, SyncWave.HEALTH_CHECK, SyncWave.KMM]).toEqual([-10, -5, 0, 5]);
  });

  test('every kind of object: its wave, and prune protection exactly where deletion disrupts the nodes', () => {
    const { app, chart } = testApp();
    everything(chart);
    expect(annotationsByKind(synthManifests(app))).toEqual({
      MachineConfigPool: { ...syncWave('-10'), ...PRUNE_PROTECTION },
      MachineConfig: HANDED_OVER_MACHINE_CONFIG_ANNOTATIONS,
      Namespace: syncWave('0'),
      DaemonSet: syncWave('0'),
      BootModuleConfig: syncWave('5'),
      Module: MODULE_ANNOTATIONS,
    });
  });

  test('in one chart, the file order respects the waves: pool, MachineConfig, namespace, DaemonSet, KMM objects', () => {
    const { app, chart } = testApp();
    everything(chart);
    const manifests = synthManifests(app);
    expect(manifests.map((m) => m.kind)).toEqual(['MachineConfigPool', 'MachineConfig', 'Namespace', 'DaemonSet', 'BootModuleConfig', 'Module']);
    const waves = manifests.map((m) => Number(m.metadata.annotations![WAVE]));
    expect(waves).toEqual([...waves].sort((a, b) => a - b));
  });

  test('syncWaves: false on the pool and the module removes every wave, also from the health check and the KMM objects', () => {
    const { app, chart } = testApp();
    everything(chart, { syncWaves: false });
    expect(annotationsByKind(synthManifests(app))).toEqual({
      MachineConfigPool: PRUNE_PROTECTION,
      MachineConfig: { ...PRUNE_PROTECTION, [FLUX_SSA]: 'IfNotPresent' },
      Namespace: undefined,
      DaemonSet: undefined,
      BootModuleConfig: undefined,
      Module: { ...NO_FLUX_SUBSTITUTION, ...PRUNE_PROTECTION },
    });
  });

  test('pruneProtection: false removes the Argo CD and Flux protection from the pool, the MachineConfig and the Module', () => {
    const { app, chart } = testApp();
    everything(chart, { pruneProtection: false });
    expect(annotationsByKind(synthManifests(app))).toEqual({
      MachineConfigPool: syncWave('-10'),
      MachineConfig: { ...syncWave('-5'), [FLUX_SSA]: 'IfNotPresent' },
      Namespace: syncWave('0'),
      DaemonSet: syncWave('0'),
      BootModuleConfig: syncWave('5'),
      Module: { ...NO_FLUX_SUBSTITUTION, ...syncWave('5') },
    });
  });

  test('both switched off, and no hand-over annotation: no annotation at all, except the Module\'s Flux substitution guard', () => {
    const { app, chart } = testApp();
    const switches = { syncWaves: false, pruneProtection: false };
    const pool = new KmmMachineConfigPool(chart, 'pool', { name: 'sfc', ...switches });
    new Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true, ...switches })
      .handOverToKmm({ fluxApplyIfNotPresent: false });
    expect(annotationsByKind(synthManifests(app))).toEqual({
      MachineConfigPool: undefined,
      MachineConfig: undefined,
      Namespace: undefined,
      DaemonSet: undefined,
      BootModuleConfig: undefined,
      Module: NO_FLUX_SUBSTITUTION,
    });
  });

  test('the Module\'s Flux substitution guard can be overridden like any default annotation', () => {
    const { app, chart } = testApp();
    new KmmModule(chart, 'm', {
      kernelModuleName: 'ice',
      kernelModuleImage: IMAGE,
      selector: { a: 'b' },
      metadata: { annotations: { 'kustomize.toolkit.fluxcd.io/substitute': 'enabled' } },
    });
    expect(only(synthManifests(app), 'Module').metadata.annotations).toEqual({ ...MODULE_ANNOTATIONS, 'kustomize.toolkit.fluxcd.io/substitute': 'enabled' });
  });

  test('the standalone KMM constructs: syncWaves and pruneProtection', () => {
    const { app, chart } = testApp();
    new BootModuleConfig(chart, 'bmc', {
      machineConfigName: 'mc', machineConfigPoolName: 'worker', kernelModuleImage: IMAGE, kernelModuleName: 'ice', syncWaves: false,
    });
    new KmmModule(chart, 'm1', { kernelModuleName: 'ice', kernelModuleImage: IMAGE, selector: { a: 'b' }, pruneProtection: false });
    new KmmModule(chart, 'm2', { kernelModuleName: 'sfc', kernelModuleImage: IMAGE, selector: { a: 'b' }, syncWaves: false });
    const manifests = synthManifests(app);
    expect(only(manifests, 'BootModuleConfig').metadata.annotations).toBeUndefined();
    expect(byKind(manifests, 'Module').map((m) => m.metadata.annotations)).toEqual([
      { ...NO_FLUX_SUBSTITUTION, ...syncWave('5') },
      { ...NO_FLUX_SUBSTITUTION, ...PRUNE_PROTECTION },
    ]);
  });

  describe('the user\'s annotations', () => {
    function machineConfig(annotations: Record<string, string>, pruneProtection?: boolean): Manifest {
      const { app, chart } = testApp();
      new Day1KernelModule(chart, 'ice', {
        pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice', metadata: { annotations }, pruneProtection,
      });
      return only(synthManifests(app), 'MachineConfig');
    }

    test('a sync wave overrides the default', () => {
      expect(machineConfig({ [WAVE]: '-7' }).metadata.annotations).toEqual({ ...MACHINE_CONFIG_ANNOTATIONS, [WAVE]: '-7' });
    });

    test('other Argo CD sync options are kept, and the protecting ones appended', () => {
      expect(machineConfig({ [SYNC_OPTIONS]: 'ServerSideApply=true' }).metadata.annotations![SYNC_OPTIONS])
        .toBe('ServerSideApply=true,Prune=false,Delete=false');
      expect(machineConfig({ [SYNC_OPTIONS]: ' Delete=false , Validate=false' }).metadata.annotations![SYNC_OPTIONS])
        .toBe('Delete=false,Validate=false,Prune=false');
      expect(machineConfig({ [SYNC_OPTIONS]: 'Prune=false,Delete=false' }).metadata.annotations![SYNC_OPTIONS]).toBe('Prune=false,Delete=false');
      expect(machineConfig({ [FLUX_PRUNE]: 'disabled' }).metadata.annotations).toEqual(MACHINE_CONFIG_ANNOTATIONS);
    });

    test.each([
      [SYNC_OPTIONS, 'Prune=true', 'Prune=true'],
      [SYNC_OPTIONS, 'ServerSideApply=true,Prune=confirm', 'Prune=confirm'],
      [SYNC_OPTIONS, 'Delete=true', 'Delete=true'],
      [FLUX_PRUNE, 'enabled', 'must be "disabled"'],
    ])('%s %s, which would re-enable deletion while pruneProtection is on, is rejected', (key, value, rule) => {
      const message = errorOf(() => machineConfig({ [key]: value })).message;
      expect(message).toContain(`[test/ice] Invalid metadata.annotations["${key}"] "${value}"`);
      expect(message).toContain(rule);
      expect(message).toContain('set pruneProtection: false');
    });

    test('with pruneProtection: false, the same annotations are the user\'s to set', () => {
      expect(machineConfig({ [SYNC_OPTIONS]: 'Prune=true', [FLUX_PRUNE]: 'enabled' }, false).metadata.annotations).toEqual({
        [WAVE]: '-5', [SYNC_OPTIONS]: 'Prune=true', [FLUX_PRUNE]: 'enabled',
      });
    });

    test('the pool and the Module reject it as well', () => {
      expect(errorOf(() => new KmmMachineConfigPool(Testing.chart(), 'pool', { name: 'sfc', metadata: { annotations: { [FLUX_PRUNE]: 'enabled' } } })).message)
        .toContain('test/pool: Invalid metadata.annotations["kustomize.toolkit.fluxcd.io/prune"] "enabled"');
      expect(errorOf(() => new KmmModule(Testing.chart(), 'm', {
        kernelModuleName: 'ice', kernelModuleImage: IMAGE, selector: { a: 'b' }, metadata: { annotations: { [SYNC_OPTIONS]: 'Prune=true' } },
      })).message).toContain('test/m: Invalid metadata.annotations["argocd.argoproj.io/sync-options"] "Prune=true"');
    });
  });

  test.each([
    ['syncWaves', { syncWaves: 'no' }],
    ['pruneProtection', { pruneProtection: 1 }],
  ])('%s must be a boolean', (field, switches) => {
    const message = errorOf(() => onWorker(Testing.chart(), 'ice', {
      kernelModuleImage: IMAGE, kernelModuleName: 'ice', ...(switches as object),
    })).message;
    expect(message).toContain(`test/ice: Invalid ${field} `);
    expect(message).toContain('must be a boolean');
  });
});

describe('handOverToKmm and GitOps', () => {
  test('Flux: the handed-over MachineConfig is applied only if not present; the others are left alone', () => {
    const { app, chart } = testApp();
    const pool = new KmmMachineConfigPool(chart, 'pool', { name: 'sfc' });
    new Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice' }).handOverToKmm();
    new Day1KernelModule(chart, 'sfc', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'sfc' });
    const annotations = byKind(synthManifests(app), 'MachineConfig').map((m) => [m.metadata.name, m.metadata.annotations]);
    expect(annotations).toEqual([
      ['99-sfc-kmm-day1-ice', HANDED_OVER_MACHINE_CONFIG_ANNOTATIONS],
      ['99-sfc-kmm-day1-sfc', MACHINE_CONFIG_ANNOTATIONS],
    ]);
  });

  test('fluxApplyIfNotPresent: false, and a Flux apply policy of the user\'s, are respected', () => {
    const { app, chart } = testApp();
    new Day1KernelModule(chart, 'ice', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice' })
      .handOverToKmm({ fluxApplyIfNotPresent: false });
    new Day1KernelModule(chart, 'sfc', {
      pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'sfc', metadata: { annotations: { [FLUX_SSA]: 'Ignore' } },
    }).handOverToKmm();
    expect(byKind(synthManifests(app), 'MachineConfig').map((m) => m.metadata.annotations![FLUX_SSA])).toEqual([undefined, 'Ignore']);
  });

  test('fluxApplyIfNotPresent must be a boolean', () => {
    const day1 = onWorker(Testing.chart(), 'ice', { kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    expect(errorOf(() => day1.handOverToKmm({ fluxApplyIfNotPresent: 'yes' as any })).message)
      .toContain('test/ice: Invalid handOverToKmm.fluxApplyIfNotPresent "yes": must be a boolean');
  });

  test('scope: the KMM objects go to another chart; the constructs add no cross-chart dependency, the app orders the charts', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'kmm-day1-stages-'));
    try {
      const app = new App({ outdir, yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
      // Created in reverse, so that only the dependencies can put them in order.
      const kmm = new Chart(app, 'kmm');
      const day1 = new Chart(app, 'day1');
      const pools = new Chart(app, 'pools');
      const pool = new KmmMachineConfigPool(pools, 'pool', { name: 'sfc' });
      const ice = new Day1KernelModule(day1, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true });
      const handOver = ice.handOverToKmm({ scope: kmm });
      expect(handOver.module.node.path).toBe('kmm/99-sfc-kmm-day1-ice/Module');
      expect(handOver.bootModuleConfig.node.path).toBe('kmm/99-sfc-kmm-day1-ice/BootModuleConfig');
      // cdk8s would link every object of one chart to every object of the other for each
      // construct-level edge; chart order is left to the app (bench/synth.ts measures why).
      for (const chart of [kmm, day1, pools]) {
        expect(chart.node.dependencies).toEqual([]);
      }
      day1.addDependency(pools);
      kmm.addDependency(day1);
      app.synth();
      const layout = readdirSync(outdir).sort().map((folder) => [folder, readdirSync(join(outdir, folder)).sort()]);
      expect(layout).toEqual([
        ['0000-pools', ['MachineConfigPool.sfc.k8s.yaml']],
        ['0001-day1', ['DaemonSet.99-sfc-kmm-day1-ice.k8s.yaml', 'MachineConfig.99-sfc-kmm-day1-ice.k8s.yaml', 'Namespace.kmm-day1-health.k8s.yaml']],
        ['0002-kmm', ['BootModuleConfig.99-sfc-kmm-day1-ice.k8s.yaml', 'Module.ice.k8s.yaml']],
      ]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('two modules handed over into one scope do not collide', () => {
    const { app, chart } = testApp();
    const kmm = new Chart(app, 'kmm');
    new Day1KernelModule(chart, 'm', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice' })
      .handOverToKmm({ scope: kmm });
    onWorker(new Chart(app, 'other'), 'm', { kernelModuleImage: IMAGE, kernelModuleName: 'sfc' })
      .handOverToKmm({ scope: kmm });
    expect(byKind(synthManifests(app), 'Module').map((m) => m.metadata.name)).toEqual(['ice', 'sfc']);
  });

  test.each([
    ['a chart of another app', () => Testing.chart(), '"test"'],
    ['not a construct', () => ({ node: {} }) as any, '{"node":{}}'],
  ])('scope: %s is rejected, and nothing is created in it', (_name, scope, shown) => {
    const day1 = onWorker(Testing.chart(), 'ice', { kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    const given = scope();
    const message = errorOf(() => day1.handOverToKmm({ scope: given })).message;
    expect(message).toContain(`test/ice: Invalid handOverToKmm.scope ${shown}: must be a construct of the same app`);
    // The placeholders of the failed hand-over stay under the module, never in the foreign scope.
    expect(day1.node.children.map((c) => c.node.id)).toEqual(['Resource', 'BootModuleConfig', 'Module']);
    if (Construct.isConstruct(given)) expect(given.node.children).toEqual([]);
  });
});
