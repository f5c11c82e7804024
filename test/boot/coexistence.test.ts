import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { load } from 'js-yaml';
import {
  Call, FakeNode, KERNEL, PoolBootOptions, PoolBootResult, UnitRun, WORKER_IMAGE,
} from './harness';
import { REPLACE_SCRIPT_PATH } from '../../src/boot';
import { MachineConfigConflictKind, mergeMachineConfigs, MergedMachineConfigs, produceMachineConfig } from '../../src/machine-config';
import { kernelReleaseTag } from '../../src/validation';
import { KMM_OPERATOR_IMAGE_FILE, KMM_OPERATOR_WORKER_CONFIG, kmmOperatorMachineConfig } from '../util/kmm-operator';

/*
 * Whole pools on one node, each merged with mergeMachineConfigs as the Machine Config
 * Operator merges it, booted until a boot needs no reboot. A node runs one copy of each script
 * (that of the MachineConfig that sorts last) for the units of every MachineConfig, so each
 * pool is booted in both merge orders: once with our scripts last, once with the other side's.
 *
 *   (a) one of ours (v2) + one the KMM operator rewrote (stand-in, test/util/kmm-operator.ts)
 *   (b) one of ours (v2) + one of each earlier release frozen in test/fixtures/interface-v*,
 *       whose scripts win in one order
 *   (c) one of ours (v2) + two the KMM operator rewrote: their shared worker config path and
 *       `kmm-pod` name are theirs; our scripts, when they win, keep the two apart
 */

afterEach(() => FakeNode.cleanupAll());

const POOL = 'oot-nic';
const FIXTURES = join(__dirname, '..', 'fixtures');
const AARCH64_64K = '5.14.0-427.13.1.el9_4.aarch64+64k';

interface Module {
  readonly kernelModuleName: string;
  readonly kernelModuleImage: string;
  readonly inTreeModulesToRemove: string[];
  readonly firmwareFilesPath?: string;
  readonly moduleParameters?: string[];
}

/** The modules of the frozen version-1 fixtures, with the same values. */
const ICE: Module = {
  kernelModuleName: 'ice', kernelModuleImage: 'quay.io/example/ice-driver', inTreeModulesToRemove: ['ice'], firmwareFilesPath: '/opt/lib/firmware/intel/ice',
};
const SFC: Module = {
  kernelModuleName: 'sfc', kernelModuleImage: 'quay.io/example/sfc-driver', inTreeModulesToRemove: ['sfc'], moduleParameters: ['rss_cpus=4'],
};
const MLX: Module = {
  kernelModuleName: 'mlx5_core', kernelModuleImage: 'quay.io/example/mlx5-driver', inTreeModulesToRemove: ['mlx5_core'],
};

/** `ours` (this release), `kmm` (the KMM operator), or the folder of a frozen earlier release (`interface-v1`, ...). */
type Writer = string;

/** One MachineConfig of a pool: its name, who wrote it, its module. */
interface Member {
  readonly name: string;
  readonly writer: Writer;
  readonly module: Module;
}

/** A MachineConfig of this release; its peers are the pool's other MachineConfigs, as the constructs fill them. */
function ourMachineConfig(member: Member, pool: readonly Member[]): any {
  return load(produceMachineConfig({
    machineConfigName: member.name,
    machineConfigPoolRef: POOL,
    ...member.module,
    peerMachineConfigNames: pool.filter((other) => other !== member).map((other) => other.name),
  }));
}

/** What the KMM operator writes after a hand-over of this module (the BootModuleConfig carries the Day 1 worker image). */
function operatorMachineConfig(member: Member): any {
  return kmmOperatorMachineConfig({
    machineConfigName: member.name,
    machineConfigPoolName: POOL,
    kernelModuleImage: member.module.kernelModuleImage,
    kernelModuleName: member.module.kernelModuleName,
    inTreeModulesToRemove: member.module.inTreeModulesToRemove,
    firmwareFilesPath: member.module.firmwareFilesPath,
    workerImage: WORKER_IMAGE,
  });
}

/** A whole MachineConfig of an earlier release, as frozen (its name is fixed). */
function frozenMachineConfig(member: Member): any {
  return load(readFileSync(join(FIXTURES, member.writer, `${member.name}.yaml`), 'utf8'));
}

