import { readFileSync } from 'fs';
import {
  FakeNode, KERNEL, moduleImage, moduleOptions, NEXT_KERNEL, pullCalls, rebootCalls, RunResult, SCRIPTS, WORKER_IMAGE,
} from './harness';
import { PREPULL_TIMEOUT_SECONDS } from '../../src/boot';

/*
 * Cluster upgrades, one script at a time: the pull unit's ExecStop (the pull script with
 * --next-kernel) pre-pulls the images of the staged deployment's kernel at shutdown, bounded;
 * the first boot of that kernel then loads the module without a reboot. And the images of
 * kernels no deployment boots any more are removed.
 */

afterEach(() => FakeNode.cleanupAll());

const ice = moduleOptions({ machineConfigName: '99-worker-ice' });
const K1 = moduleImage(ice, KERNEL);
const K2 = moduleImage(ice, NEXT_KERNEL);
const OLD_KERNEL = '5.14.0-162.6.1.el9_1.x86_64';
const K0 = moduleImage(ice, OLD_KERNEL);

/** A node running KERNEL with the module loaded (both images stored); the registry also serves the image for NEXT_KERNEL. */
function runningNode(): FakeNode {
  return new FakeNode().publishModule(ice, [KERNEL, NEXT_KERNEL]).store(WORKER_IMAGE).store(K1).writePullSecret();
}

function pulled(run: RunResult): string[] {
  return pullCalls(run).map((argv) => argv[argv.length - 1]);
}

/** Lines of the run about modules (one per module handled). */
function moduleLines(run: RunResult): string[] {
  return run.lines.filter((line) => line.startsWith('pre-pull '));
}

