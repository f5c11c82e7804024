import { load } from 'js-yaml';
import {
  FakeNode, KERNEL, moduleImage, moduleOptions, podmanCalls, pullCalls, rebootCalls, WORKER_IMAGE,
} from './harness';
import { mergeMachineConfigs, produceMachineConfig } from '../../src/machine-config';

/*
 * Whole boots, in the order systemd runs the units: the replace unit before the network,
 * then the pull unit. Runs on one FakeNode share its storage, like boots of one machine.
 * Several modules boot as a merged pool (bootPool), their pull units side by side.
 */

afterEach(() => FakeNode.cleanupAll());

const ice = moduleOptions({ firmwareFilesPath: '/firmware/ice', inTreeModulesToRemove: ['ice'] });
const MODULE = moduleImage(ice);

test('first boot: nothing loaded, images pulled, one reboot; second boot: module loaded before the network, no reboot', () => {
  const node = new FakeNode().publishModule(ice).writePullSecret();

  const first = node.boot([ice]);

  expect(first.replace[0].status).toBe(0);
  expect(first.replace[0].lines).toEqual([
    `${WORKER_IMAGE} is not in local storage; ice is not loaded on this boot (the pull unit fetches the image and reboots)`,
  ]);
  expect(node.workerRunCount()).toBe(0);
  expect(first.wait[0].status).toBe(0);
  expect(first.pull[0].status).toBe(0);
  expect(pullCalls(first.pull[0]).map((argv) => argv[argv.length - 1])).toEqual([WORKER_IMAGE, MODULE]);
  expect(first.rebooted).toBe(true);

  const second = node.boot([ice]);

  expect(second.replace[0].status).toBe(0);
  expect(second.replace[0].lines[second.replace[0].lines.length - 1]).toBe(`loaded ice from ${MODULE}`);
  expect(node.workerRunCount()).toBe(1);
  expect(load(node.workerRun(1).config)).toStrictEqual({
    containerImage: MODULE,
    modprobe: { dirName: '/opt', moduleName: 'ice', firmwarePath: '/firmware/ice' },
    inTreeModulesToRemove: ['ice'],
  });
  expect(second.pull[0].status).toBe(0);
  expect(pullCalls(second.pull[0])).toEqual([]);
  expect(rebootCalls(second.pull[0])).toEqual([]);
  expect(second.rebooted).toBe(false);
  expect(node.guard(ice)).toBeUndefined();
  expect(node.containers()).toEqual([]);

  const third = node.boot([ice]);
  expect(third.rebooted).toBe(false);
  expect(podmanCalls(third.pull[0]).every((argv) => argv[0] === 'image')).toBe(true);
  expect(node.workerRunCount()).toBe(2);
});

test('two modules on one node: they share the worker image, each pulls its own module image, ONE reboot, then both are loaded', async () => {
  const mlx = moduleOptions({
    machineConfigName: '99-worker-mlx5', kernelModuleImage: 'quay.io/example/mlx5-driver', kernelModuleName: 'mlx5_core',
  });
  const names = [ice.machineConfigName, mlx.machineConfigName];
  // As the constructs write them: each names the other as a peer, so their loads are ordered.
  const pool = mergeMachineConfigs([ice, mlx].map((options) => load(produceMachineConfig({
    machineConfigName: options.machineConfigName,
    machineConfigPoolRef: 'worker',
    kernelModuleImage: options.kernelModuleImage,
    kernelModuleName: options.kernelModuleName,
    inTreeModulesToRemove: options.inTreeModulesToRemove,
    firmwareFilesPath: options.firmwareFilesPath,
    peerMachineConfigNames: names,
  }))));
  const node = new FakeNode().publishModule(ice).publishModule(mlx).writePullSecret();

  const first = await node.bootPool(pool);
  expect(first.rebooted).toBe(true);
  // Both pull units ran side by side and pulled their module images before the one reboot.
  const beforeReboot = first.calls.slice(0, first.calls.findIndex((call) => call.tool === 'reboot'));
  const pulled = beforeReboot.filter((call) => call.tool === 'podman' && call.argv[0] === 'pull').map((call) => call.argv[call.argv.length - 1]);
  expect([...new Set(pulled)].sort()).toEqual([WORKER_IMAGE, MODULE, moduleImage(mlx)].sort());
  // Each counts the reboot in its own guard.
  expect(node.guard(ice)).toEqual([`kernel=${KERNEL} module=${MODULE} worker=${WORKER_IMAGE}`, '1', '']);
  expect(node.guard(mlx)).toEqual([`kernel=${KERNEL} module=${moduleImage(mlx)} worker=${WORKER_IMAGE}`, '1', '']);

  const second = await node.bootPool(pool);
  expect(second.rebooted).toBe(false);
  expect(second.replace.map((run) => [run.unit, run.main!.lines[run.main!.lines.length - 1]])).toEqual([
    ['99-worker-ice-replace-kernel-module.service', `loaded ice from ${MODULE}`],
    ['99-worker-mlx5-replace-kernel-module.service', `loaded mlx5_core from ${moduleImage(mlx)}`],
  ]);
  expect(second.pull.map((run) => run.result)).toEqual(['success', 'success']);
  // The pull units found everything in place and reset the guards.
  expect(node.guard(ice)).toBeUndefined();
  expect(node.guard(mlx)).toBeUndefined();
});

test('a kernel release ending in "+": the pull unit pulls the tag without it, and the replace unit loads that very image (one reboot, not a loop)', () => {
  const release = '6.8.0-rc1+';
  // Written out rather than derived: the tag both scripts must use for this release.
  const image = `${ice.kernelModuleImage}:6.8.0-rc1`;
  const node = new FakeNode(release).publishModule(ice, [release]).writePullSecret();
  expect(moduleImage(ice, release)).toBe(image);

  const first = node.boot([ice]);

  expect(pullCalls(first.pull[0]).map((argv) => argv[argv.length - 1])).toEqual([WORKER_IMAGE, image]);
  expect(first.pull[0].status).toBe(0);
  expect(first.rebooted).toBe(true);

  const second = node.boot([ice]);

  expect(second.replace[0].status).toBe(0);
  expect(second.replace[0].lines[second.replace[0].lines.length - 1]).toBe(`loaded ice from ${image}`);
  expect(load(node.workerRun(1).config)).toMatchObject({ containerImage: image });
  expect(node.workerRun(1).tmp).toContain(`opt/lib/modules/${release}/ice.ko`);
  // The pull unit looked for the same tag the replace unit used: present, so nothing pulled, no reboot.
  expect(podmanCalls(second.pull[0])).toEqual([['image', 'exists', WORKER_IMAGE], ['image', 'exists', image]]);
  expect(second.rebooted).toBe(false);
});
