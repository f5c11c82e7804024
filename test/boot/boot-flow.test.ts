import { load } from 'js-yaml';
import {
  FakeNode, moduleImage, moduleOptions, podmanCalls, pullCalls, rebootCalls, WORKER_IMAGE,
} from './harness';

/*
 * Whole boots, in the order systemd runs the units: the replace unit before the network,
 * then the pull unit. Runs on one FakeNode share its storage, like boots of one machine.
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

test('two modules on one node: they share the worker image, each pulls its own module image, both end up loaded', () => {
  const mlx = moduleOptions({
    machineConfigName: '99-worker-mlx5', kernelModuleImage: 'quay.io/example/mlx5-driver', kernelModuleName: 'mlx5_core',
  });
  const node = new FakeNode().publishModule(ice).publishModule(mlx).writePullSecret();

  const first = node.boot([ice, mlx]);
  expect(first.rebooted).toBe(true);
  // The reboot ends the boot before the second pull unit gets to run.
  expect(first.pull).toHaveLength(1);
  expect(pullCalls(first.pull[0]).map((argv) => argv[argv.length - 1])).toEqual([WORKER_IMAGE, MODULE]);

  const second = node.boot([ice, mlx]);
  expect(second.replace.map((run) => run.status)).toEqual([0, 0]);
  expect(node.workerRunCount()).toBe(1);
  expect(second.rebooted).toBe(true);
  expect(pullCalls(second.pull[1]).map((argv) => argv[argv.length - 1])).toEqual([moduleImage(mlx)]);

  const third = node.boot([ice, mlx]);
  expect(third.rebooted).toBe(false);
  expect(third.replace.map((run) => run.lines[run.lines.length - 1])).toEqual([
    `loaded ice from ${MODULE}`,
    `loaded mlx5_core from ${moduleImage(mlx)}`,
  ]);
  expect(node.guard(ice)).toBeUndefined();
  expect(node.guard(mlx)).toBeUndefined();
});
