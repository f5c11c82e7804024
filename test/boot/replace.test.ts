import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { load } from 'js-yaml';
import {
  FakeNode, KERNEL, moduleImage, moduleImageFiles, moduleOptions, podmanCalls, RunResult, WORKER_IMAGE, writeTree,
} from './harness';
import { ValidatedMachineConfigOptions } from '../../src/validation';

/*
 * replace-kernel-module.sh: with both images in storage it drives the KMM worker exactly as
 * the worker contract says, and leaves no container or scratch directory behind.
 */

afterEach(() => FakeNode.cleanupAll());

const ice = moduleOptions({ inTreeModulesToRemove: ['ice', 'irdma'] });
const iceWithFirmware = moduleOptions({ firmwareFilesPath: '/firmware/ice', inTreeModulesToRemove: ['ice', 'irdma'] });

function nodeWithImages(...modules: ValidatedMachineConfigOptions[]): FakeNode {
  const node = new FakeNode();
  for (const options of modules) {
    node.publishModule(options).store(options.workerImage).store(moduleImage(options));
  }
  return node;
}

function names(options: ValidatedMachineConfigOptions): { copy: string; worker: string } {
  return { copy: `kmm-day1-${options.machineConfigName}-copy`, worker: `kmm-day1-${options.machineConfigName}-worker` };
}

function cleanupCall(options: ValidatedMachineConfigOptions): string[] {
  return ['rm', '--force', '--ignore', names(options).copy, names(options).worker];
}

/** The podman run that starts the worker, as the contract requires it. */
function workerRun(node: FakeNode, options: ValidatedMachineConfigOptions): string[] {
  const state = node.stateDir(options);
  const firmware = options.firmwareFilesPath !== undefined;
  return [
    'run', '--rm', '--pull=never', '--name', names(options).worker, '--privileged', '--user', 'root', '--network', 'none',
    '--volume', `${state}/worker-tmp:/tmp`,
    '--volume', `${state}/worker-config.yaml:/etc/kmm-worker/config.yaml:ro`,
    '--volume', `${node.root}/lib/modules:/lib/modules:ro`,
    ...(firmware ? ['--volume', `${node.root}/var/lib/firmware:/var/lib/firmware`] : []),
    options.workerImage, 'kmod', 'load', '/etc/kmm-worker/config.yaml',
    ...(firmware ? ['--firmware-path', '/var/lib/firmware'] : []),
  ];
}

function expectCleanedUp(node: FakeNode, options: ValidatedMachineConfigOptions, run: RunResult): void {
  const podman = podmanCalls(run);
  expect(podman[podman.length - 1]).toEqual(cleanupCall(options));
  expect(node.containers()).toEqual([]);
  expect(existsSync(join(node.stateDir(options), 'worker-tmp'))).toBe(false);
}

test('load with firmware: worker config, module tree and firmware under /tmp, firmware flag and mount', () => {
  const node = nodeWithImages(iceWithFirmware);
  const image = moduleImage(iceWithFirmware);

  const run = node.run('replace', iceWithFirmware);

  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(podmanCalls(run)).toEqual([
    ['image', 'exists', WORKER_IMAGE],
    ['image', 'exists', image],
    cleanupCall(iceWithFirmware),
    ['create', '--pull=never', '--name', names(iceWithFirmware).copy, '--network', 'none', image, '/bin/true'],
    ['cp', `${names(iceWithFirmware).copy}:/opt/lib/modules/.`, `${node.stateDir(iceWithFirmware)}/worker-tmp/opt/lib/modules`],
    ['cp', `${names(iceWithFirmware).copy}:/firmware/ice/.`, `${node.stateDir(iceWithFirmware)}/worker-tmp/firmware/ice`],
    workerRun(node, iceWithFirmware),
    cleanupCall(iceWithFirmware),
  ]);
  const seen = node.workerRun(1);
  expect(load(seen.config)).toStrictEqual({
    containerImage: image,
    modprobe: { dirName: '/opt', moduleName: 'ice', firmwarePath: '/firmware/ice' },
    inTreeModulesToRemove: ['ice', 'irdma'],
  });
  expect(readFileSync(join(node.stateDir(iceWithFirmware), 'worker-config.yaml'), 'utf8')).toBe(seen.config);
  expect(seen.tmp).toEqual([
    'firmware/ice/ddp/ice.pkg',
    `opt/lib/modules/${KERNEL}/ice.ko`,
    `opt/lib/modules/${KERNEL}/modules.dep`,
  ]);
  expect(readFileSync(join(seen.tmpDir, `opt/lib/modules/${KERNEL}/ice.ko`), 'utf8'))
    .toBe(moduleImageFiles(iceWithFirmware, KERNEL)[`opt/lib/modules/${KERNEL}/ice.ko`]);
  expect(existsSync(join(node.root, 'var/lib/firmware'))).toBe(true);
  expect(run.lines).toEqual([
    `wrote ${node.stateDir(iceWithFirmware)}/worker-config.yaml for ${image}`,
    `copied /opt/lib/modules from ${image}`,
    `copied /firmware/ice from ${image}`,
    `loading ice with ${WORKER_IMAGE}; in-tree modules to remove: ice irdma`,
    'kmm-worker: kmod load /etc/kmm-worker/config.yaml --firmware-path /var/lib/firmware exits with 0',
    `loaded ice from ${image}`,
  ]);
  expectCleanedUp(node, iceWithFirmware, run);
});