function machineConfig(member: Member, pool: readonly Member[]): any {
  switch (member.writer) {
    case 'ours': return ourMachineConfig(member, pool);
    case 'kmm': return operatorMachineConfig(member);
    default: return frozenMachineConfig(member);
  }
}

function merge(pool: readonly Member[]): MergedMachineConfigs {
  return mergeMachineConfigs(pool.map((member) => machineConfig(member, pool)));
}

const replaceUnitOf = (member: Member) => `${member.name}-replace-kernel-module.service`;
const pullUnitOf = (member: Member) => `${member.name}-pull-kernel-module-image.service`;
const moduleImageOf = (module: Module, kernel = KERNEL) => `${module.kernelModuleImage}:${kernelReleaseTag(kernel)}`;

/**
 * A node of the pool with every image published and the pull secret in place. With a
 * MachineConfig of the KMM operator in the pool, its scripts may load any module, and their
 * copy step runs /bin/sh in the module image: every module image has one then.
 */
function poolNode(pool: readonly Member[], kernel = KERNEL): FakeNode {
  const node = new FakeNode(kernel).writePullSecret();
  const shell = pool.some((member) => member.writer === 'kmm');
  for (const member of pool) {
    node.publishModule({ ...member.module, workerImage: WORKER_IMAGE }, [kernel], shell);
  }
  return node;
}

interface Settled {
  readonly merged: MergedMachineConfigs;
  readonly boots: PoolBootResult[];
  /** The boot that needed no reboot. */
  readonly last: PoolBootResult;
  /** Worker configs of the podman runs of the last boot, by the replace unit that made them. */
  readonly configs: Map<string, unknown>;
}

/** Boots the node until a boot needs no reboot (at most `limit` boots). */
async function bootUntilSettled(node: FakeNode, merged: MergedMachineConfigs, options: PoolBootOptions = {}, limit = 4): Promise<Settled> {
  const boots: PoolBootResult[] = [];
  for (let n = 0; n < limit; n++) {
    const runsBefore = node.workerRunCount();
    const boot = await node.bootPool(merged, options);
    boots.push(boot);
    if (!boot.rebooted) {
      const configs = new Map<string, unknown>();
      for (const run of node.workerRuns().slice(runsBefore)) {
        const unit = run.process!.replace(/ ExecStart$/, '');
        expect(configs.has(unit)).toBe(false);
        configs.set(unit, load(run.config));
      }
      return { merged, boots, last: boot, configs };
    }
  }
  throw new Error(`the node still rebooted after ${limit} boots`);
}

/** The worker config a module's load must use; parameters only where the scripts that run can pass them. */
function expectedConfig(module: Module, withParameters: boolean, kernel = KERNEL): unknown {
  const parameters = withParameters ? module.moduleParameters ?? [] : [];
  return {
    containerImage: moduleImageOf(module, kernel),
    modprobe: {
      dirName: '/opt',
      moduleName: module.kernelModuleName,
      ...(module.firmwareFilesPath === undefined ? {} : { firmwarePath: module.firmwareFilesPath }),
      ...(parameters.length > 0 ? { parameters } : {}),
    },
    ...(module.inTreeModulesToRemove.length > 0 ? { inTreeModulesToRemove: module.inTreeModulesToRemove } : {}),
  };
}

function unitRun(runs: readonly UnitRun[], unit: string): UnitRun {
  const run = runs.find((r) => r.unit === unit);
  if (run === undefined) throw new Error(`${unit} did not run; ran: ${runs.map((r) => r.unit).join(', ')}`);
  return run;
}

/** The host path a podman run mounted at `containerPath`. */
function mountOf(call: Call, containerPath: string): string | undefined {
  const volumes = call.argv.filter((_, i) => call.argv[i - 1] === '--volume');
  const volume = volumes.find((v) => v.split(':')[1] === containerPath);
  return volume?.split(':')[0];
}

/** The worker runs among `calls` (not the KMM operator's copy runs, `... /bin/sh -c ...` in a module image). */
function podmanRuns(calls: readonly Call[]): Call[] {
  return calls.filter((call) => call.tool === 'podman' && call.argv[0] === 'run' && !call.argv.includes('/bin/sh'));
}

function pulledImages(calls: readonly Call[]): string[] {
  return calls.filter((call) => call.tool === 'podman' && call.argv[0] === 'pull').map((call) => call.argv[call.argv.length - 1]);
}

