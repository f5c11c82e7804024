import { createHash } from 'crypto';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import {
  Call, FakeNode, KERNEL, moduleImage, moduleOptions, NEXT_KERNEL, pullCalls, rebootCalls, sleeps, WORKER_IMAGE,
} from './harness';

/*
 * pull-kernel-module-image.sh: pulls what is missing with retries, reboots once, and stops
 * rebooting when reboots do not make the images stay.
 */

afterEach(() => FakeNode.cleanupAll());

const ice = moduleOptions();
const MODULE = moduleImage(ice);
const KEY = `kernel=${KERNEL} module=${MODULE} worker=${WORKER_IMAGE}`;

function exists(image: string): Call {
  return { tool: 'podman', argv: ['image', 'exists', image] };
}

function pull(node: FakeNode, image: string): Call {
  return { tool: 'podman', argv: ['pull', '--quiet', '--authfile', node.pullSecret, image] };
}

function readyNode(): FakeNode {
  return new FakeNode().publishModule(ice).writePullSecret();
}

test('missing images: pulls both with the node pull secret, records the reboot, reboots once', () => {
  const node = readyNode();

  const run = node.run('pull', ice);

  expect(run.status).toBe(0);
  expect(run.stderr).toBe('');
  expect(run.calls).toEqual([
    { tool: 'uname', argv: ['-r'] },
    exists(WORKER_IMAGE),
    exists(MODULE),
    pull(node, WORKER_IMAGE),
    exists(WORKER_IMAGE),
    pull(node, MODULE),
    exists(MODULE),
    // No other Day 1 pull unit on this node to wait for.
    { tool: 'systemctl', argv: ['list-units', '--all', '--plain', '--no-legend', '*-pull-kernel-module-image.service'] },
    { tool: 'systemctl', argv: ['list-jobs', '--no-legend', '*-pull-kernel-module-image.service'] },
    { tool: 'sync', argv: [] },
    { tool: 'reboot', argv: [] },
  ]);
  expect(run.lines).toEqual([
    `not in local storage: ${WORKER_IMAGE} ${MODULE}; pulling them, then rebooting (0 reboots so far for ${KEY})`,
    `pulled ${WORKER_IMAGE} (attempt 1/5)`,
    `pulled ${MODULE} (attempt 1/5)`,
    `rebooting (1/3) so that the kernel module is loaded from ${MODULE} before the network starts`,
  ]);
  expect(node.guard(ice)).toEqual([KEY, '1', '']);
  expect(node.hasImage(WORKER_IMAGE) && node.hasImage(MODULE)).toBe(true);
});

test('steady state: both images present, so no pull, no reboot, and a stale reboot guard is reset', () => {
  const node = readyNode().store(WORKER_IMAGE).store(MODULE).writeGuard(ice, `${KEY}\n2\n`);

  const run = node.run('pull', ice);

  expect(run.status).toBe(0);
  expect(run.calls).toEqual([{ tool: 'uname', argv: ['-r'] }, exists(WORKER_IMAGE), exists(MODULE)]);
  expect(run.lines).toEqual([`images ${WORKER_IMAGE} and ${MODULE} are present; nothing to pull`]);
  expect(node.guard(ice)).toBeUndefined();
});

