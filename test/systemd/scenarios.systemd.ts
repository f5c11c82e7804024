import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';
import {
  expectLoadedBeforeNetwork, expectNoConcurrentLoads, expectNoFailedUnits, expectNoLeftovers, expectOrder, expectPullAfterNetworkOnlineAndDispatcher,
  expectReplaceBeforeNetworkPre,
} from './assert';
import { ImageBuilder } from './images';
import { day1At, ICE, scriptMachineConfig, SFC, withUnitEdited } from './machine-configs';
import { systemctlRoot } from './pool';
import { downRegistry, kubeletAuthfile, Registry, startRegistry, startSilentRegistry } from './registry';
import { EXIT_REBOOT, moduleImage, NODE_KERNEL, scenario, TIER_AVAILABLE, TierNode, timestamp } from './tier';
import {
  bootScripts, CRIO_WIPE_UNIT, pullUnitName, REPLACE_SCRIPT_PATH, replaceUnitName, WAIT_SCRIPT_PATH,
} from '../../src/boot';
import { machineConfigFromResolved, MachineConfigManifest, MergedMachineConfigs, ResolvedMachineConfigOptions } from '../../src/machine-config';
import { kernelReleaseTag, ProduceMachineConfigOptions } from '../../src/validation';
import { kmmOperatorMachineConfig } from '../util/kmm-operator';
import { withShellcheck } from '../util/oracles';

/*
 * The Day 1 units under real systemd, real podman and a real registry. Each scenario is a
 * node: a copy of the cached root, a pool of MachineConfigs applied as the MCO and Ignition
 * would, images in a loopback registry (built FROM scratch on the host) or already in the
 * node's podman storage, then boots until the probe powers it off. Every assertion reads
 * systemd's journal, the probe's `systemctl show` timestamps, the registry's request log or
 * the node's podman storage.
 */

/** The open registry most scenarios pull from; images pushed once for the whole file. */
const registry: Registry | undefined = TIER_AVAILABLE ? startRegistry() : undefined;
/** Where the images live; a placeholder that no test reaches when the tier cannot run. */
const HOST = registry?.host ?? '127.0.0.1:1';
const WORKER_IMAGE = `${HOST}/kmm/worker:latest`;
const TAG = kernelReleaseTag(NODE_KERNEL);
const builder = TIER_AVAILABLE ? new ImageBuilder() : undefined;

beforeAll(() => {
  if (registry === undefined || builder === undefined) return;
  builder.pushWorker(registry, WORKER_IMAGE);
  for (const name of ['ice', 'sfc']) {
    // FROM scratch, as a DTK build leaves a module image: no shell, no coreutils.
    builder.pushModule(registry, `${HOST}/example/${name}-driver`, TAG, { moduleName: name, kernelRelease: NODE_KERNEL });
    // The same with busybox as /bin/sh, for the KMM operator's copy step, which runs a shell in it.
    builder.pushModule(registry, `${HOST}/example/${name}-driver-with-shell`, TAG, { moduleName: name, kernelRelease: NODE_KERNEL, shell: true });
  }
});
afterEach(() => TierNode.releaseAll());
afterAll(() => {
  if (TierNode.nodeCount() > 0) {
    // eslint-disable-next-line no-console
    console.log(`real-systemd tier, kernel ${NODE_KERNEL}:\n${TierNode.summary()}`);
  }
  TierNode.cleanupAll();
  registry?.stop();
  builder?.cleanup();
});

