import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';
import {
  expectLoadedBeforeNetwork, expectNoConcurrentLoads, expectNoLeftovers, expectOrder, expectPullAfterNetworkOnlineAndDispatcher,
  expectReplaceBeforeNetworkPre,
} from './assert';
import { EXIT_REBOOT, moduleImage, NODE_KERNEL, scenario, TierNode } from './tier';
import { CRIO_WIPE_UNIT, pullUnitName, replaceUnitName, SCRIPT_MODE, WAIT_SCRIPT_PATH } from '../../src/boot';
import { ignitionConfig, rootOwnedFile } from '../../src/ignition';
import {
  MACHINE_CONFIG_API_VERSION, MACHINE_CONFIG_KIND, machineConfigFromResolved, MachineConfigManifest, MergedMachineConfigs,
  resolveMachineConfigOptions, ResolvedMachineConfigOptions, ROLE_LABEL,
} from '../../src/machine-config';
import { ProduceMachineConfigOptions } from '../../src/validation';
import { kmmOperatorMachineConfig } from '../util/kmm-operator';
import { withShellcheck } from '../util/oracles';

/*
 * The Day 1 units under real systemd. Each scenario is a node: a copy of the cached root, a
 * pool of MachineConfigs applied as the MCO and Ignition would, images in the stand-in
 * registry or already in local storage, then boots until the probe powers it off. Every
 * assertion reads systemd's journal or the probe's `systemctl show` timestamps.
 */

afterEach(() => TierNode.releaseAll());
afterAll(() => {
  if (TierNode.nodeCount() > 0) {
    // eslint-disable-next-line no-console
    console.log(`real-systemd tier, kernel ${NODE_KERNEL}:\n${TierNode.summary()}`);
  }
  TierNode.cleanupAll();
});

function day1(overrides: Partial<ProduceMachineConfigOptions> = {}): ResolvedMachineConfigOptions {
  return resolveMachineConfigOptions({
    machineConfigName: ICE,
    machineConfigPoolRef: 'worker',
    kernelModuleImage: 'quay.io/example/ice-driver',
    kernelModuleName: 'ice',
    inTreeModulesToRemove: ['ice'],
    ...overrides,
  });
}

const ICE = '99-worker-kmm-day1-ice';
const SFC = '99-worker-kmm-day1-sfc';
const ice = day1();
const sfcSettings: Partial<ProduceMachineConfigOptions> = {
  machineConfigName: SFC,
  kernelModuleImage: 'quay.io/example/sfc-driver',
  kernelModuleName: 'sfc',
  inTreeModulesToRemove: ['sfc'],
  moduleParameters: ['rss_cpus=4'],
};
const sfc = day1(sfcSettings);
/** ice and sfc as the constructs synthesize them for one pool: each names the other as a peer. */
const icePeered = day1({ peerMachineConfigNames: [SFC] });
const sfcPeered = day1({ ...sfcSettings, peerMachineConfigNames: [ICE] });

function machineConfig(options: ResolvedMachineConfigOptions): MachineConfigManifest {
  return machineConfigFromResolved(options);
}

/** A MachineConfig of the worker role that writes one script. */
function fileMachineConfig(name: string, path: string, contents: string): MachineConfigManifest {
  return {
    apiVersion: MACHINE_CONFIG_API_VERSION,
    kind: MACHINE_CONFIG_KIND,
    metadata: { name, labels: { [ROLE_LABEL]: 'worker' } },
    spec: { config: ignitionConfig([rootOwnedFile(path, contents, SCRIPT_MODE)], []) },
  };
}

/** A copy of `mc` whose unit `name` has `edit` applied to its contents; fails when the edit changes nothing. */
function withUnitEdited(mc: MachineConfigManifest, name: string, edit: (contents: string) => string): MachineConfigManifest {
  const copy = JSON.parse(JSON.stringify(mc)) as MachineConfigManifest;
  const unit = copy.spec.config.systemd.units.find((u) => u.name === name);
  const edited = edit(unit?.contents ?? '');
  if (unit === undefined || edited === unit.contents) {
    throw new Error(`the edit of ${name} changed nothing`);
  }
  (unit as { contents?: string }).contents = edited;
  return copy;
}

/** Every boot of the node: systemd found no process left behind by a unit. */
function expectCleanBoots(node: TierNode): void {
  node.journal().forEach((journal) => expectNoLeftovers(journal));
}