test('registry down: every attempt fails, back-off doubles, exits non-zero without rebooting', () => {
  const node = readyNode().failPulls(1000);

  const run = node.run('pull', ice);

  expect(run.status).toBe(1);
  expect(pullCalls(run)).toEqual(Array(5).fill(pull(node, WORKER_IMAGE).argv));
  expect(sleeps(run)).toEqual([10, 20, 40, 80]);
  expect(rebootCalls(run)).toEqual([]);
  expect(run.calls.filter((call) => call.tool === 'sync')).toEqual([]);
  const refused = `initializing source docker://${WORKER_IMAGE}: pinging container registry quay.io: `
    + 'Get "https://quay.io/v2/": dial tcp: connect: connection refused';
  expect(run.lines).toEqual([
    `not in local storage: ${WORKER_IMAGE} ${MODULE}; pulling them, then rebooting (0 reboots so far for ${KEY})`,
    `pull of ${WORKER_IMAGE} failed (attempt 1/5): Error: ${refused}`,
    `retrying ${WORKER_IMAGE} in 10s`,
    `pull of ${WORKER_IMAGE} failed (attempt 2/5): Error: ${refused}`,
    `retrying ${WORKER_IMAGE} in 20s`,
    `pull of ${WORKER_IMAGE} failed (attempt 3/5): Error: ${refused}`,
    `retrying ${WORKER_IMAGE} in 40s`,
    `pull of ${WORKER_IMAGE} failed (attempt 4/5): Error: ${refused}`,
    `retrying ${WORKER_IMAGE} in 80s`,
    `pull of ${WORKER_IMAGE} failed (attempt 5/5): Error: ${refused}`,
    `giving up on ${WORKER_IMAGE} after 5 attempts; not rebooting, the next boot tries again`,
  ]);
  expect(node.guard(ice)).toBeUndefined();
  expect(node.pullsLeftToFail()).toBe(995);
});

test('transient registry error: retried with back-off, then pulled and rebooted once', () => {
  const node = readyNode().failPulls(2);

  const run = node.run('pull', ice);

  expect(run.status).toBe(0);
  expect(pullCalls(run)).toEqual([
    pull(node, WORKER_IMAGE).argv, pull(node, WORKER_IMAGE).argv, pull(node, WORKER_IMAGE).argv, pull(node, MODULE).argv,
  ]);
  expect(sleeps(run)).toEqual([10, 20]);
  expect(rebootCalls(run)).toHaveLength(1);
  expect(run.lines.filter((line) => line.startsWith('pulled '))).toEqual([
    `pulled ${WORKER_IMAGE} (attempt 3/5)`,
    `pulled ${MODULE} (attempt 1/5)`,
  ]);
  expect(node.guard(ice)).toEqual([KEY, '1', '']);
});

test('a pull that hangs is cut off by the per-attempt timeout and retried', () => {
  const node = readyNode().hangPulls(1);

  const started = Date.now();
  const run = node.run('pull', ice, { KMM_DAY1_PULL_TIMEOUT: '1' });

  expect(Date.now() - started).toBeLessThan(5_000);
  expect(run.status).toBe(0);
  expect(run.lines).toContain(`pull of ${WORKER_IMAGE} failed (attempt 1/5): no answer within 1s`);
  expect(run.lines).toContain(`pulled ${WORKER_IMAGE} (attempt 2/5)`);
  expect(sleeps(run)).toEqual([10]);
  expect(rebootCalls(run)).toHaveLength(1);
});

test('pull reports success but the image never appears in storage: no reboot, non-zero', () => {
  const node = readyNode().phantomPulls([MODULE]);

  const run = node.run('pull', ice);

  expect(run.status).toBe(1);
  expect(pullCalls(run)).toEqual([pull(node, WORKER_IMAGE).argv, ...Array(5).fill(pull(node, MODULE).argv)]);
  expect(run.lines.filter((line) => line.startsWith(`pull of ${MODULE}`))).toEqual([1, 2, 3, 4, 5].map(
    (n) => `pull of ${MODULE} failed (attempt ${n}/5): the pull reported success but the image is not in local storage`,
  ));
  expect(run.lines[run.lines.length - 1]).toBe(`giving up on ${MODULE} after 5 attempts; not rebooting, the next boot tries again`);
  expect(rebootCalls(run)).toEqual([]);
  expect(node.guard(ice)).toBeUndefined();
  expect(node.hasImage(MODULE)).toBe(false);
});

test('no pull secret on the node: pulls without --authfile and says so', () => {
  const node = new FakeNode().publishModule(ice);

  const run = node.run('pull', ice);

  expect(run.status).toBe(0);
  expect(pullCalls(run)).toEqual([['pull', '--quiet', WORKER_IMAGE], ['pull', '--quiet', MODULE]]);
  expect(run.lines[1]).toBe(`pull secret ${node.pullSecret} not found; pulling without credentials`);
});