/** Which MachineConfig's scripts a node of the pool runs. */
function scriptsWinner(merged: MergedMachineConfigs): string {
  return merged.files.find((file) => file.path === REPLACE_SCRIPT_PATH)!.machineConfigName;
}

/**
 * What holds in every pool, in every merge order: every replace unit loads its own module with
 * its own worker config; every pull unit pulls its own module image; our scripts never write
 * the operator's shared files.
 */
function expectEveryModuleLoaded(
  node: FakeNode, pool: readonly Member[], settled: Settled, parametersFor: (member: Member) => boolean, kernel = KERNEL,
): void {
  const { last, boots, configs } = settled;
  // The replace units ran one after another in name order (our units order themselves against every peer).
  expect(last.replace.map((run) => run.unit)).toEqual(pool.map(replaceUnitOf).sort());
  for (const member of pool) {
    const replace = unitRun(last.replace, replaceUnitOf(member));
    expect({ unit: replace.unit, result: replace.result }).toEqual({ unit: replaceUnitOf(member), result: 'success' });
    expect({ unit: replace.unit, config: configs.get(replace.unit) }).toEqual({
      unit: replace.unit, config: expectedConfig(member.module, parametersFor(member), kernel),
    });
    const pull = unitRun(last.pull, pullUnitOf(member));
    expect({ unit: pull.unit, result: pull.result, pulled: pulledImages(pull.main!.calls) }).toEqual({ unit: pull.unit, result: 'success', pulled: [] });
    // Each pull unit pulled its own module image on some boot.
    const pulledByIt = boots.flatMap((boot) => pulledImages(boot.calls.filter((call) => call.process === `${pullUnitOf(member)} ExecStart`)));
    expect({ unit: pull.unit, pulled: pulledByIt.includes(moduleImageOf(member.module, kernel)) }).toEqual({ unit: pull.unit, pulled: true });
  }
  // One worker config file per load, never shared by two modules in one boot.
  const configFiles = podmanRuns(last.calls).map((call) => mountOf(call, '/etc/kmm-worker/config.yaml'));
  expect(configFiles).toHaveLength(pool.length);
  const winner = pool.find((member) => member.name === scriptsWinner(settled.merged))!;
  if (winner.writer !== 'kmm') {
    expect(new Set(configFiles).size).toBe(pool.length);
    expect(existsSync(join(node.root, KMM_OPERATOR_WORKER_CONFIG))).toBe(false);
    expect(existsSync(join(node.root, KMM_OPERATOR_IMAGE_FILE))).toBe(false);
    for (const member of pool) {
      expect(existsSync(join(node.root, `/var/lib/kmm-day1-${member.name}.worker-config.yaml`))).toBe(false);
    }
  }
  expect(node.containers()).toEqual([]);
}

function conflictsOf(merged: MergedMachineConfigs): string[] {
  return merged.conflicts.map((c) => `${c.kind} ${c.machineConfigName} <- ${c.foreignMachineConfigName}: ${c.subject}`).sort();
}

function scriptConflicts(ours: Member, foreign: Member): string[] {
  return ['/usr/local/bin/pull-kernel-module-image.sh', '/usr/local/bin/replace-kernel-module.sh', '/usr/local/bin/wait-for-dispatcher.sh']
    .map((path) => `${MachineConfigConflictKind.SCRIPT_CONTENTS} ${ours.name} <- ${foreign.name}: ${path}`);
}

function rebootCount(settled: Settled): number {
  return settled.boots.filter((boot) => boot.rebooted).length;
}