scenario('first boot: replace skips, pull after network-online and the dispatcher, one reboot; second boot: loaded before network-pre, no pull', () => {
  const node = new TierNode('first-boot');
  node.applyMachineConfigs([machineConfig(ice)]);
  node.publishModule(ice);

  const boots = node.bootUntilPoweroff(3);

  expect(boots.map((b) => b.exitCode)).toEqual([EXIT_REBOOT, 0]);
  const replace = replaceUnitName(ice.machineConfigName);
  const pull = pullUnitName(ice.machineConfigName);

  const first = node.bootJournal(1);
  expect(first.jobResult(replace)).toBe('done');
  expect(first.worker()).toEqual([]);
  expect(first.podman(replace).map((e) => e.message)).toEqual([`podman image exists ${ice.workerImage}`]);
  expectReplaceBeforeNetworkPre(node, 1, [ice]);
  expectPullAfterNetworkOnlineAndDispatcher(first, ice);
  expect(first.pulls(pull).map((e) => e.message.split(' ').pop())).toEqual([ice.workerImage, moduleImage(ice)]);
  expect(first.rebootRequested()).toBe(true);

  const second = node.bootJournal(2);
  expectLoadedBeforeNetwork(node, 2, [ice]);
  expect(second.pulls()).toEqual([]);
  expect(second.jobResult(pull)).toBe('done');
  expect(second.rebootRequested()).toBe(false);
  const report = node.reportOrThrow(2);
  expect(report.loaded).toEqual(['ice']);
  expect(report.failed).toEqual([]);
  expect(report.workerConfigs.ice).toContain(`containerImage: '${moduleImage(ice)}'`);
  expectCleanBoots(node);
});

scenario('steady state: images in local storage, loaded before network-pre, nothing pulled, no reboot', () => {
  const node = new TierNode('steady-state');
  node.applyMachineConfigs([machineConfig(ice)]);
  node.publishModule(ice).storeModule(ice);

  const boots = node.bootUntilPoweroff(1);

  expect(boots.map((b) => b.exitCode)).toEqual([0]);
  const journal = node.bootJournal(1);
  expectLoadedBeforeNetwork(node, 1, [ice]);
  expect(journal.pulls()).toEqual([]);
  expect(journal.podman(pullUnitName(ice.machineConfigName)).map((e) => e.message)).toEqual([
    `podman image exists ${ice.workerImage}`, `podman image exists ${moduleImage(ice)}`,
  ]);
  const report = node.reportOrThrow(1);
  expect(report.systemState).toBe('running');
  expect(report.failed).toEqual([]);
  expect(report.loaded).toEqual(['ice']);
  expectCleanBoots(node);
});

scenario('registry down: no reboot, the pull unit is failed, the boot reaches multi-user.target', () => {
  const node = new TierNode('registry-down');
  node.applyMachineConfigs([machineConfig(ice)]);
  node.publishModule(ice).knob('registry-down');
  const pull = pullUnitName(ice.machineConfigName);

  const boots = node.bootUntilPoweroff(1);

  expect(boots.map((b) => b.exitCode)).toEqual([0]);
  const journal = node.bootJournal(1);
  expect(journal.rebootRequested()).toBe(false);
  expect(journal.jobResult(pull)).toBe('failed');
  expect(journal.pulls(pull).length).toBeGreaterThan(0);
  expect(journal.jobDone('multi-user.target')).toBeDefined();
  const report = node.reportOrThrow(1);
  expect(report.failed).toEqual([pull]);
  expect(report.units['multi-user.target'].ActiveState).toBe('active');
  expect(report.units[pull].Result).toBe('exit-code');
  expect(report.loaded).toEqual([]);
  expectCleanBoots(node);
});

scenario('images that never appear at boot: at most 3 reboots over 6 boots', () => {
  const node = new TierNode('never-appear');
  node.applyMachineConfigs([machineConfig(ice)]);
  // Each pull succeeds, but what it stored is gone after the reboot.
  node.publishModule(ice).knob('volatile-storage');
  const pull = pullUnitName(ice.machineConfigName);

  const boots = Array.from({ length: 6 }, () => node.boot());

  const reboots = boots.filter((b) => b.rebooted).length;
  expect(reboots).toBeLessThanOrEqual(3);
  // The guard allows exactly 3, then every later boot gives up without pulling.
  expect(boots.map((b) => b.exitCode)).toEqual([EXIT_REBOOT, EXIT_REBOOT, EXIT_REBOOT, 0, 0, 0]);
  for (const n of [4, 5, 6]) {
    const journal = node.bootJournal(n);
    expect(journal.pulls()).toEqual([]);
    expect(journal.jobResult(pull)).toBe('failed');
    expect(node.reportOrThrow(n).failed).toEqual([pull]);
  }
  expectCleanBoots(node);
});

