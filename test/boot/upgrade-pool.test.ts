import { readFileSync } from 'fs';
import { join } from 'path';
import { load } from 'js-yaml';
import { FakeNode, KERNEL, NEXT_KERNEL, PoolBootResult, UnitRun, WORKER_IMAGE } from './harness';
import { mergeMachineConfigs, MergedMachineConfigs, produceMachineConfig } from '../../src/machine-config';
import { kernelReleaseTag } from '../../src/validation';
import { kmmOperatorMachineConfig } from '../util/kmm-operator';

/*
 * Cluster upgrades of whole pools: the pool boots on KERNEL until it settles, the MCD stages a
 * deployment with NEXT_KERNEL and reboots; at that shutdown the ExecStop of our pull units
 * pre-pulls every module's image for NEXT_KERNEL, also those of the units of earlier releases
 * (frozen fixtures) and of the KMM operator, which have no ExecStop; the first boot of
 * NEXT_KERNEL then loads every module and nothing reboots.
 */

afterEach(() => FakeNode.cleanupAll());

const POOL = 'oot-nic';
const FIXTURES = join(__dirname, '..', 'fixtures');

interface Member {
  readonly name: string;
  /** `ours`, `kmm` or a frozen fixture folder. */
  readonly writer: string;
  readonly kernelModuleName: string;
  readonly kernelModuleImage: string;
  readonly inTreeModulesToRemove: string[];
  readonly firmwareFilesPath?: string;
  readonly moduleParameters?: string[];
}

/** The frozen fixtures' modules (their names are fixed), an operator-rewritten one and ours. */
const ICE_V2: Member = {
  name: '99-oot-nic-kmm-day1-ice',
  writer: 'interface-v2',
  kernelModuleName: 'ice',
  kernelModuleImage: 'quay.io/example/ice-driver',
  inTreeModulesToRemove: ['ice'],
  firmwareFilesPath: '/opt/lib/firmware/intel/ice',
};
const SFC_V1: Member = {
  name: '99-oot-nic-kmm-day1-sfc',
  writer: 'interface-v1',
  kernelModuleName: 'sfc',
  kernelModuleImage: 'quay.io/example/sfc-driver',
  inTreeModulesToRemove: ['sfc'],
  moduleParameters: ['rss_cpus=4'],
};
const MLX_KMM: Member = {
  name: '98-oot-nic-kmm-day1-mlx', writer: 'kmm', kernelModuleName: 'mlx5_core', kernelModuleImage: 'quay.io/example/mlx5-driver', inTreeModulesToRemove: ['mlx5_core'],
};
const BNXT_OURS: Member = {
  name: '99-oot-nic-kmm-day1-zz-bnxt', writer: 'ours', kernelModuleName: 'bnxt_en', kernelModuleImage: 'quay.io/example/bnxt-driver', inTreeModulesToRemove: ['bnxt_en'],
};

function machineConfig(member: Member, pool: readonly Member[]): any {
  const { name, writer, ...module } = member;
  if (writer === 'ours') {
    return load(produceMachineConfig({
      machineConfigName: name, machineConfigPoolRef: POOL, ...module, peerMachineConfigNames: pool.filter((m) => m !== member).map((m) => m.name),
    }));
  }
  if (writer === 'kmm') {
    return kmmOperatorMachineConfig({
      machineConfigName: name,
      machineConfigPoolName: POOL,
      kernelModuleImage: module.kernelModuleImage,
      kernelModuleName: module.kernelModuleName,
      inTreeModulesToRemove: module.inTreeModulesToRemove,
      firmwareFilesPath: module.firmwareFilesPath,
      workerImage: WORKER_IMAGE,
    });
  }
  return load(readFileSync(join(FIXTURES, writer, `${name}.yaml`), 'utf8'));
}

const imageOf = (member: Member, kernel: string) => `${member.kernelModuleImage}:${kernelReleaseTag(kernel)}`;

/** Boots until a boot needs no reboot. */
async function settle(node: FakeNode, merged: MergedMachineConfigs): Promise<PoolBootResult> {
  for (let n = 0; n < 4; n++) {
    const boot = await node.bootPool(merged);
    if (!boot.rebooted) {
      return boot;
    }
  }
  throw new Error('the node still rebooted after 4 boots');
}

interface Upgrade {
  readonly merged: MergedMachineConfigs;
  readonly stops: UnitRun[];
  readonly first: PoolBootResult;
  /** The containerImage of each load of the first boot of NEXT_KERNEL, by replace unit. */
  readonly loads: Record<string, string>;
}