describe.each([
  ['our scripts win (ours sorts last)', '98-oot-nic-kmm-day1-ice', '99-oot-nic-kmm-day1-sfc'],
  ['the operator\'s scripts win (the operator\'s sorts last)', '99-oot-nic-kmm-day1-ice', '98-oot-nic-kmm-day1-sfc'],
])('(a) ours (sfc) + one the KMM operator rewrote (ice): %s', (_, operatorName, ourName) => {
  const operator: Member = { name: operatorName, writer: 'kmm', module: ICE };
  const ours: Member = { name: ourName, writer: 'ours', module: SFC };
  const pool = [operator, ours];
  const oursWins = ourName > operatorName;
  // The tests of this pool only read what booting it left, so the pool boots once for them all
  // (each boot is a few dozen processes). The node's files are gone after the first test.
  let merged: MergedMachineConfigs;
  let node: FakeNode;
  let settled: Settled;
  beforeAll(async () => {
    merged = merge(pool);
    node = poolNode(pool);
    settled = await bootUntilSettled(node, merged);
  });

  test('every module loads with its own config, every pull unit pulls its own images', () => {
    expect(merged.order).toEqual(pool.map((m) => m.name).sort());
    expect(scriptsWinner(merged)).toBe(oursWins ? ours.name : operator.name);
    // The rewritten MachineConfig is foreign to the merge check: exactly that conflict, booted anyway.
    expect(conflictsOf(merged)).toEqual(scriptConflicts(ours, operator).sort());

    // Our scripts pass module parameters from our units; the operator's cannot.
    expectEveryModuleLoaded(node, pool, settled, (member) => member.writer === 'ours' && oursWins);
    if (oursWins) {
      // One reboot: the pull units, ours and the operator's, waited for each other.
      expect(rebootCount(settled)).toBe(1);
      // The operator's replace unit ran our script under its own identity.
      const iceRun = podmanRuns(settled.last.calls).find((call) => call.process === `${replaceUnitOf(operator)} ExecStart`)!;
      expect(iceRun.argv[iceRun.argv.indexOf('--name') + 1]).toBe('kmm-day1-kmm-module-ice-worker');
      expect(mountOf(iceRun, '/etc/kmm-worker/config.yaml')).toBe(join(node.root, 'var/lib/kmm-day1/kmm-module-ice/worker-config.yaml'));
    } else {
      expect(rebootCount(settled)).toBeLessThanOrEqual(2);
      // The operator's script wrote our module's config where our unit told it to: a file of its own.
      expect(load(readFileSync(join(node.root, `var/lib/kmm-day1-${ours.name}.worker-config.yaml`), 'utf8')))
        .toEqual(expectedConfig(SFC, false));
      expect(readFileSync(join(node.root, `var/lib/kmm-day1-${ours.name}.image.tar`), 'utf8')).toBe(`${moduleImageOf(SFC)}\n`);
    }
  });

  if (!oursWins) {
    test('the operator\'s scripts load OUR module WITHOUT its module parameters (rss_cpus=4 is lost: they cannot pass parameters)', () => {
      const config = settled.configs.get(replaceUnitOf(ours)) as { modprobe: Record<string, unknown> };
      expect(config.modprobe.moduleName).toBe('sfc');
      expect(config.modprobe).not.toHaveProperty('parameters');
    });
  }
});

/** Every frozen interface version: a pool may still hold a MachineConfig of any earlier release. */
const FROZEN_VERSIONS = readdirSync(FIXTURES).filter((dir) => /^interface-v[0-9]+$/.test(dir)).sort();

test('the frozen interface fixtures include version 1', () => {
  expect(FROZEN_VERSIONS).toContain('interface-v1');
});

describe.each(FROZEN_VERSIONS.flatMap((version) => ([
  [`${version} (sfc) sorts first: our scripts run its units`, { name: '99-oot-nic-kmm-day1-sfc', writer: version, module: SFC }, { name: '99-oot-nic-kmm-day1-zz-ice', writer: 'ours', module: ICE }],
  [`${version} (sfc) sorts last: its scripts run our units`, { name: '99-oot-nic-kmm-day1-sfc', writer: version, module: SFC }, { name: '99-oot-nic-kmm-day1-ice', writer: 'ours', module: ICE }],
  [`${version} (ice) sorts first: our scripts run its units`, { name: '99-oot-nic-kmm-day1-ice', writer: version, module: ICE }, { name: '99-oot-nic-kmm-day1-sfc', writer: 'ours', module: SFC }],
] as Array<[string, Member, Member]>)))('(b) ours + one of an earlier release: %s', (_, old, ours) => {
  const pool = [old, ours];

  test('every module loads with its own config and parameters, every pull unit pulls its own images', async () => {
    const merged = merge(pool);
    const oldWins = old.name > ours.name;
    expect(scriptsWinner(merged)).toBe(oldWins ? old.name : ours.name);
    // Both are Day 1 MachineConfigs of this library: no conflict.
    expect(merged.conflicts).toEqual([]);
    if (oldWins) {
      expect(merged.files.find((f) => f.path === REPLACE_SCRIPT_PATH)!.contents)
        .toBe(readFileSync(join(FIXTURES, old.writer, 'scripts', 'replace-kernel-module.sh'), 'utf8'));
    }
    const node = poolNode(pool);

    const settled = await bootUntilSettled(node, merged);

    expectEveryModuleLoaded(node, pool, settled, () => true);
    // The first release's pull script reboots at once; from version 2 on, pull units wait for each other.
    expect(rebootCount(settled)).toBeLessThanOrEqual(oldWins && old.writer === 'interface-v1' ? 2 : 1);
    for (const member of pool) {
      expect(existsSync(join(node.root, 'var/lib/kmm-day1', member.name, 'worker-config.yaml'))).toBe(true);
    }
  });
});