test('images that vanish at every reboot: stops rebooting after 3, says why; a later success resets the guard', () => {
  const node = readyNode();

  for (let reboot = 1; reboot <= 3; reboot++) {
    const boot = node.boot([ice]);
    expect(boot.rebooted).toBe(true);
    expect(boot.pull[0].lines[boot.pull[0].lines.length - 1]).toBe(
      `rebooting (${reboot}/3) so that the kernel module is loaded from ${MODULE} before the network starts`);
    expect(node.guard(ice)).toEqual([KEY, String(reboot), '']);
    node.wipeStorage();
  }

  for (let stuck = 0; stuck < 2; stuck++) {
    const boot = node.boot([ice]);
    expect(boot.rebooted).toBe(false);
    expect(boot.pull[0].status).toBe(1);
    expect(pullCalls(boot.pull[0])).toEqual([]);
    expect(boot.pull[0].lines).toEqual([
      `not rebooting: 3 reboots after pulling did not leave ${WORKER_IMAGE} ${MODULE} in local storage (${KEY}); `
      + `check that nothing wipes /var/lib/containers at boot, then remove ${node.guardFile(ice)} to try again`,
    ]);
    expect(node.guard(ice)).toEqual([KEY, '3', '']);
  }

  // Someone fixed what wiped the storage and pulled the images by hand.
  node.store(WORKER_IMAGE).store(MODULE);
  const healed = node.boot([ice]);
  expect(healed.replace[0].lines[healed.replace[0].lines.length - 1]).toBe(`loaded ice from ${MODULE}`);
  expect(healed.pull[0].status).toBe(0);
  expect(healed.rebooted).toBe(false);
  expect(node.guard(ice)).toBeUndefined();

  // A new episode gets its full allowance again.
  node.wipeStorage();
  const again = node.boot([ice]);
  expect(again.rebooted).toBe(true);
  expect(node.guard(ice)).toEqual([KEY, '1', '']);
});

test('kernel upgrade: the new kernel release is the new tag and the reboot guard starts over', () => {
  const node = new FakeNode().publishModule(ice, [KERNEL, NEXT_KERNEL]).writePullSecret();
  for (let reboot = 1; reboot <= 3; reboot++) {
    expect(node.boot([ice]).rebooted).toBe(true);
    node.wipeStorage();
  }
  expect(node.boot([ice]).rebooted).toBe(false);

  node.kernel = NEXT_KERNEL;
  const upgraded = node.boot([ice]);

  const nextModule = moduleImage(ice, NEXT_KERNEL);
  const nextKey = `kernel=${NEXT_KERNEL} module=${nextModule} worker=${WORKER_IMAGE}`;
  expect(upgraded.replace[0].calls.filter((call) => call.tool === 'podman')).toEqual([exists(WORKER_IMAGE)]);
  expect(upgraded.rebooted).toBe(true);
  expect(pullCalls(upgraded.pull[0])).toEqual([pull(node, WORKER_IMAGE).argv, pull(node, nextModule).argv]);
  expect(node.guard(ice)).toEqual([nextKey, '1', '']);

  const next = node.boot([ice]);
  expect(next.replace[0].status).toBe(0);
  expect(next.replace[0].lines[next.replace[0].lines.length - 1]).toBe(`loaded ice from ${nextModule}`);
  expect(next.rebooted).toBe(false);
  expect(node.guard(ice)).toBeUndefined();
});

test('kernel upgrade on a healthy node: only the module image for the new kernel is pulled', () => {
  const node = new FakeNode().publishModule(ice, [KERNEL, NEXT_KERNEL]).writePullSecret().store(WORKER_IMAGE).store(MODULE);
  node.kernel = NEXT_KERNEL;

  const run = node.run('pull', ice);

  expect(run.status).toBe(0);
  expect(pullCalls(run)).toEqual([pull(node, moduleImage(ice, NEXT_KERNEL)).argv]);
  expect(rebootCalls(run)).toHaveLength(1);
});