describe('at shutdown (ExecStop: pull-kernel-module-image.sh --next-kernel)', () => {
  test.each(['staged', 'pending'] as const)('a %s deployment with another kernel: pulls <image>:<its tag>, says so in one line, changes nothing else', (flag) => {
    const node = runningNode().stage(NEXT_KERNEL, flag);

    const run = node.runStop(ice);

    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(pulled(run)).toEqual([K2]);
    expect(run.lines[0]).toMatch(new RegExp(`^the next deployment \\(.*\\(${flag}\\)\\) boots kernel ${NEXT_KERNEL.replace(/\./g, '\\.')}, not the running ${KERNEL.replace(/\./g, '\\.')}: pre-pulling the images tagged `));
    expect(moduleLines(run)).toEqual([
      `pre-pull ${ice.machineConfigName}: pulled ${K2}; the first boot of ${NEXT_KERNEL} loads the module from ${K2} before the network, without a reboot`,
    ]);
    expect(rebootCalls(run)).toEqual([]);
    expect(node.guard(ice)).toBeUndefined();
    expect(node.storedImages()).toEqual([WORKER_IMAGE, K1, K2].sort());
  });

  test('then the first boot of the new kernel loads the module before the network and the pull unit neither pulls nor reboots', () => {
    const node = runningNode().stage(NEXT_KERNEL);
    node.runStop(ice);

    // The reboot: uname follows the booted deployment; the old one is the rollback.
    node.kernel = NEXT_KERNEL;
    node.deployments([{ kernel: NEXT_KERNEL, booted: true }, { kernel: KERNEL, flag: 'rollback' }]);
    const boot = node.boot([ice]);

    expect(boot.replace[0].lines[boot.replace[0].lines.length - 1]).toBe(`loaded ice from ${K2}`);
    expect(node.workerRun(1).config).toContain(`containerImage: '${K2}'`);
    expect(pulled(boot.pull[0])).toEqual([]);
    expect(rebootCalls(boot.pull[0])).toEqual([]);
    expect(boot.rebooted).toBe(false);
    // The rollback deployment still boots KERNEL: its image stays.
    expect(node.storedImages()).toEqual([WORKER_IMAGE, K1, K2].sort());
  });

  test('without the pre-pull (the mutation the real-systemd tier also catches), the first boot of the new kernel has no module and reboots', () => {
    const node = runningNode();
    node.kernel = NEXT_KERNEL;

    const boot = node.boot([ice]);

    expect(boot.replace[0].lines).toEqual([`${K2} is not in local storage; ice is not loaded on this boot (the pull unit fetches the image and reboots)`]);
    expect(boot.rebooted).toBe(true);
  });

  test('the next deployment boots the running kernel: nothing pulled', () => {
    const node = runningNode().stage(KERNEL);

    const run = node.runStop(ice);

    expect(run.status).toBe(0);
    expect(pulled(run)).toEqual([]);
    expect(run.lines).toEqual([expect.stringMatching(new RegExp(`^the next deployment \\(.*\\(staged\\)\\) boots the running kernel ${KERNEL.replace(/\./g, '\\.')}: nothing to pre-pull$`))]);
  });

  test.each([
    ['no staged or pending deployment (a plain reboot)', (node: FakeNode) => node.deployments([{ kernel: KERNEL, booted: true }, { kernel: OLD_KERNEL, flag: 'rollback' }]),
      'no staged or pending deployment: nothing to pre-pull'],
    ['no ostree on the node', (_: FakeNode) => undefined, 'no pre-pull for the next kernel: ostree is not installed'],
    ['ostree admin status fails', (node: FakeNode) => node.stage(NEXT_KERNEL).ostreeFails(1),
      'no pre-pull for the next kernel: ostree admin status failed with status 1: error: opening sysroot: fake failure'],
  ])('%s: nothing pulled, one line', (_, setUp, line) => {
    const node = runningNode();
    setUp(node);

    const run = node.runStop(ice);

    expect(run.status).toBe(0);
    expect(run.lines).toEqual([line]);
    expect(run.calls.filter((call) => call.tool === 'podman')).toEqual([]);
  });

  test('the staged tree has no readable kernel: nothing pulled, the line says why', () => {
    const node = runningNode().deployments([{ kernel: NEXT_KERNEL, flag: 'staged', vmlinuz: false }, { kernel: KERNEL, booted: true }]);

    const run = node.runStop(ice);

    expect(run.status).toBe(0);
    expect(pulled(run)).toEqual([]);
    expect(run.lines).toEqual([expect.stringMatching(/^no pre-pull: the kernel of the next deployment \(.*\(staged\)\) cannot be read: .*usr\/lib\/modules holds 0 kernels with a vmlinuz, not one; the next boot behaves as without a pre-pull$/)]);
  });

  test('the image for the next kernel does not exist: the line names <image>:<tag> and what the next boot does; nothing else changes', () => {
    const node = new FakeNode().publishModule(ice, [KERNEL]).store(WORKER_IMAGE).store(K1).writePullSecret().stage(NEXT_KERNEL);

    const run = node.runStop(ice);

    expect(run.status).toBe(0);
    expect(pulled(run)).toEqual([K2]);
    expect(moduleLines(run)).toEqual([
      `pre-pull ${ice.machineConfigName}: ${K2} does not exist; nothing else changes: the first boot of ${NEXT_KERNEL} starts without this module, `
      + 'and its pull unit pulls the image once it exists and reboots once, as without a pre-pull',
    ]);
    expect(rebootCalls(run)).toEqual([]);
    expect(node.guard(ice)).toBeUndefined();

    // The next boot behaves as today: no module, the pull unit retries (bounded) and gives up without a reboot.
    node.kernel = NEXT_KERNEL;
    const boot = node.boot([ice]);
    expect(boot.replace[0].lines).toEqual([`${K2} is not in local storage; ice is not loaded on this boot (the pull unit fetches the image and reboots)`]);
    expect(boot.pull[0].status).toBe(1);
    expect(boot.rebooted).toBe(false);
  });

  test('the worker image is gone too: both are pulled', () => {
    const node = new FakeNode().publishModule(ice, [KERNEL, NEXT_KERNEL]).store(K1).writePullSecret().stage(NEXT_KERNEL);

    const run = node.runStop(ice);

    expect(pulled(run)).toEqual([WORKER_IMAGE, K2]);
    expect(moduleLines(run)).toEqual([
      `pre-pull ${ice.machineConfigName}: pulled ${WORKER_IMAGE} ${K2}; the first boot of ${NEXT_KERNEL} loads the module from ${K2} before the network, without a reboot`,
    ]);
  });

  test('a registry that hangs: each attempt is killed at its bound, and the whole run ends within its deadline, with one line', () => {
    const node = runningNode();
    // The boot's own run recorded the module: the stop must not take it up a second time.
    expect(node.run('pull', ice).status).toBe(0);
    node.stage(NEXT_KERNEL).hangPulls(100);

    const started = Date.now();
    const run = node.runStop(ice, { KMM_DAY1_PREPULL_DEADLINE: '9', KMM_DAY1_PREPULL_TIMEOUT: '2' });
    const seconds = (Date.now() - started) / 1000;

    expect(run.status).toBe(0);
    expect(seconds).toBeLessThan(9);
    expect(moduleLines(run)).toEqual([
      `pre-pull ${ice.machineConfigName}: ${K2} not pulled (no answer within 2s); the first boot of ${NEXT_KERNEL} starts without this module, `
      + 'and its pull unit pulls the image and reboots once, as without a pre-pull',
    ]);
    expect(node.hasImage(K2)).toBe(false);
  });

  test('a module pulled once is not pulled again by a later stop in the same boot; one that failed is tried again', () => {
    const node = runningNode().stage(NEXT_KERNEL).failPulls(2);

    const failed = node.runStop(ice);
    const retried = node.runStop(ice);
    const third = node.runStop(ice);

    expect(moduleLines(failed)).toEqual([expect.stringContaining(`${K2} not pulled (`)]);
    expect(pulled(retried)).toEqual([K2]);
    expect(node.hasImage(K2)).toBe(true);
    expect(pulled(third)).toEqual([]);
    expect(moduleLines(third)).toEqual([]);
  });

  test('a registry that fails for a moment: retried once within the budget', () => {
    const node = runningNode().stage(NEXT_KERNEL).failPulls(1);

    const run = node.runStop(ice);

    expect(pulled(run)).toEqual([K2, K2]);
    expect(run.calls.filter((call) => call.tool === 'sleep').map((call) => call.argv)).toEqual([['5']]);
    expect(node.hasImage(K2)).toBe(true);
  });

  test('the default bounds keep the whole run inside the unit\'s TimeoutStopSec', () => {
    const script = readFileSync(SCRIPTS.pull, 'utf8');
    const setting = (name: string) => Number(new RegExp(`^${name}="\\$\\{KMM_DAY1_[A-Z_]+:-([0-9]+)\\}"$`, 'm').exec(script)![1]);
    const killAfter = Number(/^kill_after=([0-9]+)$/m.exec(script)![1]);
    // The last attempt gets SIGKILL at the deadline at the latest; what follows is one podman image exists and a log line.
    expect(setting('prepull_deadline') + killAfter).toBeLessThan(PREPULL_TIMEOUT_SECONDS);
    expect(setting('prepull_timeout') + killAfter).toBeLessThanOrEqual(setting('prepull_deadline'));
  });

  test('modules whose pull units ran this script at boot without a pre-pull of their own (KMM operator, interface 1) are pre-pulled too, each once', () => {
    const sfc = moduleOptions({ machineConfigName: '99-worker-sfc', kernelModuleImage: 'quay.io/example/sfc-driver', kernelModuleName: 'sfc' });
    const mlxImage = 'quay.io/example/mlx5-driver';
    const node = runningNode().publishModule(sfc, [KERNEL, NEXT_KERNEL]).store(moduleImage(sfc))
      .publishModule({ kernelModuleImage: mlxImage, kernelModuleName: 'mlx5_core', workerImage: WORKER_IMAGE }, [KERNEL, NEXT_KERNEL])
      .store(`${mlxImage}:${KERNEL}`);
    // The boot: the KMM operator's and interface 1's pull units call our script, which records them.
    const { KMM_DAY1_INTERFACE: _, KERNEL_MODULE_IMAGE_FILEPATH: __, ...v1 } = node.env('pull', sfc);
    expect(node.runWithUnitEnvironment('pull', v1).status).toBe(0);
    expect(node.runWithUnitEnvironment('pull', { KERNEL_MODULE_IMAGE: mlxImage, KERNEL_MODULE_IMAGE_FILEPATH: '/var/lib/image_file_day1.tar', WORKER_IMAGE }).status).toBe(0);
    expect(node.run('pull', ice).status).toBe(0);
    node.stage(NEXT_KERNEL);

    const first = node.runStop(ice);
    // A second unit of ours stopping at the same time finds every module claimed.
    const second = node.runStop(moduleOptions({ machineConfigName: '99-worker-zz', kernelModuleImage: 'quay.io/example/zz-driver', kernelModuleName: 'zz' }), {});

    expect(pulled(first).sort()).toEqual([K2, moduleImage(sfc, NEXT_KERNEL), `${mlxImage}:${NEXT_KERNEL}`].sort());
    expect(moduleLines(first)).toEqual([
      expect.stringMatching(new RegExp(`^pre-pull ${ice.machineConfigName}: pulled ${K2.replace(/\./g, '\\.')};`)),
      expect.stringMatching(/^pre-pull 99-worker-sfc: pulled quay\.io\/example\/sfc-driver:/),
      expect.stringMatching(/^pre-pull kmm-image-[0-9a-f]{16} \(KMM operator's units\): pulled quay\.io\/example\/mlx5-driver:/),
    ]);
    expect(pulled(second)).toEqual(['quay.io/example/zz-driver:5.14.0-427.13.1.el9_4.x86_64']);
    expect(moduleLines(second)).toHaveLength(1);
  });

  test('an argument other than --next-kernel is refused before anything runs', () => {
    const node = runningNode();

    const run = node.runWithUnitEnvironment('pull', node.env('pull', ice), {}, ['--next']);

    expect(run.status).toBe(2);
    expect(run.stderr).toBe('usage: pull-kernel-module-image.sh [--next-kernel]\n');
    expect(run.calls).toEqual([]);
  });
});

describe('old images: on a boot with both images present, the module images no deployment boots are removed', () => {
  function nodeWithHistory(): FakeNode {
    const other = moduleOptions({ machineConfigName: '99-worker-other', kernelModuleImage: 'quay.io/example/ice-driver-other' });
    return runningNode().publishModule(ice, [OLD_KERNEL]).store(K0).store(K2)
      .publishModule(other, [OLD_KERNEL]).store(moduleImage(other, OLD_KERNEL));
  }

  test('keeps the running kernel\'s, the staged one\'s and the rollback\'s; removes the rest of this module\'s only', () => {
    const node = nodeWithHistory().deployments([
      { kernel: NEXT_KERNEL, flag: 'staged' }, { kernel: KERNEL, booted: true },
    ]);

    const run = node.run('pull', ice);

    expect(run.status).toBe(0);
    expect(run.lines).toEqual([
      `images ${WORKER_IMAGE} and ${K1} are present; nothing to pull`,
      `removed ${K0}: no deployment of this node boots kernel tag ${OLD_KERNEL}`,
    ]);
    expect(node.storedImages()).toEqual([WORKER_IMAGE, K1, K2, `quay.io/example/ice-driver-other:${OLD_KERNEL}`].sort());
    expect(rebootCalls(run)).toEqual([]);
  });

  test('the rollback deployment\'s kernel is kept', () => {
    const node = nodeWithHistory().deployments([{ kernel: KERNEL, booted: true }, { kernel: OLD_KERNEL, flag: 'rollback' }]);

    const run = node.run('pull', ice);

    expect(run.lines.filter((line) => line.startsWith('removed '))).toEqual([`removed ${K2}: no deployment of this node boots kernel tag ${NEXT_KERNEL}`]);
    expect(node.hasImage(K0)).toBe(true);
  });

  test.each([
    ['without ostree, nothing is removed and nothing said', (_: FakeNode) => undefined, []],
    ['a deployment whose kernel cannot be read: everything is kept, and said', (node: FakeNode) => node.deployments([
      { kernel: NEXT_KERNEL, flag: 'staged', vmlinuz: false }, { kernel: KERNEL, booted: true },
    ]), [expect.stringMatching(/^keeping every image of quay\.io\/example\/ice-driver: .*holds 0 kernels with a vmlinuz, not one$/)]],
    ['ostree fails: everything is kept, and said', (node: FakeNode) => node.stage(NEXT_KERNEL).ostreeFails(1),
      ['keeping every image of quay.io/example/ice-driver: ostree admin status failed with status 1: error: opening sysroot: fake failure']],
  ])('%s', (_, setUp, lines) => {
    const node = nodeWithHistory();
    setUp(node);
    const before = node.storedImages();

    const run = node.run('pull', ice);

    expect(run.lines.slice(1)).toEqual(lines);
    expect(node.storedImages()).toEqual(before);
  });

  test('an image a container still uses is left for the next boot', () => {
    const node = nodeWithHistory().leaveContainer('leftover', K0).deployments([{ kernel: KERNEL, booted: true }]);

    const run = node.run('pull', ice);

    expect(run.lines).toContain(`could not remove ${K0} (in use?); the next boot tries again`);
    expect(node.hasImage(K0)).toBe(true);
    expect(node.hasImage(K2)).toBe(false);
  });
});