test('load without firmware: no firmwarePath, no firmware mount, no --firmware-path', () => {
  const node = nodeWithImages(ice);

  const run = node.run('replace', ice);

  expect(run.status).toBe(0);
  expect(podmanCalls(run).filter((argv) => argv[0] === 'run')).toEqual([workerRun(node, ice)]);
  expect(podmanCalls(run).filter((argv) => argv[0] === 'cp')).toHaveLength(1);
  const seen = node.workerRun(1);
  expect(load(seen.config)).toStrictEqual({
    containerImage: moduleImage(ice),
    modprobe: { dirName: '/opt', moduleName: 'ice' },
    inTreeModulesToRemove: ['ice', 'irdma'],
  });
  expect(seen.tmp).toEqual([`opt/lib/modules/${KERNEL}/ice.ko`, `opt/lib/modules/${KERNEL}/modules.dep`]);
  expect(existsSync(join(node.root, 'var/lib/firmware'))).toBe(false);
  expectCleanedUp(node, ice, run);
});

test('a module with no in-tree modules to remove and no parameters gets the minimal config', () => {
  const plain = moduleOptions();
  const node = nodeWithImages(plain);

  const run = node.run('replace', plain);

  expect(run.status).toBe(0);
  expect(node.workerRun(1).config).toBe([
    `containerImage: '${moduleImage(plain)}'`,
    'modprobe:',
    '  dirName: /opt',
    "  moduleName: 'ice'",
    '',
  ].join('\n'));
  expect(run.lines).toContain(`loading ice with ${WORKER_IMAGE}; in-tree modules to remove: none`);
});

test('module parameters reach modprobe.parameters in order', () => {
  const tuned = moduleOptions({ moduleParameters: ['debug=1', 'rss_queues=4,4', 'fw_path=/lib/firmware/ice:x+y@z'] });
  const node = nodeWithImages(tuned);

  const run = node.run('replace', tuned);

  expect(run.status).toBe(0);
  expect(load(node.workerRun(1).config)).toStrictEqual({
    containerImage: moduleImage(tuned),
    modprobe: { dirName: '/opt', moduleName: 'ice', parameters: ['debug=1', 'rss_queues=4,4', 'fw_path=/lib/firmware/ice:x+y@z'] },
  });
});

test.each([
  ['the worker image', (node: FakeNode) => node.store(moduleImage(ice)), WORKER_IMAGE],
  ['the module image', (node: FakeNode) => node.store(WORKER_IMAGE), moduleImage(ice)],
  ['both images', (_: FakeNode) => undefined, WORKER_IMAGE],
])('load skipped without %s: logs why, exits 0, touches nothing', (_, prepare, missing) => {
  const node = new FakeNode().publishModule(ice);
  prepare(node);

  const run = node.run('replace', ice);

  expect(run.status).toBe(0);
  expect(run.lines).toEqual([
    `${missing} is not in local storage; ice is not loaded on this boot (the pull unit fetches the image and reboots)`,
  ]);
  expect(podmanCalls(run).every((argv) => argv[0] === 'image')).toBe(true);
  expect(node.workerRunCount()).toBe(0);
  expect(existsSync(node.stateDir(ice))).toBe(false);
});

test('two modules on one node: distinct config paths and container names, both loaded', () => {
  const mlx = moduleOptions({
    machineConfigName: '99-worker-mlx5',
    kernelModuleImage: 'quay.io/example/mlx5-driver',
    kernelModuleName: 'mlx5_core',
    moduleParameters: ['prof_sel=2'],
  });
  const node = nodeWithImages(ice, mlx);

  const boot = node.boot([ice, mlx]);

  expect(boot.replace.map((run) => run.status)).toEqual([0, 0]);
  expect(boot.rebooted).toBe(false);
  expect(podmanCalls(boot.replace[0]).filter((argv) => argv[0] === 'run')).toEqual([workerRun(node, ice)]);
  expect(podmanCalls(boot.replace[1]).filter((argv) => argv[0] === 'run')).toEqual([workerRun(node, mlx)]);
  expect(names(ice)).not.toEqual(names(mlx));
  expect(node.stateDir(ice)).not.toBe(node.stateDir(mlx));
  expect(load(node.workerRun(1).config)).toStrictEqual({
    containerImage: moduleImage(ice),
    modprobe: { dirName: '/opt', moduleName: 'ice' },
    inTreeModulesToRemove: ['ice', 'irdma'],
  });
  expect(load(node.workerRun(2).config)).toStrictEqual({
    containerImage: moduleImage(mlx),
    modprobe: { dirName: '/opt', moduleName: 'mlx5_core', parameters: ['prof_sel=2'] },
  });
  expect(node.workerRun(2).tmp).toEqual([`opt/lib/modules/${KERNEL}/mlx5_core.ko`, `opt/lib/modules/${KERNEL}/modules.dep`]);
  // Each keeps its own config; the second did not overwrite the first.
  expect(load(readFileSync(join(node.stateDir(ice), 'worker-config.yaml'), 'utf8'))).toMatchObject({ modprobe: { moduleName: 'ice' } });
  expect(load(readFileSync(join(node.stateDir(mlx), 'worker-config.yaml'), 'utf8'))).toMatchObject({ modprobe: { moduleName: 'mlx5_core' } });
});