scenario('two Day 1 modules in one pool: both loaded before network-pre, one load at a time in name order, each with its own config', () => {
  const node = new TierNode('two-modules');
  const pool = node.applyMachineConfigs([machineConfig(sfcPeered), machineConfig(icePeered)]);
  expect(pool.order).toEqual([ICE, SFC]);
  expect(pool.conflicts).toEqual([]);
  node.publishModule(ice).publishModule(sfc);

  const boots = node.bootUntilPoweroff(4);

  // Both pull units pulled on the first boot; the one that finished first waited for the other.
  expect(boots.map((b) => b.exitCode)).toEqual([EXIT_REBOOT, 0]);
  expect(node.bootJournal(1).pulls(pullUnitName(ICE)).length).toBeGreaterThan(0);
  expect(node.bootJournal(1).pulls(pullUnitName(SFC)).length).toBeGreaterThan(0);
  const last = boots[boots.length - 1].n;
  const journal = node.bootJournal(last);
  expectLoadedBeforeNetwork(node, last, [ice, sfc]);
  expectNoConcurrentLoads(journal);
  const [iceReplace, sfcReplace] = [replaceUnitName(ICE), replaceUnitName(SFC)];
  expectOrder(journal, [`${iceReplace} finished`, journal.jobDone(iceReplace)], [`${sfcReplace} starting`, journal.starting(sfcReplace)],
    [iceReplace, sfcReplace]);
  expect(journal.pulls()).toEqual([]);
  const report = node.reportOrThrow(last);
  expect(report.failed).toEqual([]);
  expect([...report.loaded].sort()).toEqual(['ice', 'sfc']);
  expect(report.workerConfigs.ice).toContain(`containerImage: '${moduleImage(ice)}'`);
  expect(report.workerConfigs.ice).not.toContain('parameters');
  expect(report.workerConfigs.sfc).toContain(`containerImage: '${moduleImage(sfc)}'`);
  expect(report.workerConfigs.sfc).toContain("- 'rss_cpus=4'");
  expectCleanBoots(node);
});

scenario('mutation: without the peer ordering, two replace units load at once and the check sees it', () => {
  const node = new TierNode('mutation-no-peers');
  node.applyMachineConfigs([machineConfig(ice), machineConfig(sfc)]);
  node.publishModule(ice).storeModule(ice).publishModule(sfc).storeModule(sfc);

  node.bootUntilPoweroff(1);

  expect(node.reportOrThrow(1).loaded.sort()).toEqual(['ice', 'sfc']);
  expect(() => expectNoConcurrentLoads(node.bootJournal(1))).toThrow(/started loading while .* was still loading/);
});

scenario('crio-wipe.service is masked: never started, the pulled images survive the boot', () => {
  const node = new TierNode('crio-wipe-masked');
  node.applyMachineConfigs([machineConfig(ice)]);
  node.publishModule(ice).storeModule(ice);
  // Control: the same node without the mask, whose crio-wipe empties local storage.
  const control = new TierNode('crio-wipe-control');
  const unmasked = machineConfig(ice);
  unmasked.spec.config.systemd.units.splice(unmasked.spec.config.systemd.units.findIndex((u) => u.name === CRIO_WIPE_UNIT), 1);
  control.applyMachineConfigs([unmasked]);
  control.publishModule(ice).storeModule(ice);

  node.bootUntilPoweroff(1);
  const controlBoot = control.boot();

  const report = node.reportOrThrow(1);
  expect(report.units[CRIO_WIPE_UNIT]).toMatchObject({ LoadState: 'masked', UnitFileState: 'masked', ActiveState: 'inactive' });
  expect(node.bootJournal(1).starting(CRIO_WIPE_UNIT)).toBeUndefined();
  expect(node.hasImage(moduleImage(ice))).toBe(true);
  expect(report.loaded).toEqual(['ice']);

  // Unmasked, it empties local storage at boot: the pull unit fetches the images again and reboots.
  expect(control.bootJournal(1).jobResult(CRIO_WIPE_UNIT)).toBe('done');
  expect(control.bootJournal(1).pulls(pullUnitName(ice.machineConfigName))).toHaveLength(2);
  expect(controlBoot.rebooted).toBe(true);
  expectCleanBoots(node);
  expectCleanBoots(control);
});

