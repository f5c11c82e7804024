import { App, Chart } from 'cdk8s';
import { clusterPool, testApp } from './helpers';
import { BootModuleConfig, Day1KernelModule, KmmMachineConfigPool, KmmModule, MaxUnavailable, TolerationEffect, TolerationOperator } from '../../src';

/*
 * Every kind of object the constructs emit, with defaults and with every option set. The
 * conformance test validates each synthesized object of each scenario against the CRDs, and
 * the determinism test synthesizes each twice.
 */

export const IMAGE = 'quay.io/example/ice-driver';
export const WORKER = 'quay.io/edge-infrastructure/kernel-module-management-worker@sha256:' + 'a'.repeat(64);

export function poolDefaults(chart: Chart): void {
  new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc' });
}

export function poolCustom(chart: Chart): void {
  new KmmMachineConfigPool(chart, 'sfc', {
    name: 'sfc',
    baseRole: 'worker',
    nodeSelector: { 'node-role.kubernetes.io/sfc': '', 'example.com/nic': 'e810' },
    maxUnavailable: MaxUnavailable.fromString('25%'),
    paused: true,
    metadata: { labels: { team: 'net' }, annotations: { 'example.com/owner': 'net-team' } },
  });
}

export function moduleInPool(chart: Chart): void {
  const pool = new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc' });
  new Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
}

export function moduleFull(chart: Chart): void {
  new Day1KernelModule(chart, 'ice', {
    pool: clusterPool(chart),
    machineConfigName: '10-worker-ice',
    kernelModuleImage: IMAGE,
    kernelModuleName: 'ice',
    inTreeModulesToRemove: ['ice', 'irdma'],
    firmwareFilesPath: '/firmware/intel',
    workerImage: WORKER,
    moduleParameters: ['debug=1', 'rss_queues=4,4'],
    metadata: { labels: { team: 'net' }, annotations: { 'example.com/ticket': 'NET-1' } },
  });
}

export function bootModuleConfigMinimal(chart: Chart): void {
  new BootModuleConfig(chart, 'bmc', {
    machineConfigName: 'worker-kmod-config',
    machineConfigPoolName: 'worker',
    kernelModuleImage: 'quay.io/example/kmod',
    kernelModuleName: 'my_module',
  });
}

export function bootModuleConfigFull(chart: Chart): void {
  new BootModuleConfig(chart, 'bmc', {
    machineConfigName: 'worker-kmod-config',
    machineConfigPoolName: 'worker',
    kernelModuleImage: 'quay.io/example/kmod',
    kernelModuleName: 'my_module',
    inTreeModulesToRemove: ['intree_module_1', 'intree_module_2'],
    firmwareFilesPath: '/firmware',
    workerImage: WORKER,
    metadata: { name: 'example-bmc', namespace: 'kmm-boot', labels: { team: 'net' } },
  });
}

export function kmmModule(chart: Chart): void {
  new KmmModule(chart, 'module', {
    kernelModuleName: 'my_module',
    kernelModuleImage: 'quay.io/example/kmod',
    selector: { 'node-role.kubernetes.io/worker': '' },
    inTreeModulesToRemove: ['intree_module_1'],
    firmwareFilesPath: '/firmware',
    moduleParameters: ['debug=1'],
    imageRepoSecret: 'pull-secret',
  });
}

export function handOverFromPool(chart: Chart): void {
  const pool = new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc' });
  new Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice' }).handOverToKmm();
}

export function handOverFull(chart: Chart): void {
  new Day1KernelModule(chart, 'ice', {
    pool: clusterPool(chart),
    kernelModuleImage: IMAGE,
    kernelModuleName: 'ice_oot',
    inTreeModulesToRemove: ['ice'],
    firmwareFilesPath: '/firmware/intel',
    workerImage: WORKER,
    moduleParameters: ['debug=1'],
  }).handOverToKmm({
    namespace: 'kmm',
    name: 'ice',
    imageRepoSecret: 'ice-pull',
    bootModuleConfigName: 'ice-bmc',
  });
}

export function healthCheckHandedOver(chart: Chart): void {
  const pool = new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc' });
  new Day1KernelModule(chart, 'ice', {
    pool,
    kernelModuleImage: IMAGE,
    kernelModuleName: 'ice',
    inTreeModulesToRemove: ['ice'],
    healthCheck: true,
    healthCheckTolerations: [{ key: 'node-role.kubernetes.io/sfc', operator: TolerationOperator.EXISTS, effect: TolerationEffect.NO_SCHEDULE }],
  }).handOverToKmm();
  // On a pool of its own: a worker module next to the handed-over one would load at the same
  // time as the operator's unit once the operator's scripts serve the sfc nodes (refused).
  new Day1KernelModule(chart, 'mlx', {
    pool: clusterPool(chart, 'infra'),
    kernelModuleImage: IMAGE,
    kernelModuleName: 'mlx5-core',
    healthCheck: true,
    healthCheckNamespace: 'openshift-kmm',
  });
}

export function gitOpsOptedOut(chart: Chart): void {
  const switches = { syncWaves: false, pruneProtection: false };
  const pool = new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc', ...switches });
  new Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true, ...switches })
    .handOverToKmm({ fluxApplyIfNotPresent: false });
}

export const SCENARIOS: Record<string, (chart: Chart) => void> = {
  poolDefaults,
  poolCustom,
  moduleInPool,
  moduleFull,
  bootModuleConfigMinimal,
  bootModuleConfigFull,
  kmmModule,
  handOverFromPool,
  handOverFull,
  healthCheckHandedOver,
  gitOpsOptedOut,
};

export function build(scenario: (chart: Chart) => void): App {
  const { app, chart } = testApp();
  scenario(chart);
  return app;
}