test('worker failure: exits non-zero with a clear line, and still removes containers and scratch files', () => {
  const node = nodeWithImages(iceWithFirmware).workerExits(1);

  const run = node.run('replace', iceWithFirmware);

  expect(run.status).toBe(1);
  expect(run.lines.slice(-1)).toEqual(['the KMM worker failed to load ice; the node keeps its in-tree driver on this boot']);
  expect(node.workerRunCount()).toBe(1);
  expectCleanedUp(node, iceWithFirmware, run);
});

test('worker failure does not make the pull unit reboot: the images are there', () => {
  const node = nodeWithImages(ice).workerExits(1);

  const boot = node.boot([ice]);

  expect(boot.replace[0].status).toBe(1);
  expect(boot.pull[0].status).toBe(0);
  expect(boot.rebooted).toBe(false);
});

test('containers and scratch files left by a boot that was cut short are removed first', () => {
  const node = nodeWithImages(ice)
    .leaveContainer(names(ice).copy, moduleImage(ice))
    .leaveContainer(names(ice).worker, WORKER_IMAGE);
  writeTree(join(node.stateDir(ice), 'worker-tmp'), { 'opt/lib/modules/stale.ko': 'stale\n' });

  const run = node.run('replace', ice);

  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(node.workerRun(1).tmp).toEqual([`opt/lib/modules/${KERNEL}/ice.ko`, `opt/lib/modules/${KERNEL}/modules.dep`]);
  expectCleanedUp(node, ice, run);
});

test('killed by the unit timeout while the worker runs: containers and scratch files are still removed', async () => {
  const node = nodeWithImages(ice).workerHangs();

  const run = await node.runAndTerminate('replace', ice, (calls) => calls.some((call) => call.argv[0] === 'run'));

  // bash runs the EXIT trap, then dies of the same signal, as systemd expects.
  expect([run.status, run.signal]).toEqual([null, 'SIGTERM']);
  expect(run.lines.slice(-1)).toEqual([`loading ice with ${WORKER_IMAGE}; in-tree modules to remove: ice irdma`]);
  expectCleanedUp(node, ice, run);
});

test.each([
  ['no /opt/lib/modules', ice, '/opt/lib/modules'],
  ['no firmware directory', iceWithFirmware, '/firmware/ice'],
])('a module image with %s: exits non-zero, says what is missing, cleans up', (_, options, dir) => {
  const node = new FakeNode().publishModule(options);
  node.publish(moduleImage(options), options === ice
    ? { 'usr/lib/modules/ice.ko': 'wrong place\n' }
    : { [`opt/lib/modules/${KERNEL}/ice.ko`]: 'ice\n' });
  node.store(WORKER_IMAGE).store(moduleImage(options));

  const run = node.run('replace', options);

  expect(run.status).toBe(1);
  expect(run.lines.slice(-1)).toEqual([`${moduleImage(options)} has no usable ${dir}; ice is not loaded on this boot`]);
  expect(node.workerRunCount()).toBe(0);
  expectCleanedUp(node, options, run);
});

describe('an in-tree module of the same name that is already loaded', () => {
  test.each<[string, string, string[], string, boolean, string[] | undefined]>([
    ['loadable and not listed: it is unloaded first', 'ice', [], 'ice', true, ['ice']],
    ['loadable and already listed: listed once', 'ice', ['irdma', 'ice'], 'ice', true, ['irdma', 'ice']],
    ['built in: it cannot be unloaded, so it is not listed', 'ice', [], 'ice', false, undefined],
    ['named with "-", shown by sysfs with "_"', 'ice-x', [], 'ice_x', true, ['ice-x']],
    ['some other module: not listed', 'ice', [], 'irdma', true, undefined],
  ])('%s', (_, moduleName, inTree, sysfsName, loadable, expected) => {
    const options = moduleOptions({ kernelModuleName: moduleName, inTreeModulesToRemove: inTree });
    const node = nodeWithImages(options).loadedModule(sysfsName, loadable);

    const run = node.run('replace', options);

    expect(run.status).toBe(0);
    expect((load(node.workerRun(1).config) as { inTreeModulesToRemove?: string[] }).inTreeModulesToRemove).toEqual(expected);
    expect(run.lines.includes(`${moduleName} is already loaded (in-tree); it is unloaded before the out-of-tree module is loaded`))
      .toBe(expected !== undefined && !inTree.includes(moduleName));
  });
});