scenario('mutation: without Before=network-pre.target in the replace unit, the ordering assertion fails', () => {
  const node = new TierNode('mutation-no-before');
  const replace = replaceUnitName(ice.machineConfigName);
  const mutated = withUnitEdited(machineConfig(ice), replace, (contents) => contents.replace(/^Before=network-pre\.target\n/m, ''));
  node.applyMachineConfigs([mutated]);
  node.publishModule(ice).storeModule(ice);

  node.bootUntilPoweroff(1);

  // The module still loads; it is the order against the network that is lost, and seen.
  expect(node.reportOrThrow(1).loaded).toEqual(['ice']);
  expect(() => expectReplaceBeforeNetworkPre(node, 1, [ice])).toThrow(/expected .*-replace-kernel-module\.service finished .* before network-pre\.target reached/);
});

/**
 * A node whose systemctl, called from wait-for-dispatcher.sh, lingers after printing its
 * answer (fixtures/lingering-systemctl), with `waitScript` as /usr/local/bin/wait-for-dispatcher.sh
 * when given (a MachineConfig that sorts after the Day 1 one, as a later writer would).
 */
function lingeringSystemctlNode(name: string, waitScript?: string): TierNode {
  const node = new TierNode(name);
  const pool: unknown[] = [machineConfig(ice)];
  if (waitScript !== undefined) {
    pool.push(fileMachineConfig('99-worker-zz-wait-script', WAIT_SCRIPT_PATH, waitScript));
  }
  node.applyMachineConfigs(pool);
  node.write('/usr/local/bin/systemctl', readFileSync(join(__dirname, 'fixtures', 'lingering-systemctl'), 'utf8'), 0o755);
  node.publishModule(ice).storeModule(ice).dispatcherSeconds(3);
  return node;
}

scenario('no unit leaves a process behind: wait-for-dispatcher.sh waits for a systemctl that is slow to exit', () => {
  const node = lingeringSystemctlNode('no-leftovers');

  node.bootUntilPoweroff(1);

  const journal = node.bootJournal(1);
  // It did linger, in the pull unit, polling the busy dispatcher.
  expect(journal.entries.filter((e) => e.identifier === 'lingering-systemctl'
    && e.caller === pullUnitName(ice.machineConfigName)).length).toBeGreaterThan(0);
  expectPullAfterNetworkOnlineAndDispatcher(journal, ice);
  expectCleanBoots(node);
});

scenario('mutation: the process-substitution wait-for-dispatcher.sh of cb76e57 leaves systemctl behind, and the check sees it', () => {
  // The interface-1 fixture holds the script as cb76e57 shipped it.
  const old = readFileSync(join(__dirname, '..', 'fixtures', 'interface-v1', 'scripts', 'wait-for-dispatcher.sh'), 'utf8');
  expect(old).toContain('done < <(systemctl show');
  const node = lingeringSystemctlNode('mutation-process-substitution', old);

  node.bootUntilPoweroff(1);

  expect(() => expectCleanBoots(node)).toThrow(/Found left-over process \d+ \(systemctl\) in control group while starting unit/);
});

/**
 * A pool of two Day 1 modules where `handedOver` was handed over to KMM and its MachineConfig
 * rewritten by the KMM operator (the stand-in of test/util/kmm-operator.ts, from the facts in
 * issue #10), next to `ours` as the constructs synthesize it (naming the other as a peer).
 */
function operatorPool(
  name: string, handedOver: ResolvedMachineConfigOptions, ours: ResolvedMachineConfigOptions,
): [TierNode, MergedMachineConfigs] {
  const node = new TierNode(name);
  const rewritten = kmmOperatorMachineConfig({
    machineConfigName: handedOver.machineConfigName,
    machineConfigPoolName: 'worker',
    kernelModuleImage: handedOver.kernelModuleImage,
    kernelModuleName: handedOver.kernelModuleName,
    inTreeModulesToRemove: handedOver.inTreeModulesToRemove,
    workerImage: handedOver.workerImage,
  });
  const pool = node.applyMachineConfigs([machineConfig(ours), rewritten]);
  // The operator's scripts differ from ours: the merge reports them, and the node boots anyway.
  expect(pool.conflicts.map((c) => [c.kind, c.foreignMachineConfigName, c.subject])).toEqual(
    ['/usr/local/bin/replace-kernel-module.sh', '/usr/local/bin/pull-kernel-module-image.sh', '/usr/local/bin/wait-for-dispatcher.sh']
      .map((path) => ['SCRIPT_CONTENTS', handedOver.machineConfigName, path]));
  // The MCO writes it on every node; the operator's units read it without "-" (ours with).
  node.write('/etc/mco/proxy.env', '', 0o644);
  node.publishModule(handedOver).publishModule(ours);
  return [node, pool];
}

