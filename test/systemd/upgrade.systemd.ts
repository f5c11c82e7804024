import { ChildProcess, spawn, spawnSync } from 'child_process';
import { chmodSync, cpSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { expectLoadedBeforeNetwork } from './assert';
import { ImageBuilder, ImageFiles } from './images';
import { day1At, ICE, scriptMachineConfig, SFC, withUnitEdited } from './machine-configs';
import { systemctlRoot } from './pool';
import { freePort, Registry, startRegistry } from './registry';
import { BootJournal, EXIT_REBOOT, NODE_KERNEL, scenario, TIER_AVAILABLE, TierNode } from './tier';
import { bootScripts, PREPULL_TIMEOUT_SECONDS, PULL_SCRIPT_PATH, pullUnitName } from '../../src/boot';
import { machineConfigFromResolved, MachineConfigManifest, ResolvedMachineConfigOptions } from '../../src/machine-config';
import { kernelReleaseTag, ProduceMachineConfigOptions } from '../../src/validation';
import { withShellcheck } from '../util/oracles';

/*
 * Cluster upgrades under real systemd, real podman and a real registry (issue #19). A node runs
 * the deployment of an older kernel (OLD_KERNEL; the `uname` stand-in reports the booted
 * deployment's kernel) with its Day 1 modules loaded; the machine-config-daemon stand-in stages
 * a deployment with NEW_KERNEL (the host's own kernel, the one the worker sees in its container)
 * and reboots as the MCD does; the ostree-finalize-staged stand-in makes it the booted one at that
 * shutdown. Stand-ins: upgrade-node/ (`ostree admin status`, `uname -r`,
 * ostree-finalize-staged.service, the MCD) and registry-proxy.js (a registry that hangs from
 * the staging on). Every assertion reads the journal (our scripts' lines, systemd's job
 * messages, the worker's lines) or the node's podman storage.
 */

const UPGRADE_TREE = join(__dirname, 'upgrade-node');
const OLD_KERNEL = '5.14.0-70.13.1.el9_0.x86_64';
/** A kernel the node ran before OLD_KERNEL: its image is what the node no longer needs. */
const ANCIENT_KERNEL = '5.14.0-1.7.1.el9.x86_64';
const NEW_KERNEL = NODE_KERNEL;

const registry: Registry | undefined = TIER_AVAILABLE ? startRegistry() : undefined;
const HOST = registry?.host ?? '127.0.0.1:1';
const builder = TIER_AVAILABLE ? new ImageBuilder() : undefined;
/** In front of the registry for the hang scenario (registry-proxy.js): stopped by its pid. */
const proxies: ChildProcess[] = [];

afterEach(() => TierNode.releaseAll());
afterAll(() => {
  TierNode.cleanupAll();
  for (const child of proxies) {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
  }
  registry?.stop();
  builder?.cleanup();
});

const day1 = (overrides: Partial<ProduceMachineConfigOptions> = {}) => day1At(HOST, overrides);

const ice = day1();
const icePeered = day1({ peerMachineConfigNames: [SFC] });
const sfcPeered = day1({
  machineConfigName: SFC, kernelModuleImage: `${HOST}/example/sfc-driver`, kernelModuleName: 'sfc', inTreeModulesToRemove: ['sfc'], peerMachineConfigNames: [ICE],
});

const imageFor = (options: ResolvedMachineConfigOptions, kernel: string) => `${options.kernelModuleImage}:${kernelReleaseTag(kernel)}`;

/**
 * The module image for `kernel`. The worker looks for the module under the kernel it sees; in
 * its container that is the host's (NEW_KERNEL), so the images of the kernels before the upgrade
 * carry it there too, or the node could not load them before the upgrade.
 */
function moduleFiles(options: ResolvedMachineConfigOptions, kernel: string): ImageFiles {
  const files: ImageFiles = {};
  for (const dir of new Set([kernel, NEW_KERNEL])) {
    files[`opt/lib/modules/${dir}/${options.kernelModuleName}.ko`] = `${options.kernelModuleName} for ${kernel}\n`;
    files[`opt/lib/modules/${dir}/modules.dep`] = `${options.kernelModuleName}.ko:\n`;
  }
  return files;
}

/** Pushes the worker and the module images of `options` for `kernels` to the registry (not through the proxy). */
function push(options: ResolvedMachineConfigOptions, kernels: readonly string[]): void {
  const direct = (image: string) => image.replace(/^[^/]+/, HOST);
  builder!.pushWorker(registry!, direct(options.workerImage));
  for (const kernel of kernels) {
    builder!.push(registry!, direct(imageFor(options, kernel)), moduleFiles(options, kernel));
  }
}

/** Starts a proxy of the registry that hangs while `flag` exists; returns its host:port. */
function startProxy(flag: string): string {
  const port = freePort();
  const child = spawn(process.execPath, [join(__dirname, 'registry-proxy.js'), String(port), String(registry!.port), flag],
    { stdio: 'ignore', detached: true });
  child.unref();
  proxies.push(child);
  for (let i = 0; i < 100 && spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: 'ignore' }).status !== 0; i++) {
    spawnSync('sleep', ['0.1']);
  }
  return `127.0.0.1:${port}`;
}

