import { App, Chart, Testing } from 'cdk8s';
import { Day1KernelModule, KmmMachineConfigPool } from '../../../src';
import { synthesisError } from '../helpers';
import { IMAGE } from '../scenarios';

/*
 * One model of the cluster's node sets: a pool the app declares and the same pool referred to by
 * name give the same answers (the same refusal, word for word), and `fromPoolName`'s roles
 * option says when a pool of the cluster is not a custom pool built on `worker`.
 */


function iceOnWorkerAndInfra(declareInfra: boolean, roles?: string[]): App {
  const chart = Testing.chart();
  const worker = KmmMachineConfigPool.fromPoolName(chart, 'w', 'worker');
  const infra = declareInfra ? new KmmMachineConfigPool(chart, 'i', { name: 'infra' })
    : KmmMachineConfigPool.fromPoolName(chart, 'i', 'infra', undefined, roles === undefined ? undefined : { machineConfigRoles: roles });
  new Day1KernelModule(chart, 'ice-worker', { pool: worker, kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
  new Day1KernelModule(chart, 'ice-infra', { pool: infra, kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
  return chart.node.root as App;
}

test('one module on worker and on a custom pool is loaded twice on the custom pool\'s nodes, declared or imported alike', () => {
  const declared = synthesisError(iceOnWorkerAndInfra(true));
  const imported = synthesisError(iceOnWorkerAndInfra(false));
  const expected = '[test/ice-worker] kernel module "ice" is loaded twice on the nodes of MachineConfigPool "infra", which applies the '
    + 'MachineConfigs of roles "worker" and "infra", by test/ice-worker (role "worker"), test/ice-infra (role "infra")';
  expect(declared).toContain(expected);
  expect(declared).toContain('Keep one: the nodes of "infra" receive the MachineConfigs of every role it applies, so one module on role "infra" '
    + 'or on "worker" alone is enough; if pool "infra" does not apply them all, say which roles it applies '
    + '(KmmMachineConfigPool.fromPoolName\'s machineConfigRoles option).');
  expect(imported).toBe(declared);
});

test('an imported pool that applies its own role only (machineConfigRoles) shares no nodes with worker: accepted', () => {
  expect(synthesisError(iceOnWorkerAndInfra(false, ['infra']))).toBe('');
});

test('machineConfigRoles is checked: the pool\'s own role, DNS labels, no repeats, not empty', () => {
  const cases: Array<[unknown, string]> = [
    [['worker'], 'Invalid options.machineConfigRoles ["worker"]: must include the pool\'s own role "infra"'],
    [['infra', 'infra'], 'Invalid options.machineConfigRoles ["infra","infra"]: must not list a role twice'],
    [[], 'Invalid options.machineConfigRoles []: must be a non-empty list of roles'],
    [['infra', 'Bad_Role'], 'Invalid options.machineConfigRoles[1] "Bad_Role": must be a DNS-1123 label'],
  ];
  for (const [roles, expected] of cases) {
    const chart = new Chart(new App(), 'c');
    KmmMachineConfigPool.fromPoolName(chart, 'i', 'infra', undefined, { machineConfigRoles: roles as string[] });
    expect(synthesisError(chart.node.root as App)).toContain(`[c/i] ${expected}`);
  }
});

test('a worker module is refused next to the same module on a declared pool built on another base role only when they share nodes', () => {
  const chart = Testing.chart();
  const gpu = new KmmMachineConfigPool(chart, 'gpu', { name: 'gpu', baseRole: 'infra' });
  new Day1KernelModule(chart, 'ice-worker', { pool: KmmMachineConfigPool.fromPoolName(chart, 'w', 'worker'), kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
  new Day1KernelModule(chart, 'ice-gpu', { pool: gpu, kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
  expect(synthesisError(chart.node.root as App)).toBe('');
});