const day1 = (overrides: Partial<ProduceMachineConfigOptions> = {}) => day1At(HOST, overrides);
const ice = day1();
const sfcSettings: Partial<ProduceMachineConfigOptions> = {
  machineConfigName: SFC,
  kernelModuleImage: `${HOST}/example/sfc-driver`,
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

/** Every boot of the node: systemd found no process left behind by a unit. */
function expectCleanBoots(node: TierNode): void {
  node.journal().forEach((journal) => expectNoLeftovers(journal));
}

scenario('first boot: replace skips, pull after network-online and the dispatcher, one reboot; second boot: loaded before network-pre, no pull', () => {
  const node = new TierNode('first-boot');
  node.applyMachineConfigs([machineConfig(ice)]);

  const boots = node.bootUntilPoweroff(3);

  expect(boots.map((b) => b.exitCode)).toEqual([EXIT_REBOOT, 0]);
  const replace = replaceUnitName(ice.machineConfigName);
  const pull = pullUnitName(ice.machineConfigName);

  const first = node.bootJournal(1);
  expect(first.jobResult(replace)).toBe('done');
  expect(first.worker()).toEqual([]);
  expect(first.output(replace).map((e) => e.message)).toContain(
    `${ice.workerImage} is not in local storage; ice is not loaded on this boot (the pull unit fetches the image and reboots)`);
  expectReplaceBeforeNetworkPre(node, 1, [ice]);
  expectPullAfterNetworkOnlineAndDispatcher(first, ice);
  expect(first.pulled(pull)).toEqual([ice.workerImage, moduleImage(ice)]);
  // What the registry itself served in that boot: the two manifests, each once.
  expect(registry!.manifestsServed(boots[0].startedAt, boots[0].endedAt)).toEqual([ice.workerImage, moduleImage(ice)]);
  expect(first.rebootRequested()).toBe(true);

  const second = node.bootJournal(2);
  expectLoadedBeforeNetwork(node, 2, [ice]);
  expect(second.pulled()).toEqual([]);
  expect(registry!.manifestsServed(boots[1].startedAt, boots[1].endedAt)).toEqual([]);
  expect(node.hasImage(ice.workerImage) && node.hasImage(moduleImage(ice))).toBe(true);
  expect(second.jobResult(pull)).toBe('done');
  expect(second.rebootRequested()).toBe(false);
  const report = node.reportOrThrow(2);
  expect(report.loaded).toEqual(['ice']);
  expectNoFailedUnits(node.bootJournal(2), report);
  expect(report.workerConfigs.ice).toContain(`containerImage: '${moduleImage(ice)}'`);
  expectCleanBoots(node);
});

scenario('steady state: images in local storage, loaded before network-pre, nothing pulled, no reboot', () => {
  const node = new TierNode('steady-state');
  node.applyMachineConfigs([machineConfig(ice)]);
  node.storeModule(ice);

  const boots = node.bootUntilPoweroff(1);

  expect(boots.map((b) => b.exitCode)).toEqual([0]);
  const journal = node.bootJournal(1);
  expectLoadedBeforeNetwork(node, 1, [ice]);
  expect(journal.pulled()).toEqual([]);
  expect(registry!.manifestsServed(boots[0].startedAt, boots[0].endedAt)).toEqual([]);
  expect(journal.output(pullUnitName(ice.machineConfigName)).map((e) => e.message)).toContain(
    `images ${ice.workerImage} and ${moduleImage(ice)} are present; nothing to pull`);
  const report = node.reportOrThrow(1);
  expect(report.systemState).toBe('running');
  expectNoFailedUnits(node.bootJournal(1), report);
  expect(report.loaded).toEqual(['ice']);
  expectCleanBoots(node);
});

/** Boots a node whose only module's images live at `endpoint`, until it powers off (one boot expected). */
function unreachableNode(name: string, host: string): [TierNode, ResolvedMachineConfigOptions] {
  const options = day1At(host);
  const node = new TierNode(name);
  node.applyMachineConfigs([machineConfig(options)]);
  return [node, options];
}

/** The pull unit's lines that say why an attempt failed. */
function failedAttempts(node: TierNode, n: number, options: ResolvedMachineConfigOptions): string[] {
  return node.bootJournal(n).output(pullUnitName(options.machineConfigName)).map((e) => e.message)
    .filter((m) => m.startsWith(`pull of ${options.workerImage} failed`));
}

scenario('registry down (connection refused): no reboot, the pull unit is failed, the boot reaches multi-user.target', () => {
  const down = downRegistry();
  const [node, options] = unreachableNode('registry-down', down.host);
  const pull = pullUnitName(options.machineConfigName);

  const boots = node.bootUntilPoweroff(1);

  expect(boots.map((b) => b.exitCode)).toEqual([0]);
  const journal = node.bootJournal(1);
  expect(journal.rebootRequested()).toBe(false);
  expect(journal.jobResult(pull)).toBe('failed');
  // Both attempts (KMM_DAY1_PULL_ATTEMPTS=2 on the tier's nodes) saw podman's own error.
  const attempts = failedAttempts(node, 1, options);
  expect(attempts).toHaveLength(2);
  attempts.forEach((line) => expect(line).toMatch(/connection refused/));
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
  node.volatileStorage();
  const pull = pullUnitName(ice.machineConfigName);

  const boots = Array.from({ length: 6 }, () => node.boot());

  const reboots = boots.filter((b) => b.rebooted).length;
  expect(reboots).toBeLessThanOrEqual(3);
  // The guard allows exactly 3, then every later boot gives up without pulling.
  expect(boots.map((b) => b.exitCode)).toEqual([EXIT_REBOOT, EXIT_REBOOT, EXIT_REBOOT, 0, 0, 0]);
  for (const n of [4, 5, 6]) {
    const journal = node.bootJournal(n);
    expect(journal.pulled()).toEqual([]);
    expect(registry!.manifestsServed(boots[n - 1].startedAt, boots[n - 1].endedAt)).toEqual([]);
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

  const boots = node.bootUntilPoweroff(4);

  // Both pull units pulled on the first boot; the one that finished first waited for the other.
  expect(boots.map((b) => b.exitCode)).toEqual([EXIT_REBOOT, 0]);
  expect(node.bootJournal(1).pulled(pullUnitName(ICE))).toContain(moduleImage(ice));
  expect(node.bootJournal(1).pulled(pullUnitName(SFC))).toContain(moduleImage(sfc));
  const last = boots[boots.length - 1].n;
  const journal = node.bootJournal(last);
  expectLoadedBeforeNetwork(node, last, [ice, sfc]);
  expectNoConcurrentLoads(journal);
  const [iceReplace, sfcReplace] = [replaceUnitName(ICE), replaceUnitName(SFC)];
  expectOrder(journal, [`${iceReplace} finished`, journal.jobDone(iceReplace)], [`${sfcReplace} starting`, journal.starting(sfcReplace)],
    [iceReplace, sfcReplace]);
  expect(journal.pulled()).toEqual([]);
  const report = node.reportOrThrow(last);
  expectNoFailedUnits(node.bootJournal(last), report);
  expect([...report.loaded].sort()).toEqual(['ice', 'sfc']);
  expect(report.workerConfigs.ice).toContain(`containerImage: '${moduleImage(ice)}'`);
  expect(report.workerConfigs.ice).not.toContain('parameters');
  expect(report.workerConfigs.sfc).toContain(`containerImage: '${moduleImage(sfc)}'`);
  expect(report.workerConfigs.sfc).toContain("- 'rss_cpus=4'");
  expectCleanBoots(node);
});

scenario('one reboot for two modules: a pull unit still queued when the other has pulled is waited for, and the wait ends as soon as it has recorded its wish', () => {
  const node = new TierNode('queued-pull-unit');
  node.applyMachineConfigs([machineConfig(sfcPeered), machineConfig(icePeered)]);
  // sfc's pull unit stays queued (a start job waiting) for 8 s after ice's has started: ice's
  // pulls are long done by then. Both wait at most 60 s for the other (600 by default).
  const [icePull, sfcPull] = [pullUnitName(ICE), pullUnitName(SFC)];
  node.write('/etc/systemd/system/kmm-day1-tier-hold.service', '[Service]\nType=oneshot\nExecStart=/bin/sleep 8\n');
  node.write(`/etc/systemd/system/${sfcPull}.d/60-queued.conf`, '[Unit]\nWants=kmm-day1-tier-hold.service\nAfter=kmm-day1-tier-hold.service\n');
  for (const unit of [icePull, sfcPull]) {
    node.write(`/etc/systemd/system/${unit}.d/61-reboot-wait.conf`, '[Service]\nEnvironment=KMM_DAY1_REBOOT_WAIT=60\n');
  }

  const boots = node.bootUntilPoweroff(4);

  // Without waiting for the queued unit, ice's would reboot before sfc pulled: a second reboot.
  expect(boots.map((b) => b.exitCode)).toEqual([EXIT_REBOOT, 0]);
  const first = node.bootJournal(1);
  expect(first.pulled(icePull)).toEqual([ice.workerImage, moduleImage(ice)]);
  expect(first.pulled(sfcPull)).toContain(moduleImage(sfc));
  // ice's unit had finished pulling before sfc's started: sfc's was queued, not running.
  const icePulled = first.output(icePull).find((e) => e.message === `pulled ${moduleImage(ice)} (attempt 1/2)`)!.mono;
  expect(first.starting(sfcPull)).toBeGreaterThan(icePulled);
  expect(first.output(icePull).map((e) => e.message)).toContainEqual(expect.stringMatching(
    new RegExp(`^waiting up to 60s for the other Day 1 pull units of this node, so that it reboots once: ${sfcPull.replace(/\./g, '\\.')}$`)));
  // The wait ended when sfc's unit had recorded its wish: sfc's own look found nobody left and
  // rebooted at once; nowhere near the 60 s bound.
  const sfcPulled = first.output(sfcPull).find((e) => e.message === `pulled ${moduleImage(sfc)} (attempt 1/2)`)!.mono;
  const rebootStarted = first.rebootAt()!;
  expect(rebootStarted).toBeGreaterThan(sfcPulled);
  expect((rebootStarted - sfcPulled) / 1e6).toBeLessThan(5);
  expect((rebootStarted - icePulled) / 1e6).toBeLessThan(8 + 30);
  expect(first.output(icePull).map((e) => e.message).filter((m) => m.startsWith('stopped waiting'))).toEqual([]);
  expect(first.output(sfcPull).map((e) => e.message).filter((m) => m.startsWith('waiting up to'))).toEqual([]);
  expectLoadedBeforeNetwork(node, 2, [ice, sfc]);
  expect(node.bootJournal(2).pulled()).toEqual([]);
});

scenario('mutation: without the peer ordering, two replace units load at once and the check sees it', () => {
  const node = new TierNode('mutation-no-peers');
  node.applyMachineConfigs([machineConfig(ice), machineConfig(sfc)]);
  node.storeModule(ice).storeModule(sfc);

  node.bootUntilPoweroff(1);

  expect(node.reportOrThrow(1).loaded.sort()).toEqual(['ice', 'sfc']);
  expect(() => expectNoConcurrentLoads(node.bootJournal(1))).toThrow(/started loading while .* was still loading/);
});

scenario('crio-wipe.service is masked: never started, the pulled images survive the boot', () => {
  const node = new TierNode('crio-wipe-masked');
  node.applyMachineConfigs([machineConfig(ice)]);
  node.storeModule(ice);
  // Control: the same node without the mask, whose crio-wipe empties local storage. Nothing
  // orders crio-wipe against the Day 1 units (on a node neither), so under load the pull unit
  // could look at the store before the wipe and find the images: the control orders it first,
  // which is what it is there to show.
  const control = new TierNode('crio-wipe-control');
  const unmasked = machineConfig(ice);
  unmasked.spec.config.systemd.units.splice(unmasked.spec.config.systemd.units.findIndex((u) => u.name === CRIO_WIPE_UNIT), 1);
  control.applyMachineConfigs([unmasked]);
  control.write(`/etc/systemd/system/${CRIO_WIPE_UNIT}.d/50-before-day1.conf`,
    `[Unit]\nBefore=${replaceUnitName(ice.machineConfigName)} ${pullUnitName(ice.machineConfigName)}\n`);
  control.storeModule(ice);

  node.bootUntilPoweroff(1);
  const controlBoot = control.boot();

  const report = node.reportOrThrow(1);
  expect(report.units[CRIO_WIPE_UNIT]).toMatchObject({ LoadState: 'masked', UnitFileState: 'masked', ActiveState: 'inactive' });
  expect(node.bootJournal(1).starting(CRIO_WIPE_UNIT)).toBeUndefined();
  expect(node.hasImage(moduleImage(ice))).toBe(true);
  expect(report.loaded).toEqual(['ice']);

  // Unmasked, it empties local storage at boot: the pull unit fetches the images again and reboots.
  expect(control.bootJournal(1).jobResult(CRIO_WIPE_UNIT)).toBe('done');
  expect(control.bootJournal(1).pulled(pullUnitName(ice.machineConfigName))).toEqual([ice.workerImage, moduleImage(ice)]);
  // The registry's own log, not the node's journal: what the control fetched before its reboot.
  expect(registry!.manifestsServed(controlBoot.startedAt, controlBoot.endedAt)).toEqual([ice.workerImage, moduleImage(ice)]);
  expect(controlBoot.rebooted).toBe(true);
  expectCleanBoots(node);
  expectCleanBoots(control);
});

scenario('mutation: without Before=network-pre.target in the replace unit, the ordering assertion fails', () => {
  const node = new TierNode('mutation-no-before');
  const replace = replaceUnitName(ice.machineConfigName);
  const mutated = withUnitEdited(machineConfig(ice), replace, (contents) => contents.replace(/^Before=network-pre\.target\n/m, ''));
  node.applyMachineConfigs([mutated]);
  node.storeModule(ice);

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
    pool.push(scriptMachineConfig('99-worker-zz-wait-script', WAIT_SCRIPT_PATH, waitScript));
  }
  node.applyMachineConfigs(pool);
  node.write('/usr/local/bin/systemctl', readFileSync(join(__dirname, 'fixtures', 'lingering-systemctl'), 'utf8'), 0o755);
  node.storeModule(ice).dispatcherSeconds(3);
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
  expectNoFailedUnits(node.bootJournal(last), report);
  expect([...report.loaded].sort()).toEqual(['ice', 'sfc']);
  expect(report.workerConfigs.ice).toContain(`containerImage: '${moduleImage(ice)}'`);
  expect(report.workerConfigs.ice).toContain("- 'ice'");
  expect(report.workerConfigs.sfc).toContain("- 'rss_cpus=4'");
  // Our scripts never write the worker config path the operator gives every module.
  expect(node.exists('/var/lib/kmm_day1_config.yaml')).toBe(false);
  expectCleanBoots(node);
});

scenario('a pool with a MachineConfig rewritten by the KMM operator, the operator\'s sorting last (its scripts run our units): both load, one at a time', () => {
  // The operator's copy step runs /bin/sh in the module image: images with a shell here (the
  // FROM scratch ones are in the scenario after this one).
  const handedOver = day1({
    machineConfigName: '99-worker-kmm-day1-x-ice', peerMachineConfigNames: [SFC], kernelModuleImage: `${HOST}/example/ice-driver-with-shell`,
  });
  const ours = day1({
    ...sfcSettings, peerMachineConfigNames: [handedOver.machineConfigName], kernelModuleImage: `${HOST}/example/sfc-driver-with-shell`,
  });
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
  expectNoFailedUnits(node.bootJournal(last), report);
  expect([...report.loaded].sort()).toEqual(['ice', 'sfc']);
  // The operator's script writes the YAML unquoted.
  expect(report.workerConfigs.sfc).toContain(`containerImage: ${moduleImage(ours)}\n`);
  // The operator's scripts cannot pass module parameters: sfc loads without rss_cpus=4.
  expect(report.workerConfigs.sfc).not.toContain('rss_cpus');
  expectCleanBoots(node);
});

scenario('pull secret in kubelet format against a registry with htpasswd basic auth: pulled with it, refused without it', () => {
  const credentials = { username: 'day1', password: 'pull-secret-only' };
  const locked = startRegistry({ credentials });
  try {
    const options = day1At(locked.host);
    builder!.pushWorker(locked, options.workerImage);
    builder!.pushModule(locked, options.kernelModuleImage, TAG, { moduleName: 'ice', kernelRelease: NODE_KERNEL });
    const withSecret = new TierNode('auth-with-pull-secret');
    withSecret.applyMachineConfigs([machineConfig(options)]);
    withSecret.pullSecret(kubeletAuthfile([locked]));
    const without = new TierNode('auth-without-pull-secret');
    without.applyMachineConfigs([machineConfig(options)]);
    // The tier's nodes carry {"auths":{}}: a pull secret that names no registry.

    const boots = withSecret.bootUntilPoweroff(3);
    const refused = without.bootUntilPoweroff(1);

    expect(boots.map((b) => b.exitCode)).toEqual([EXIT_REBOOT, 0]);
    expect(withSecret.bootJournal(1).pulled()).toEqual([options.workerImage, moduleImage(options)]);
    expect(locked.manifestsServed(boots[0].startedAt, boots[0].endedAt)).toEqual([options.workerImage, moduleImage(options)]);
    expectLoadedBeforeNetwork(withSecret, 2, [options]);
    expectNoFailedUnits(withSecret.bootJournal(2), withSecret.reportOrThrow(2));

    expect(refused.map((b) => b.exitCode)).toEqual([0]);
    const pull = pullUnitName(options.machineConfigName);
    expect(without.bootJournal(1).jobResult(pull)).toBe('failed');
    const attempts = failedAttempts(without, 1, options);
    expect(attempts).toHaveLength(2);
    attempts.forEach((line) => expect(line).toMatch(/unauthorized|authentication required/));
    // The registry answered, and refused: 401 for every manifest asked, none served.
    expect(locked.manifestsServed(refused[0].startedAt, refused[0].endedAt)).toEqual([]);
    expect(locked.requests(refused[0].startedAt, refused[0].endedAt).filter((r) => r.status === 401).length).toBeGreaterThan(0);
    expect(without.reportOrThrow(1).failed).toEqual([pull]);
    expect(without.hasImage(options.workerImage)).toBe(false);
  } finally {
    locked.stop();
  }
});

scenario('a registry that accepts connections and never answers: each attempt is cut at the pull timeout, no reboot, the boot goes on', () => {
  const silent = startSilentRegistry();
  try {
    const [node, options] = unreachableNode('registry-never-answers', silent.host);
    const pull = pullUnitName(options.machineConfigName);
    node.write(`/etc/systemd/system/${pull}.d/60-pull-timeout.conf`, '[Service]\nEnvironment=KMM_DAY1_PULL_TIMEOUT=3\n');

    const boots = node.bootUntilPoweroff(1);

    expect(boots.map((b) => b.exitCode)).toEqual([0]);
    const journal = node.bootJournal(1);
    expect(journal.rebootRequested()).toBe(false);
    expect(journal.jobResult(pull)).toBe('failed');
    const attempts = failedAttempts(node, 1, options);
    expect(attempts).toEqual([1, 2].map((i) => `pull of ${options.workerImage} failed (attempt ${i}/2): no answer within 3s`));
    const report = node.reportOrThrow(1);
    expect(report.units['multi-user.target'].ActiveState).toBe('active');
    // Two attempts of 3 s (plus SIGKILL's 5 s grace should podman ignore SIGTERM) and a 1 s back-off.
    const ran = timestamp(report, pull, 'ExecMainExit') - timestamp(report, pull, 'ExecMainStart');
    expect(ran / 1e6).toBeGreaterThanOrEqual(2 * 3 + 1);
    expect(ran / 1e6).toBeLessThan(2 * (3 + 5) + 1 + 10);
    expectCleanBoots(node);
  } finally {
    silent.stop();
  }
});

scenario('no tag for the running kernel: the module image is not pulled, no reboot, the journal says the manifest is unknown', () => {
  const options = day1({ kernelModuleImage: `${HOST}/example/ice-driver-other-kernels` });
  // Only a build for another kernel exists.
  builder!.pushModule(registry!, options.kernelModuleImage, `${TAG}.other`, { moduleName: 'ice', kernelRelease: `${NODE_KERNEL}.other` });
  const node = new TierNode('missing-tag');
  node.applyMachineConfigs([machineConfig(options)]);
  const pull = pullUnitName(options.machineConfigName);

  const boots = node.bootUntilPoweroff(1);

  expect(boots.map((b) => b.exitCode)).toEqual([0]);
  const journal = node.bootJournal(1);
  expect(journal.rebootRequested()).toBe(false);
  expect(journal.jobResult(pull)).toBe('failed');
  expect(journal.pulled(pull)).toEqual([options.workerImage]);
  const lines = journal.output(pull).map((e) => e.message).filter((m) => m.startsWith(`pull of ${moduleImage(options)} failed`));
  expect(lines).toHaveLength(2);
  lines.forEach((line) => expect(line).toMatch(/manifest unknown/));
  expect(registry!.requests(boots[0].startedAt, boots[0].endedAt)
    .filter((r) => r.uri === `/v2/example/ice-driver-other-kernels/manifests/${TAG}` && r.status === 404)).toHaveLength(2);
  expect(node.reportOrThrow(1).loaded).toEqual([]);
});

scenario('a boot cut short while the worker runs: the next boot clears the stale containers and loads the module before network-pre', () => {
  const node = new TierNode('cut-short');
  node.applyMachineConfigs([machineConfig(ice)]);
  node.storeModule(ice);
  node.write('/usr/libexec/kmm-day1-tier/cut-while-worker-runs', readFileSync(join(__dirname, 'fixtures', 'cut-while-worker-runs'), 'utf8'), 0o755);
  node.write('/etc/systemd/system/kmm-day1-tier-cut.service', [
    '[Unit]', 'DefaultDependencies=no', 'After=local-fs.target', '[Service]', 'Type=exec',
    'ExecStart=/usr/libexec/kmm-day1-tier/cut-while-worker-runs', '[Install]', 'WantedBy=sysinit.target', '',
  ].join('\n'));
  systemctlRoot(node.root, 'enable', 'kmm-day1-tier-cut.service');
  node.write('/var/lib/kmm-day1-tier/cut-once', '');

  const boots = node.bootUntilPoweroff(3);

  expect(boots.map((b) => b.exitCode)).toEqual([EXIT_REBOOT, 0]);
  const cut = node.bootJournal(1);
  expect(cut.worker().map((e) => e.message)).toEqual([`loading ice from ${moduleImage(ice)}`]);
  expect(cut.loaded('ice')).toBeUndefined();
  expect(cut.entries.some((e) => e.message.startsWith('cutting the boot short while the worker runs'))).toBe(true);
  expect(cut.rebootRequested()).toBe(false);
  expectLoadedBeforeNetwork(node, 2, [ice]);
  const report = node.reportOrThrow(2);
  expectNoFailedUnits(node.bootJournal(2), report);
  expect(report.loaded).toEqual(['ice']);
  expect(node.bootJournal(2).pulled()).toEqual([]);
  expectCleanBoots(node);
});

/** Our replace script with `edit` applied; fails when the edit changes nothing. */
function replaceScriptEdited(edit: (script: string) => string): string {
  const script = bootScripts().find((f) => f.path === REPLACE_SCRIPT_PATH)!.contents;
  const edited = edit(script);
  if (edited === script) throw new Error('the edit of the replace script changed nothing');
  return edited;
}

scenario('mutation: a replace script whose podman cp source lost its "/." copies the directory itself, and the tier fails on it', () => {
  // (Dropping --pull=never from `podman create` would not show here: the script only gets there
  // when both images are in local storage, and podman's default policy then pulls nothing.)
  const broken = replaceScriptEdited((script) => script.replace('"${copy_container}:${dir}/."', '"${copy_container}:${dir}"'));
  const node = new TierNode('mutation-podman-cp-source');
  node.applyMachineConfigs([machineConfig(ice), scriptMachineConfig('99-worker-zz-replace-script', REPLACE_SCRIPT_PATH, broken)]);
  node.storeModule(ice);

  node.bootUntilPoweroff(1);

  const replace = replaceUnitName(ice.machineConfigName);
  const journal = node.bootJournal(1);
  expect(journal.jobResult(replace)).toBe('failed');
  // podman cp put /opt/lib/modules at /tmp/opt/lib/modules/modules: modprobe -d /tmp/opt finds nothing.
  expect(journal.worker().map((e) => e.message)).toEqual([
    `error: ice: modprobe -d /tmp/opt finds no /tmp/opt/lib/modules/${NODE_KERNEL}/modules.dep`,
  ]);
  expect(node.reportOrThrow(1).loaded).toEqual([]);
  expect(() => expectLoadedBeforeNetwork(node, 1, [ice])).toThrow(/expected .*-replace-kernel-module\.service finished .* before network-pre\.target reached|expected ice loaded \(never\)/);
});

scenario('the KMM operator\'s scripts with a module image FROM scratch: their copy step finds no /bin/sh, the module is not loaded (ours load that image: steady state)', () => {
  // The operator rewrote ice's MachineConfig and its scripts are the node's: nothing of ours runs.
  const node = new TierNode('kmm-operator-from-scratch');
  node.applyMachineConfigs([kmmOperatorMachineConfig({
    machineConfigName: ice.machineConfigName,
    machineConfigPoolName: 'worker',
    kernelModuleImage: ice.kernelModuleImage,
    kernelModuleName: ice.kernelModuleName,
    inTreeModulesToRemove: ice.inTreeModulesToRemove,
    workerImage: ice.workerImage,
  })]);
  node.write('/etc/mco/proxy.env', '', 0o644);
  node.storeModule(ice);

  node.bootUntilPoweroff(1);

  const replace = replaceUnitName(ice.machineConfigName);
  const journal = node.bootJournal(1);
  // The operator's behaviour, recorded: podman cannot start the copy container, the unit fails.
  expect(journal.output(replace).map((e) => e.message)).toContainEqual(expect.stringMatching(/executable file `\/bin\/sh` not found/));
  expect(journal.jobResult(replace)).toBe('failed');
  expect(journal.worker()).toEqual([]);
  expect(node.reportOrThrow(1).loaded).toEqual([]);
  // Our scripts load this very image on the same kind of node: the steady-state scenario
  // (podman cp reads the image's layers; nothing runs in the module image).
});

withShellcheck()('the tier\'s own scripts, stand-ins and the worker image\'s entrypoint pass shellcheck', () => {
  const scripts = ['root.sh', 'images/kmm-worker', 'node/usr/libexec/kmm-day1-tier/journal.sh',
    'node/usr/libexec/kmm-day1-tier/probe', 'fixtures/lingering-systemctl', 'fixtures/cut-while-worker-runs'].map((file) => join(__dirname, file));
  const result = spawnSync('shellcheck', ['--external-sources', ...scripts], { encoding: 'utf8' });
  expect(result.stdout).toBe('');
  expect(result.status).toBe(0);
});