/** Settles the pool on KERNEL, stages NEXT_KERNEL, shuts down, boots NEXT_KERNEL once. */
async function upgrade(node: FakeNode, pool: readonly Member[]): Promise<Upgrade> {
  const merged = mergeMachineConfigs(pool.map((member) => machineConfig(member, pool)));
  const settled = await settle(node, merged);
  node.stage(NEXT_KERNEL);
  const stops = await node.shutdownPool(merged, settled);
  node.kernel = NEXT_KERNEL;
  node.deployments([{ kernel: NEXT_KERNEL, booted: true }, { kernel: KERNEL, flag: 'rollback' }]);
  const runsBefore = node.workerRunCount();
  const first = await node.bootPool(merged);
  const loads: Record<string, string> = {};
  for (const run of node.workerRuns().slice(runsBefore)) {
    loads[run.process!.replace(/ ExecStart$/, '')] = (load(run.config) as { containerImage: string }).containerImage;
  }
  return { merged, stops, first, loads };
}

function poolNode(pool: readonly Member[]): FakeNode {
  const node = new FakeNode().writePullSecret();
  for (const member of pool) {
    node.publishModule({ ...member, workerImage: WORKER_IMAGE }, [KERNEL, NEXT_KERNEL]);
  }
  return node;
}

function expectFirstBootLoadsEverything(result: Upgrade, pool: readonly Member[]): void {
  expect(result.first.rebooted).toBe(false);
  expect(result.first.calls.filter((call) => call.tool === 'podman' && call.argv[0] === 'pull')).toEqual([]);
  expect(result.loads).toEqual(Object.fromEntries(pool.map((m) => [`${m.name}-replace-kernel-module.service`, imageOf(m, NEXT_KERNEL)])));
  expect(result.first.pull.map((run) => run.result)).toEqual(pool.map(() => 'success'));
}

test('two modules of ours in one pool: both images pre-pulled at shutdown, both loaded on the first boot of the new kernel, no reboot', async () => {
  const pool: Member[] = [
    { ...ICE_V2, writer: 'ours', name: '99-oot-nic-kmm-day1-ice' },
    { ...SFC_V1, writer: 'ours', name: '99-oot-nic-kmm-day1-sfc' },
  ];
  const node = poolNode(pool);

  const result = await upgrade(node, pool);

  // Each pull unit's stop ran, side by side, and pre-pulled its own module (one line each).
  expect(result.stops.map((stop) => [stop.unit, stop.result])).toEqual(pool.map((m) => [`${m.name}-pull-kernel-module-image.service`, 'success']));
  const lines = result.stops.flatMap((stop) => stop.commands.flatMap((run) => run.lines)).filter((line) => line.startsWith('pre-pull '));
  expect(lines.sort()).toEqual(pool.map((m) => `pre-pull ${m.name}: pulled ${imageOf(m, NEXT_KERNEL)}; the first boot of ${NEXT_KERNEL} loads the module from ${imageOf(m, NEXT_KERNEL)} before the network, without a reboot`).sort());
  expectFirstBootLoadsEverything(result, pool);
});

test('a pool with units of interface 1 and 2 and of the KMM operator, our scripts winning: one unit of ours pre-pulls for all of them', async () => {
  const pool = [MLX_KMM, ICE_V2, SFC_V1, BNXT_OURS];
  const node = poolNode(pool);

  const result = await upgrade(node, pool);

  expect(result.merged.files.find((file) => file.path === '/usr/local/bin/pull-kernel-module-image.sh')!.machineConfigName).toBe(BNXT_OURS.name);
  // Only our unit has an ExecStop; it handled every module of the node, each once.
  expect(result.stops.map((stop) => stop.unit)).toEqual([`${BNXT_OURS.name}-pull-kernel-module-image.service`]);
  const lines = result.stops[0].main!.lines.filter((line) => line.startsWith('pre-pull '));
  expect(lines).toHaveLength(pool.length);
  for (const member of pool) {
    expect(lines.filter((line) => line.includes(`pulled ${imageOf(member, NEXT_KERNEL)};`))).toHaveLength(1);
  }
  expectFirstBootLoadsEverything(result, pool);
});

test('a pool whose scripts are interface 2\'s (it sorts last): our unit\'s stop runs those scripts, nothing is pre-pulled, and the new kernel boots as before (one reboot)', async () => {
  const ours: Member = { ...BNXT_OURS, name: '98-oot-nic-kmm-day1-bnxt' };
  const pool = [ours, ICE_V2];
  const node = poolNode(pool);

  const result = await upgrade(node, pool);

  expect(result.stops.map((stop) => [stop.unit, stop.result])).toEqual([[`${ours.name}-pull-kernel-module-image.service`, 'success']]);
  expect(result.stops[0].main!.calls.filter((call) => call.tool === 'podman' && call.argv[0] === 'pull')).toEqual([]);
  expect(result.first.rebooted).toBe(true);
});