describe.each([
  ['our scripts win and keep the two operator modules apart', '98-oot-nic-kmm-day1-ice', '98-oot-nic-kmm-day1-mlx5', '99-oot-nic-kmm-day1-sfc'],
  ['the operator\'s scripts win (their shared config file and kmm-pod are theirs)', '98-oot-nic-kmm-day1-ice', '98-oot-nic-kmm-day1-mlx5', '97-oot-nic-kmm-day1-sfc'],
])('(c) ours (sfc) + two the KMM operator rewrote (ice, mlx5): %s', (_, iceName, mlxName, ourName) => {
  const ice: Member = { name: iceName, writer: 'kmm', module: ICE };
  const mlx: Member = { name: mlxName, writer: 'kmm', module: MLX };
  const ours: Member = { name: ourName, writer: 'ours', module: SFC };
  const pool = [ice, mlx, ours];
  const oursWins = ourName > mlxName;

  test('every module loads with its own config, every pull unit pulls its own images', async () => {
    const merged = merge(pool);
    expect(scriptsWinner(merged)).toBe(oursWins ? ours.name : mlx.name);
    expect(conflictsOf(merged)).toEqual([...scriptConflicts(ours, ice), ...scriptConflicts(ours, mlx)].sort());
    const node = poolNode(pool);

    const settled = await bootUntilSettled(node, merged);

    expectEveryModuleLoaded(node, pool, settled, (member) => member.writer === 'ours' && oursWins);
    const runs = podmanRuns(settled.last.calls);
    const names = runs.map((call) => call.argv[call.argv.indexOf('--name') + 1]);
    if (oursWins) {
      expect(rebootCount(settled)).toBe(1);
      // Both operator units ask for /var/lib/kmm_day1_config.yaml; our scripts use neither it nor one pod name.
      expect(names).toEqual(['kmm-day1-kmm-module-ice-worker', 'kmm-day1-kmm-module-mlx5_core-worker', `kmm-day1-${ours.name}-worker`]);
    } else {
      // The operator's script names every worker kmm-pod and shares one config file between its
      // modules: only the harness running the loads one after another keeps them from colliding.
      expect(names).toEqual(['kmm-pod', 'kmm-pod', 'kmm-pod']);
      expect(runs.map((call) => mountOf(call, '/etc/kmm-worker/config.yaml'))).toEqual([
        join(node.root, `var/lib/kmm-day1-${ours.name}.worker-config.yaml`),
        join(node.root, KMM_OPERATOR_WORKER_CONFIG),
        join(node.root, KMM_OPERATOR_WORKER_CONFIG),
      ]);
    }
  });
});

test('a 64k-page arm64 kernel (uname -r ...aarch64+64k): every unit pulls and loads the ...aarch64_64k image, as KMM tags it', async () => {
  const operator: Member = { name: '98-oot-nic-kmm-day1-ice', writer: 'kmm', module: ICE };
  const ours: Member = { name: '99-oot-nic-kmm-day1-sfc', writer: 'ours', module: SFC };
  const pool = [operator, ours];
  const node = poolNode(pool, AARCH64_64K);
  expect(kernelReleaseTag(AARCH64_64K)).toBe('5.14.0-427.13.1.el9_4.aarch64_64k');

  const settled = await bootUntilSettled(node, merge(pool));

  expectEveryModuleLoaded(node, pool, settled, (member) => member.writer === 'ours', AARCH64_64K);
  // Both pull units may pull the shared worker image at the same time.
  const pulled = new Set(settled.boots.flatMap((boot) => pulledImages(boot.calls)));
  expect([...pulled].sort()).toEqual([WORKER_IMAGE, 'quay.io/example/ice-driver:5.14.0-427.13.1.el9_4.aarch64_64k', 'quay.io/example/sfc-driver:5.14.0-427.13.1.el9_4.aarch64_64k'].sort());
  expect(settled.boots.flatMap((boot) => boot.calls).filter((call) => call.argv.some((arg) => arg.includes('+64k')))).toEqual([]);
});