interface UpgradeSetup {
  readonly modules: readonly ResolvedMachineConfigOptions[];
  /** Tuning of the pull units (a drop-in's Environment= lines). */
  readonly environment?: Record<string, string>;
  /** Publish the modules' images for NEW_KERNEL before the upgrade (default true). */
  readonly newImages?: boolean;
  /** More MachineConfigs of the pool (e.g. a mutation). */
  readonly extra?: readonly MachineConfigManifest[];
  /** Applied to each module's MachineConfig (e.g. a mutation). */
  readonly edit?: (mc: MachineConfigManifest) => MachineConfigManifest;
}

/**
 * A node running OLD_KERNEL with every module's images in local storage (and an image of
 * ANCIENT_KERNEL, which no deployment boots), asked to upgrade to NEW_KERNEL. `setup` may be
 * made from the node (its root) first.
 */
function upgradeNode(name: string, makeSetup: UpgradeSetup | ((node: TierNode) => UpgradeSetup)): TierNode {
  const node = new TierNode(name);
  const setup = typeof makeSetup === 'function' ? makeSetup(node) : makeSetup;
  cpSync(UPGRADE_TREE, node.root, { recursive: true });
  for (const file of listFiles(UPGRADE_TREE)) {
    chmodSync(join(node.root, file), readFileSync(join(UPGRADE_TREE, file), 'utf8').startsWith('#!') ? 0o755 : 0o644);
  }
  systemctlRoot(node.root, 'enable', 'kmm-day1-tier-mcd.service');
  const deployment = `${'0'.repeat(63)}1.0`;
  node.write(`ostree/deploy/rhcos/deploy/${deployment}/usr/lib/modules/${OLD_KERNEL}/vmlinuz`, 'kernel\n');
  node.write('var/lib/kmm-day1-tier/ostree/booted', `${deployment}\n`);
  node.write('etc/kmm-day1-tier/upgrade-to', `${NEW_KERNEL}\n`);
  const edit = setup.edit ?? ((mc: MachineConfigManifest) => mc);
  node.applyMachineConfigs([...setup.modules.map((options) => edit(machineConfigFromResolved(options))), ...(setup.extra ?? [])]);
  for (const options of setup.modules) {
    const lines = Object.entries(setup.environment ?? {}).map(([variable, value]) => `Environment=${variable}=${value}\n`).join('');
    if (lines !== '') node.write(`/etc/systemd/system/${pullUnitName(options.machineConfigName)}.d/50-tier.conf`, `[Service]\n${lines}`);
  }
  for (const options of setup.modules) {
    push(options, setup.newImages === false ? [OLD_KERNEL, ANCIENT_KERNEL] : [OLD_KERNEL, ANCIENT_KERNEL, NEW_KERNEL]);
    node.store(options.workerImage).store(imageFor(options, OLD_KERNEL)).store(imageFor(options, ANCIENT_KERNEL));
  }
  return node;
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory()
    ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`)
    : [`${prefix}${entry.name}`]));
}

/** What our pull script said in `journal`, from `unit` (start and stop alike). */
function pullLines(journal: BootJournal, unit: string): string[] {
  return journal.entries.filter((e) => e.identifier === 'pull-kernel-module-image.sh' && e.caller === unit).map((e) => e.message);
}

/** The lines of every Day 1 pull unit of the boot that asked for a reboot. */
function day1Reboots(journal: BootJournal): string[] {
  return journal.entries.filter((e) => e.identifier === 'pull-kernel-module-image.sh' && /^rebooting \(/.test(e.message)).map((e) => e.message);
}

/**
 * The upgrade as issue #19 wants it: boot 1 (OLD_KERNEL) ends in the MCD's reboot, during whose
 * shutdown every module's image for NEW_KERNEL is pulled; boot 2 runs NEW_KERNEL with every
 * module loaded before network-pre.target, no Day 1 unit asks for a reboot, and the node powers
 * off (no third boot).
 */
function expectUpgradeInOneReboot(node: TierNode, modules: readonly ResolvedMachineConfigOptions[]): void {
  expect(node.boots.map((b) => b.exitCode)).toEqual([EXIT_REBOOT, 0]);
  const before = node.bootJournal(1);
  expect(before.entries.filter((e) => e.identifier === 'kmm-day1-tier-mcd').map((e) => e.message)).toEqual([
    expect.stringMatching(new RegExp(`^staged [0-9a-f]{64}\\.0 with kernel ${NEW_KERNEL.replace(/[.+]/g, '\\$&')} \\(running ${OLD_KERNEL.replace(/\./g, '\\.')}\\); rebooting$`)),
  ]);
  expect(day1Reboots(before)).toEqual([]);
  for (const options of modules) {
    expect(pullLines(before, pullUnitName(options.machineConfigName)).filter((line) => line.startsWith('pre-pull '))).toHaveLength(1);
  }
  const after = node.bootJournal(2);
  expectLoadedBeforeNetwork(node, 2, modules);
  expect(day1Reboots(after)).toEqual([]);
  const report = node.reportOrThrow(2);
  expect(report.loaded.sort()).toEqual(modules.map((m) => m.kernelModuleName).sort());
  for (const options of modules) {
    expect(report.workerConfigs[options.kernelModuleName]).toContain(`containerImage: '${imageFor(options, NEW_KERNEL)}'`);
    expect(pullLines(after, pullUnitName(options.machineConfigName))).toContain(
      `images ${options.workerImage} and ${imageFor(options, NEW_KERNEL)} are present; nothing to pull`);
  }
}

scenario('upgrade of a pool of two modules, their images for the new kernel in the registry: pulled at the MCD\'s shutdown, both loaded on the first boot of the new kernel before network-pre, no Day 1 reboot', () => {
  const modules = [icePeered, sfcPeered];
  const node = upgradeNode('upgrade', { modules });

  node.bootUntilPoweroff(3);

  expectUpgradeInOneReboot(node, modules);
  const before = node.bootJournal(1);
  for (const options of modules) {
    const image = imageFor(options, NEW_KERNEL);
    expect(pullLines(before, pullUnitName(options.machineConfigName))).toContain(
      `pre-pull ${options.machineConfigName}: pulled ${image}; the first boot of ${NEW_KERNEL} loads the module from ${image} before the network, without a reboot`);
  }
  // The pre-pull ran before ostree finalized the staged deployment (its unit is ordered so).
  const finalized = before.entries.find((e) => e.identifier === 'kmm-day1-tier-ostree')?.mono;
  const prePulled = before.entries.filter((e) => e.identifier === 'pull-kernel-module-image.sh' && e.message.startsWith('pre-pull ')).map((e) => e.mono);
  expect(prePulled).toHaveLength(2);
  expect(finalized).toBeGreaterThan(Math.max(...prePulled));
  // Old images: ANCIENT_KERNEL's went on the first boot (no deployment boots it); the running
  // kernel's and the rollback's (OLD_KERNEL) stay.
  expect(pullLines(before, pullUnitName(ICE))).toContain(
    `removed ${imageFor(icePeered, ANCIENT_KERNEL)}: no deployment of this node boots kernel tag ${kernelReleaseTag(ANCIENT_KERNEL)}`);
  expect(pullLines(node.bootJournal(2), pullUnitName(ICE)).filter((line) => line.startsWith('removed '))).toEqual([]);
  expect([ANCIENT_KERNEL, OLD_KERNEL, NEW_KERNEL].map((kernel) => node.hasImage(imageFor(icePeered, kernel)))).toEqual([false, true, true]);
});

scenario('upgrade without the new kernel\'s image: the shutdown names <image>:<tag>, the new kernel boots without the module, as before', () => {
  // A repository of its own: the other scenarios push the new kernel's image of ice.
  const missing = day1({ kernelModuleImage: `${HOST}/example/ice-missing-driver` });
  // Today's bounded behaviour, kept short: one pull attempt on the boot of the new kernel.
  const node = upgradeNode('upgrade-missing-image', { modules: [missing], newImages: false, environment: { KMM_DAY1_PULL_ATTEMPTS: '1' } });

  const boots = node.bootUntilPoweroff(3);

  expect(boots.map((b) => b.exitCode)).toEqual([EXIT_REBOOT, 0]);
  expect(pullLines(node.bootJournal(1), pullUnitName(ICE))).toContain(`pre-pull ${ICE}: ${imageFor(missing, NEW_KERNEL)} does not exist; nothing else changes: `
    + `the first boot of ${NEW_KERNEL} starts without this module, and its pull unit pulls the image once it exists and reboots once, as without a pre-pull`);
  const after = node.bootJournal(2);
  expect(after.entries.filter((e) => e.identifier === 'replace-kernel-module.sh').map((e) => e.message)).toContain(
    `${imageFor(missing, NEW_KERNEL)} is not in local storage; ice is not loaded on this boot (the pull unit fetches the image and reboots)`);
  expect(node.reportOrThrow(2).loaded).toEqual([]);
  expect(day1Reboots(after)).toEqual([]);
});

/** Seconds from systemd's "Stopping" of `unit` to the end of its stop job, in `journal`. */
function stopSeconds(journal: BootJournal, unit: string): number {
  const mine = journal.entries.filter((e) => e.identifier === 'systemd' && e.unit === unit);
  const start = mine.find((e) => e.message.startsWith('Stopping '))?.mono;
  const end = mine.find((e) => e.jobType === 'stop' && e.jobResult !== undefined)?.mono;
  if (start === undefined || end === undefined) throw new Error(`no stop of ${unit} in boot ${journal.bootId}:\n${journal.text(/pull-kernel/)}`);
  return (end - start) / 1e6;
}

scenario('a registry that hangs at the shutdown: the pull unit\'s stop ends within its deadline, and the new kernel boots without the module, as before', () => {
  const deadline = 30;
  let proxied: ResolvedMachineConfigOptions | undefined;
  const node = upgradeNode('upgrade-registry-hangs', (tierNode) => {
    const host = startProxy(join(tierNode.root, 'var/lib/kmm-day1-tier/registry-hangs'));
    tierNode.write('/etc/containers/registries.conf.d/60-kmm-day1-upgrade-proxy.conf', `[[registry]]\nlocation = "${host}"\ninsecure = true\n`);
    tierNode.write('/etc/kmm-day1-tier/hang-registry-at-shutdown', '');
    proxied = day1({ kernelModuleImage: `${host}/example/ice-driver`, workerImage: `${host}/kmm/worker:latest` });
    return { modules: [proxied], environment: { KMM_DAY1_PREPULL_DEADLINE: String(deadline), KMM_DAY1_PREPULL_TIMEOUT: '10' } };
  });

  const boots = node.bootUntilPoweroff(4);

  const before = node.bootJournal(1);
  const lines = pullLines(before, pullUnitName(ICE)).filter((line) => line.startsWith('pre-pull '));
  expect(lines).toEqual([expect.stringMatching(/^pre-pull 99-worker-kmm-day1-ice: \S+ not pulled \(no answer within [0-9]+s\); /)]);
  const seconds = stopSeconds(before, pullUnitName(ICE));
  expect(seconds).toBeLessThanOrEqual(deadline + 2);
  expect(seconds).toBeLessThan(PREPULL_TIMEOUT_SECONDS);
  expect(before.entries.filter((e) => e.unit === pullUnitName(ICE) && /timed out|Killing/.test(e.message))).toEqual([]);
  // The first boot of the new kernel starts without the module, as before; the rest is today's flow.
  expect(boots[0].exitCode).toBe(EXIT_REBOOT);
  expect(node.bootJournal(2).entries.filter((e) => e.identifier === 'replace-kernel-module.sh').map((e) => e.message)).toContain(
    `${imageFor(proxied!, NEW_KERNEL)} is not in local storage; ice is not loaded on this boot (the pull unit fetches the image and reboots)`);
});

scenario('mutations: without the pull unit\'s ExecStop, or with the staged kernel read wrong, the upgrade needs a Day 1 reboot and the tier says so', () => {
  const withoutStop = upgradeNode('mutant-no-prepull', {
    modules: [ice],
    edit: (mc) => withUnitEdited(mc, pullUnitName(ICE), (contents) => contents.replace(/^ExecStop=.*\n/m, '')),
  });
  const script = bootScripts().find((file) => file.path === PULL_SCRIPT_PATH)!.contents;
  const wrongKernel = script.replace('next_kernel="${kernel}"', 'next_kernel="${kernel_release}"');
  expect(wrongKernel).not.toBe(script);
  const misread = upgradeNode('mutant-staged-kernel', { modules: [ice], extra: [scriptMachineConfig('99-worker-zz-mutant', PULL_SCRIPT_PATH, wrongKernel)] });

  for (const node of [withoutStop, misread]) {
    node.bootUntilPoweroff(4);
    expect(() => expectUpgradeInOneReboot(node, [ice])).toThrow();
    // The first boot of the new kernel ran without the module and a Day 1 pull unit rebooted it.
    expect(day1Reboots(node.bootJournal(2))).toHaveLength(1);
  }
});

withShellcheck()('the upgrade stand-ins pass shellcheck', () => {
  const scripts = listFiles(UPGRADE_TREE).filter((file) => readFileSync(join(UPGRADE_TREE, file), 'utf8').startsWith('#!'))
    .map((file) => join(UPGRADE_TREE, file));
  expect(scripts.length).toBe(4);
  const result = spawnSync('shellcheck', ['--external-sources', ...scripts], { encoding: 'utf8', cwd: UPGRADE_TREE });
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
});
