import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { Day1KernelModule, IMachineConfigPool, KmmMachineConfigPool } from '../../../src';
import { synthesisError } from '../helpers';
import { IMAGE } from '../scenarios';

/*
 * The pool as it will be once the KMM operator has rewritten every handed-over MachineConfig:
 * a Day 1 module that is not handed over, on nodes where the operator's scripts come last in
 * the merge, is refused at synthesis when it would lose its parameters, its image tag on a
 * `+64k` kernel, or its order against the handed-over module's unit. Both merge orders, and
 * the declared and imported variants of each pool, which must agree.
 */

type PoolKind = 'declared' | 'imported';

function app(): { app: App; chart: Chart } {
  const chart = Testing.chart();
  return { app: chart.node.root as App, chart };
}

function pool(chart: Chart, kind: PoolKind, name: string): IMachineConfigPool {
  return kind === 'declared' ? new KmmMachineConfigPool(chart, `pool-${name}`, { name }) : KmmMachineConfigPool.fromPoolName(chart, `pool-${name}`, name);
}


/** `aa` and `zz` on one pool; `handedOver` says which one is handed over to KMM. */
function twoModules(kind: PoolKind, handedOver: 'aa' | 'zz', parameters: { aa?: string[]; zz?: string[] } = {}): App {
  const { app: a, chart } = app();
  const sfc = pool(chart, kind, 'sfc');
  for (const name of ['aa', 'zz'] as const) {
    const module = new Day1KernelModule(chart, name, {
      pool: sfc, kernelModuleImage: IMAGE, kernelModuleName: name, moduleParameters: parameters[name],
    });
    if (name === handedOver) module.handOverToKmm();
  }
  return a;
}

describe.each(['declared', 'imported'] as PoolKind[])('the pool after the hand-over (%s pool)', (kind) => {
  test('a Day-1-only module with parameters, merged before the handed-over one, is refused, naming both and the fix', () => {
    const message = synthesisError(twoModules(kind, 'zz', { aa: ['x=1'] }));
    expect(message).toContain('[test/aa] once the KMM operator has rewritten MachineConfig "99-sfc-kmm-day1-zz" (handed over by test/zz/BootModuleConfig)');
    expect(message).toContain('the nodes of MachineConfigPool "sfc" run the operator\'s boot scripts for every Day 1 module');
    expect(message).toContain('merge order (99-sfc-kmm-day1-aa, 99-sfc-kmm-day1-zz)');
    expect(message).toContain('Day 1 module "aa" (test/aa, not handed over) would lose its module parameters ["x=1"]');
    expect(message).toContain('Give test/aa a machineConfigName that sorts after "99-sfc-kmm-day1-zz" in Go\'s byte order '
      + '(for example "99-sfc-kmm-day1-zz-aa")');
    expect(message).toContain('or hand test/aa over too');
  });

  test('the other merge order: the Day-1-only module comes last, its scripts serve every unit, nothing is refused', () => {
    expect(synthesisError(twoModules(kind, 'aa', { zz: ['x=1'] }))).toBe('');
  });

  test('the fix the message gives is accepted: a machineConfigName that sorts after the handed-over one', () => {
    const { app: a, chart } = app();
    const sfc = pool(chart, kind, 'sfc');
    new Day1KernelModule(chart, 'aa', { pool: sfc, kernelModuleImage: IMAGE, kernelModuleName: 'aa', moduleParameters: ['x=1'], machineConfigName: '99-sfc-kmm-day1-zz-aa' });
    new Day1KernelModule(chart, 'zz', { pool: sfc, kernelModuleImage: IMAGE, kernelModuleName: 'zz' }).handOverToKmm();
    expect(synthesisError(a)).toBe('');
  });

  test('without parameters, in the same order, nothing is lost: accepted', () => {
    expect(synthesisError(twoModules(kind, 'zz'))).toBe('');
  });

  test('a pool whose MachineConfigs select the 64k-pages kernel: the Day-1-only module would lose its image tag', () => {
    const a = twoModules(kind, 'zz');
    const chart = a.node.findChild('test') as Chart;
    new ApiObject(chart, 'kernel', {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfig',
      metadata: { name: '50-sfc-64k', labels: { 'machineconfiguration.openshift.io/role': 'sfc' } },
      spec: { kernelType: '64k-pages' },
    });
    const message = synthesisError(a);
    expect(message).toContain('Day 1 module "aa" (test/aa, not handed over) would lose its module image on the 64k-pages kernel that '
      + 'MachineConfig "50-sfc-64k" (test/kernel) selects');
    expect(message).toContain('"+64k"');
  });

  test('a worker module next to a handed-over module of a custom pool loses its order: refused, and renaming cannot help', () => {
    const { app: a, chart } = app();
    const sfc = pool(chart, kind, 'sfc');
    new Day1KernelModule(chart, 'mlx', { pool: KmmMachineConfigPool.fromPoolName(chart, 'worker', 'worker'), kernelModuleImage: IMAGE, kernelModuleName: 'mlx5_core' });
    new Day1KernelModule(chart, 'ice', { pool: sfc, kernelModuleImage: IMAGE, kernelModuleName: 'ice' }).handOverToKmm();
    const message = synthesisError(a);
    expect(message).toContain('[test/mlx] once the KMM operator has rewritten MachineConfig "99-sfc-kmm-day1-ice" (handed over by test/ice/BootModuleConfig)');
    expect(message).toContain('would lose its order against "99-sfc-kmm-day1-ice": neither replace unit orders itself against the other '
      + '(a "worker" MachineConfig never lists peers of role "sfc")');
    expect(message).toContain('"kmm-pod"');
    expect(message).toContain('Its MachineConfig has role "worker", which the MCO merges before role "sfc" whatever the names');
  });
});

test('a handed-over worker module and a Day-1-only custom-pool module: the custom MachineConfig comes last, nothing is refused', () => {
  const { app: a, chart } = app();
  new Day1KernelModule(chart, 'mlx', { pool: KmmMachineConfigPool.fromPoolName(chart, 'worker', 'worker'), kernelModuleImage: IMAGE, kernelModuleName: 'mlx5_core' })
    .handOverToKmm();
  new Day1KernelModule(chart, 'ice', { pool: new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc' }), kernelModuleImage: IMAGE, kernelModuleName: 'ice', moduleParameters: ['a=1'] });
  expect(synthesisError(a)).toBe('');
});

test('a BootModuleConfig object the user added counts as a hand-over too', () => {
  const { app: a, chart } = app();
  const sfc = new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc' });
  new Day1KernelModule(chart, 'aa', { pool: sfc, kernelModuleImage: IMAGE, kernelModuleName: 'aa', moduleParameters: ['x=1'] });
  new Day1KernelModule(chart, 'zz', { pool: sfc, kernelModuleImage: IMAGE, kernelModuleName: 'zz' });
  new ApiObject(chart, 'bmc', {
    apiVersion: 'kmm.sigs.x-k8s.io/v1beta1',
    kind: 'BootModuleConfig',
    metadata: { name: 'zz', namespace: 'openshift-kmm' },
    spec: { machineConfigName: '99-sfc-kmm-day1-zz', machineConfigPoolName: 'sfc', kernelModuleImage: IMAGE, kernelModuleName: 'zz' },
  });
  expect(synthesisError(a)).toContain('[test/aa] once the KMM operator has rewritten MachineConfig "99-sfc-kmm-day1-zz" (handed over by a BootModuleConfig of the app)');
});
