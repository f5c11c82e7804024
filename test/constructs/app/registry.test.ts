import { App, Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import * as lib from '../../../src';
import { registryOf } from '../../../src/constructs/app/claims';
import { REGISTRY_ID } from '../../../src/constructs/app/registry';
import { synthesisError } from '../helpers';
import { IMAGE } from '../scenarios';

/*
 * The app's state lives in the construct tree: one registry construct under the root, found by
 * id and created once. Two installed copies of the package (here: the sources loaded a second
 * time, a separate module graph with its own classes) share it, so the app-wide checks see the
 * constructs of both, and no check relies on `instanceof` or on the order cdk8s validates in.
 */

/**
 * A second copy of the package, as npm installs one under another dependency: its own classes,
 * and the app's one cdk8s and constructs (peer dependencies, deduplicated by npm).
 */
function secondCopy(): typeof lib {
  const cdk8s = jest.requireActual('cdk8s');
  const constructs = jest.requireActual('constructs');
  let copy: typeof lib | undefined;
  jest.isolateModules(() => {
    jest.doMock('cdk8s', () => cdk8s);
    jest.doMock('constructs', () => constructs);
    copy = jest.requireActual<typeof lib>('../../../src');
  });
  jest.dontMock('cdk8s');
  jest.dontMock('constructs');
  expect(copy!.Day1KernelModule).not.toBe(lib.Day1KernelModule);
  return copy!;
}


test('one registry per app, under the root, created by the first construct that needs it', () => {
  const chart = Testing.chart();
  const app = chart.node.root as App;
  expect(app.node.tryFindChild(REGISTRY_ID)).toBeUndefined();
  const pool = new lib.KmmMachineConfigPool(chart, 'pool', { name: 'sfc' });
  const registry = app.node.tryFindChild(REGISTRY_ID);
  expect(registry).toBeDefined();
  new lib.Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
  expect(app.node.children.filter((child) => child.node.id === REGISTRY_ID)).toEqual([registry]);
  // It emits nothing.
  expect(Testing.synth(chart).map((o: any) => o.kind).sort()).toEqual(['MachineConfig', 'MachineConfigPool']);
});

test('two copies of the package in one app share the registry: a duplicate across copies is found', () => {
  const copy = secondCopy();
  const chart = Testing.chart();
  const pool = new lib.KmmMachineConfigPool(chart, 'pool', { name: 'sfc' });
  const otherPool = copy.KmmMachineConfigPool.fromPoolName(chart, 'same-pool', 'sfc');
  new lib.Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
  new copy.Day1KernelModule(chart, 'ice-again', { pool: otherPool, kernelModuleImage: IMAGE, kernelModuleName: 'ice', machineConfigName: '98-ice' });
  const message = synthesisError(chart.node.root as App);
  expect(message).toContain('[test/ice] kernel module "ice" is loaded twice in MachineConfigPool "sfc", by test/ice (role "sfc"), test/ice-again (role "sfc")');
});

test('two copies: the pool after a hand-over made by the other copy is checked, and the peers of both are ordered', () => {
  const copy = secondCopy();
  const chart = Testing.chart();
  const pool = new lib.KmmMachineConfigPool(chart, 'pool', { name: 'sfc' });
  const aa = new copy.Day1KernelModule(chart, 'aa', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'aa' });
  new lib.Day1KernelModule(chart, 'zz', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'zz' });
  const unit = (aa.apiObject.toJson() as any).spec.config.systemd.units[0].contents as string;
  expect(unit).toContain('Before=99-sfc-kmm-day1-zz-replace-kernel-module.service');
  new copy.Day1KernelModule(chart, 'bb', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'bb', moduleParameters: ['x=1'] });
  new lib.Day1KernelModule(chart, 'zzz', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'zzz' }).handOverToKmm();
  expect(synthesisError(chart.node.root as App)).toContain('[test/bb] once the KMM operator has rewritten MachineConfig "99-sfc-kmm-day1-zzz"');
});

test('the checks do not depend on the order cdk8s validates in: a registry made before every chart reports the same', () => {
  const build = (registryFirst: boolean) => {
    const app = Testing.app();
    if (registryFirst) registryOf(app);
    expect(app.node.children.length).toBe(registryFirst ? 1 : 0);
    const chart = new Chart(app, 'c');
    const pool = new lib.KmmMachineConfigPool(chart, 'pool', { name: 'sfc' });
    new lib.Day1KernelModule(chart, 'a', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'a', machineConfigName: 'same' });
    new lib.Day1KernelModule(chart, 'b', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'b', machineConfigName: 'same' });
    return synthesisError(app);
  };
  const later = build(false);
  expect(later).toContain('[c/a] MachineConfig "same" is defined twice, by c/a and c/b');
  expect(build(true)).toBe(later);
});

test('an object the app changed between two syntheses is read again: each synthesis is a new pass', () => {
  const chart = Testing.chart();
  const pool = new lib.KmmMachineConfigPool(chart, 'pool', { name: 'sfc' });
  new lib.Day1KernelModule(chart, 'a', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'a' });
  const app = chart.node.root as App;
  expect(synthesisError(app)).toBe('');
  new lib.Day1KernelModule(chart, 'b', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'a', machineConfigName: 'other' });
  expect(synthesisError(app)).toContain('kernel module "a" is loaded twice');
});

test('a construct of that id that is not a registry of this release stops the app with a clear error', () => {
  const chart = Testing.chart();
  new Construct(chart.node.root, REGISTRY_ID);
  expect(() => new lib.KmmMachineConfigPool(chart, 'pool', { name: 'sfc' })).toThrow(
    'test/pool: the app already has a construct "cdk8s-kmm-day1" that is not the registry of this release of cdk8s-kmm-day1 (shape unknown, this release needs 2)');
});