describe('one reboot per node and boot', () => {
  const ice: Member = { name: '99-oot-nic-kmm-day1-ice', writer: 'ours', module: ICE };
  const sfc: Member = { name: '99-oot-nic-kmm-day1-sfc', writer: 'ours', module: SFC };
  const pool = [ice, sfc];

  function pullCallsBeforeFirstReboot(boot: PoolBootResult): string[] {
    const firstReboot = boot.calls.findIndex((call) => call.tool === 'reboot');
    return pulledImages(boot.calls.slice(0, firstReboot));
  }

  test('two of our modules without images: both pull, then the node reboots ONCE; the next boot loads both', async () => {
    // ice's module image takes up to 200 s (2 s here) to pull, and is still pulling when sfc,
    // which has its images long before, starts waiting: the pull ends once sfc sleeps between
    // two looks at the other pull units, however fast or busy this machine is.
    const node = poolNode(pool).slowPull(moduleImageOf(ICE), 200, `${pullUnitOf(sfc)} ExecStart`);

    const settled = await bootUntilSettled(node, merge(pool));

    expect(settled.boots.map((boot) => boot.rebooted)).toEqual([true, false]);
    const first = settled.boots[0];
    expect(pullCallsBeforeFirstReboot(first).filter((image) => image !== WORKER_IMAGE).sort()).toEqual([moduleImageOf(ICE), moduleImageOf(SFC)]);
    expect(unitRun(first.pull, pullUnitOf(sfc)).main!.lines)
      .toContain(`waiting up to 600s for the other Day 1 pull units of this node, so that it reboots once: ${pullUnitOf(ice)}`);
    expectEveryModuleLoaded(node, pool, settled, () => true);
  });

  test('the wait is bounded: a pull unit that never finishes delays the reboot by KMM_DAY1_REBOOT_WAIT, no more', async () => {
    const node = poolNode(pool).slowPull(moduleImageOf(ICE), 100_000);

    const boot = await node.bootPool(merge(pool), { extra: { KMM_DAY1_REBOOT_WAIT: '20' } });

    expect(boot.rebooted).toBe(true);
    const sfcPull = unitRun(boot.pull, pullUnitOf(sfc));
    expect(sfcPull.main!.lines.slice(-3)).toEqual([
      `waiting up to 20s for the other Day 1 pull units of this node, so that it reboots once: ${pullUnitOf(ice)}`,
      `stopped waiting after 20s; still running: ${pullUnitOf(ice)}`,
      `rebooting (1/3) so that the kernel module is loaded from ${moduleImageOf(SFC)} before the network starts`,
    ]);
    expect(sfcPull.main!.calls.filter((call) => call.tool === 'sleep').map((call) => call.argv)).toEqual([['5'], ['5'], ['5'], ['5']]);
    // systemd stops the unit still pulling when the node reboots.
    expect(unitRun(boot.pull, pullUnitOf(ice)).result).toBe('stopped');
  });

  test('a pull unit with nothing to pull neither waits nor reboots', async () => {
    const node = poolNode(pool).slowPull(moduleImageOf(ICE), 60);
    node.store(WORKER_IMAGE).store(moduleImageOf(SFC));

    const boot = await node.bootPool(merge(pool));

    const sfcPull = unitRun(boot.pull, pullUnitOf(sfc));
    expect(sfcPull.main!.lines).toEqual([`images ${WORKER_IMAGE} and ${moduleImageOf(SFC)} are present; nothing to pull`]);
    expect(sfcPull.main!.calls.filter((call) => call.tool === 'systemctl' || call.tool === 'reboot')).toEqual([]);
    expect(boot.rebooted).toBe(true);
    expect(unitRun(boot.pull, pullUnitOf(ice)).main!.lines).not.toContainEqual(expect.stringMatching(/^waiting/));
  });
});