test('a reboot guard for another kernel or image, or one that is garbage, counts as no reboots', () => {
  for (const contents of ['garbage\nnot a number\n', `kernel=${KERNEL} module=${MODULE} worker=other:1\n3\n`, '']) {
    const node = readyNode().writeGuard(ice, contents);

    const run = node.run('pull', ice);

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(rebootCalls(run)).toHaveLength(1);
    expect(node.guard(ice)).toEqual([KEY, '1', '']);
  }
});

test('a reboot count with a leading zero is read as decimal, not octal', () => {
  const node = readyNode().writeGuard(ice, `${KEY}\n08\n`);

  const run = node.run('pull', ice);

  expect(run.stderr).toBe('');
  expect(run.status).toBe(1);
  expect(run.lines[0]).toMatch(/^not rebooting: 8 reboots after pulling /);
  expect(pullCalls(run)).toEqual([]);
});

test('a tuning value that is not a positive integer is refused before anything runs', () => {
  const node = readyNode();
  const marker = join(node.root, 'pwned');

  const run = node.run('pull', ice, { KMM_DAY1_MAX_REBOOTS: `a[$(echo > ${marker})]` });

  expect(run.status).toBe(2);
  expect(run.stderr).toMatch(/^max_reboots must be a positive integer, got a\\\[/);
  expect(run.calls).toEqual([]);
  expect(existsSync(marker)).toBe(false);
});

describe('the units of every interface', () => {
  test('the KMM operator\'s pull unit: pulls, keeps its reboot guard under kmm-image-<sha256 of the image>, never writes KERNEL_MODULE_IMAGE_FILEPATH', () => {
    const node = readyNode();
    const id = `kmm-image-${createHash('sha256').update(ice.kernelModuleImage).digest('hex').slice(0, 16)}`;

    const run = node.runWithUnitEnvironment('pull', {
      KERNEL_MODULE_IMAGE: ice.kernelModuleImage, KERNEL_MODULE_IMAGE_FILEPATH: '/var/lib/image_file_day1.tar', WORKER_IMAGE,
    });

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(pullCalls(run)).toEqual([pull(node, WORKER_IMAGE).argv, pull(node, MODULE).argv]);
    expect(rebootCalls(run)).toHaveLength(1);
    expect(readFileSync(join(node.root, 'var/lib/kmm-day1', id, 'reboot-guard'), 'utf8')).toBe(`${KEY}\n1\n`);
    expect(existsSync(join(node.root, 'var/lib/image_file_day1.tar'))).toBe(false);
  });

  test('the first release\'s pull unit (MACHINE_CONFIG_NAME, no KMM_DAY1_INTERFACE): same state as ours', () => {
    const node = readyNode();
    const { KMM_DAY1_INTERFACE: _, KERNEL_MODULE_IMAGE_FILEPATH: __, ...v1 } = node.env('pull', ice);

    const run = node.runWithUnitEnvironment('pull', v1);

    expect(run.status).toBe(0);
    expect(node.guard(ice)).toEqual([KEY, '1', '']);
  });

  test('it records "reboot wanted" under /run/kmm-day1 before it reboots', () => {
    const node = readyNode();

    node.run('pull', ice);

    // Next to modules/, what the pre-pull at shutdown reads.
    const markers = readdirSync(join(node.root, 'run/kmm-day1')).filter((name) => name !== 'modules');
    expect(markers).toHaveLength(1);
    expect(markers[0]).toMatch(/^reboot-wanted\.[1-9][0-9]*$/);
    expect(readFileSync(join(node.root, 'run/kmm-day1', markers[0]), 'utf8')).toBe(`${ice.machineConfigName}\n`);
  });
});

test.each(['KMM_DAY1_REBOOT_WAIT', 'KMM_DAY1_REBOOT_INTERVAL'])('%s must be a positive integer too', (name) => {
  const node = readyNode();

  const run = node.run('pull', ice, { [name]: '1; reboot' });

  expect(run.status).toBe(2);
  expect(run.stderr).toMatch(/must be a positive integer, got /);
  expect(run.calls).toEqual([]);
});
