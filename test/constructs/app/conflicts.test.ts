import { App, Chart, Testing } from 'cdk8s';
import { BootModuleConfig, Day1KernelModule, KmmMachineConfigPool, KmmModule } from '../../../src';
import { errorOf, occurrences, synthYaml, clusterPool } from '../helpers';
import { IMAGE } from '../scenarios';

function twoCharts(): { app: App; a: Chart; b: Chart } {
  const app = Testing.app();
  return { app, a: new Chart(app, 'a'), b: new Chart(app, 'b') };
}

function synthError(app: App): string {
  return errorOf(() => synthYaml(app)).message;
}

describe('conflicts detected at synthesis', () => {
  test('two Day1KernelModules with one MachineConfig name, in two charts of one app', () => {
    const { app, a, b } = twoCharts();
    new Day1KernelModule(a, 'ice', { pool: clusterPool(a), machineConfigName: '99-nic', kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    new Day1KernelModule(b, 'mlx', { pool: clusterPool(b), machineConfigName: '99-nic', kernelModuleImage: IMAGE, kernelModuleName: 'mlx5_core' });
    // Construction succeeds: the conflict is a property of the whole app.
    const message = synthError(app);
    expect(message).toContain('[a/ice] MachineConfig "99-nic" is defined twice, by a/ice and b/mlx');
    expect(message).toContain('Set machineConfigName');
    expect(occurrences(message, 'MachineConfig "99-nic"')).toBe(1);
    expect(message).not.toContain('[b/mlx]');
  });

  test('the same kernel module twice in one pool ("-" and "_" alike), under different MachineConfig names', () => {
    const app = Testing.app();
    const c = new Chart(app, 'c');
    const pool = new KmmMachineConfigPool(c, 'sfc', { name: 'sfc' });
    new Day1KernelModule(c, 'one', { pool, machineConfigName: '99-sfc-one', kernelModuleImage: IMAGE, kernelModuleName: 'mlx5_core' });
    new Day1KernelModule(c, 'two', { pool, machineConfigName: '99-sfc-two', kernelModuleImage: IMAGE, kernelModuleName: 'mlx5-core' });
    const message = synthError(app);
    expect(message).toContain('[c/one] kernel module "mlx5_core" (also written "mlx5-core") is loaded twice in MachineConfigPool "sfc"');
    expect(message).toContain('c/one (role "sfc"), c/two (role "sfc")');
    expect(message).not.toContain('[c/two]');
    expect(message).not.toContain('MachineConfig "');
  });

  test('the same kernel module in a custom pool and in its base role reaches the same nodes', () => {
    const app = Testing.app();
    const c = new Chart(app, 'c');
    const pool = new KmmMachineConfigPool(c, 'sfc', { name: 'sfc' });
    new Day1KernelModule(c, 'everywhere', { pool: clusterPool(c), kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    new Day1KernelModule(c, 'sfc-only', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    const message = synthError(app);
    expect(message).toContain('[c/everywhere] kernel module "ice" is loaded twice on the nodes of MachineConfigPool "sfc", '
      + 'which applies the MachineConfigs of roles "worker" and "sfc", by c/everywhere (role "worker"), c/sfc-only (role "sfc")');
    expect(occurrences(message, 'kernel module "ice"')).toBe(1);
  });

  test('three modules with one MachineConfig name: one error naming all three', () => {
    const app = Testing.app();
    const c = new Chart(app, 'c');
    for (const id of ['x', 'y', 'z']) {
      new Day1KernelModule(c, id, { pool: clusterPool(c), machineConfigName: '99-same', kernelModuleImage: IMAGE, kernelModuleName: `m${id}` });
    }
    const message = synthError(app);
    expect(message).toContain('MachineConfig "99-same" is defined 3 times, by c/x and c/y and c/z');
    expect(occurrences(message, '99-same')).toBe(1);
  });

  test('two pools with one name', () => {
    const { app, a, b } = twoCharts();
    new KmmMachineConfigPool(a, 'p', { name: 'sfc' });
    new KmmMachineConfigPool(b, 'p', { name: 'sfc' });
    expect(synthError(app)).toContain('[a/p] MachineConfigPool "sfc" is defined twice, by a/p and b/p');
  });

  test('one kernel module handed over from two pools: the two Modules would share a name', () => {
    const app = Testing.app();
    const c = new Chart(app, 'c');
    for (const name of ['sfc', 'rt']) {
      const pool = new KmmMachineConfigPool(c, `${name}-pool`, { name });
      new Day1KernelModule(c, `${name}-ice`, { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice' }).handOverToKmm();
    }
    const message = synthError(app);
    expect(message).toContain('[c/sfc-ice/Module] Module "ice" in namespace "openshift-kmm" is defined twice, by c/sfc-ice/Module and c/rt-ice/Module');
    expect(message).toContain('the name option of handOverToKmm');
  });

  test('two BootModuleConfigs for one MachineConfig', () => {
    const app = Testing.app();
    const c = new Chart(app, 'c');
    const day1 = new Day1KernelModule(c, 'ice', { pool: clusterPool(c), kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    day1.handOverToKmm();
    new BootModuleConfig(c, 'manual', {
      machineConfigName: day1.machineConfigName,
      machineConfigPoolName: 'worker',
      kernelModuleImage: IMAGE,
      kernelModuleName: 'ice',
      metadata: { name: 'manual' },
    });
    expect(synthError(app)).toContain(
      '[c/ice/BootModuleConfig] MachineConfig "99-worker-kmm-day1-ice" is the target of 2 BootModuleConfigs, by c/ice/BootModuleConfig and c/manual');
  });

  test('no false positives: one module in two sibling pools, distinct names everywhere, and separate apps', () => {
    const app = Testing.app();
    const c = new Chart(app, 'c');
    for (const name of ['sfc', 'rt']) {
      const pool = new KmmMachineConfigPool(c, `${name}-pool`, { name });
      new Day1KernelModule(c, `${name}-ice`, { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice' }).handOverToKmm({ name: `ice-${name}` });
    }
    new KmmModule(c, 'other', { kernelModuleName: 'ice', kernelModuleImage: IMAGE, selector: { a: 'b' }, metadata: { namespace: 'elsewhere' } });
    expect(() => synthYaml(app)).not.toThrow();
    // The same definitions in another app do not conflict with these.
    const other = Testing.app();
    const otherChart = new Chart(other, 'c');
    new Day1KernelModule(otherChart, 'sfc-ice', { pool: clusterPool(otherChart, 'sfc'), kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    expect(() => synthYaml(other)).not.toThrow();
  });

  test('a conflict added after a first synthesis is still found', () => {
    const app = Testing.app();
    const c = new Chart(app, 'c');
    new Day1KernelModule(c, 'one', { pool: clusterPool(c), kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    expect(() => synthYaml(app)).not.toThrow();
    new Day1KernelModule(c, 'two', { pool: clusterPool(c), kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    const message = synthError(app);
    expect(message).toContain('MachineConfig "99-worker-kmm-day1-ice" is defined twice, by c/one and c/two');
    expect(message).toContain('kernel module "ice" is loaded twice in MachineConfigPool "worker"');
  });
});