scenario('a pool with a MachineConfig rewritten by the KMM operator, ours sorting last (our scripts run the operator\'s units): both load, one at a time, one reboot', () => {
  const [node, pool] = operatorPool('kmm-operator-ours-last', icePeered, sfcPeered);

  const boots = node.bootUntilPoweroff(4);

  expect(pool.files.find((f) => f.path === '/usr/local/bin/replace-kernel-module.sh')?.machineConfigName).toBe(SFC);
  expect(boots.map((b) => b.exitCode)).toEqual([EXIT_REBOOT, 0]);
  const last = boots[boots.length - 1].n;
  const journal = node.bootJournal(last);
  expectLoadedBeforeNetwork(node, last, [ice, sfc]);
  expectNoConcurrentLoads(journal);
  const report = node.reportOrThrow(last);
  expect(report.failed).toEqual([]);
  expect([...report.loaded].sort()).toEqual(['ice', 'sfc']);
  expect(report.workerConfigs.ice).toContain(`containerImage: '${moduleImage(ice)}'`);
  expect(report.workerConfigs.ice).toContain("- 'ice'");
  expect(report.workerConfigs.sfc).toContain("- 'rss_cpus=4'");
  // Our scripts never write the worker config path the operator gives every module.
  expect(node.exists('/var/lib/kmm_day1_config.yaml')).toBe(false);
  expectCleanBoots(node);
});

scenario('a pool with a MachineConfig rewritten by the KMM operator, the operator\'s sorting last (its scripts run our units): both load, one at a time', () => {
  const handedOver = day1({ machineConfigName: '99-worker-kmm-day1-x-ice', peerMachineConfigNames: [SFC] });
  const ours = day1({ ...sfcSettings, peerMachineConfigNames: [handedOver.machineConfigName] });
  const [node, pool] = operatorPool('kmm-operator-last', handedOver, ours);

  const boots = node.bootUntilPoweroff(4);

  expect(pool.files.find((f) => f.path === '/usr/local/bin/replace-kernel-module.sh')?.machineConfigName)
    .toBe(handedOver.machineConfigName);
  // The operator's pull script reboots as soon as its own images are in: a second pull may be cut short.
  expect(boots.filter((b) => b.rebooted).length).toBeGreaterThanOrEqual(1);
  expect(boots.filter((b) => b.rebooted).length).toBeLessThanOrEqual(2);
  const last = boots[boots.length - 1].n;
  const journal = node.bootJournal(last);
  expectLoadedBeforeNetwork(node, last, [handedOver, ours]);
  // Our unit orders itself after the operator's, which carries no ordering: still one at a time.
  expectNoConcurrentLoads(journal);
  const report = node.reportOrThrow(last);
  expect(report.failed).toEqual([]);
  expect([...report.loaded].sort()).toEqual(['ice', 'sfc']);
  // The operator's script writes the YAML unquoted.
  expect(report.workerConfigs.sfc).toContain(`containerImage: ${moduleImage(ours)}\n`);
  // The operator's scripts cannot pass module parameters: sfc loads without rss_cpus=4.
  expect(report.workerConfigs.sfc).not.toContain('rss_cpus');
  expectCleanBoots(node);
});

withShellcheck()('the tier\'s own scripts and stand-ins pass shellcheck', () => {
  const scripts = ['root.sh', 'node/usr/bin/podman', 'node/usr/libexec/kmm-day1-tier/journal.sh', 'node/usr/libexec/kmm-day1-tier/kmm-worker',
    'node/usr/libexec/kmm-day1-tier/probe', 'fixtures/lingering-systemctl'].map((file) => join(__dirname, file));
  const result = spawnSync('shellcheck', ['--external-sources', ...scripts], { encoding: 'utf8' });
  expect(result.stdout).toBe('');
  expect(result.status).toBe(0);
});
