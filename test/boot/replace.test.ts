import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { load } from 'js-yaml';
import {
  FakeNode, KERNEL, moduleImage, moduleImageFiles, moduleOptions, podmanCalls, RunResult, WORKER_IMAGE, writeTree,
} from './harness';
import { ResolvedMachineConfigOptions as ValidatedMachineConfigOptions } from '../../src/machine-config';
import { parseUnitFile, serviceEnvironment } from '../util/systemd';

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
  expect(seen.tmpFiles[`opt/lib/modules/${KERNEL}/ice.ko`])
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

describe('the units of every interface: this release (3), the first release (1), the KMM operator (kmm)', () => {
  const kmmEnvironment = {
    KERNEL_MODULE: 'ice',
    KERNEL_MODULE_IMAGE: 'quay.io/example/ice-driver',
    WORKER_IMAGE,
    WORKER_CONFIG_FILEPATH: '/var/lib/kmm_day1_config.yaml',
    IN_TREE_MODULES_TO_REMOVE: 'ice irdma',
    FIRMWARE_FILES_PATH: '/firmware/ice',
  };

  test('the KMM operator\'s units: loads the module, state and containers named after KERNEL_MODULE, never its shared WORKER_CONFIG_FILEPATH', () => {
    const node = nodeWithImages(iceWithFirmware);

    const started = Date.now();
    const run = node.runWithUnitEnvironment('replace', kmmEnvironment);

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const state = join(node.root, 'var/lib/kmm-day1/kmm-module-ice');
    expect(run.lines[0]).toBe('units of the KMM operator (no MACHINE_CONFIG_NAME, no module parameters): the state of ice is in /var/lib/kmm-day1/kmm-module-ice');
    expect(run.lines[run.lines.length - 1]).toBe(`loaded ice from ${moduleImage(iceWithFirmware)}`);
    const podmanRun = podmanCalls(run).find((argv) => argv[0] === 'run')!;
    expect(podmanRun.slice(0, 5)).toEqual(['run', '--rm', '--pull=never', '--name', 'kmm-day1-kmm-module-ice-worker']);
    expect(podmanRun).toContain(`${state}/worker-config.yaml:/etc/kmm-worker/config.yaml:ro`);
    expect(load(node.workerRun(1).config)).toStrictEqual({
      containerImage: moduleImage(iceWithFirmware),
      modprobe: { dirName: '/opt', moduleName: 'ice', firmwarePath: '/firmware/ice' },
      inTreeModulesToRemove: ['ice', 'irdma'],
    });
    expect(existsSync(join(node.root, 'var/lib/kmm_day1_config.yaml'))).toBe(false);
    // Inside the operator's TimeoutSec=60: nothing waits or retries.
    expect(run.calls.filter((call) => call.tool === 'sleep')).toEqual([]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(node.containers()).toEqual([]);
  });

  test('two modules under the KMM operator\'s units keep their own state, though the units give both one config path', () => {
    const mlx = moduleOptions({ machineConfigName: 'unused', kernelModuleImage: 'quay.io/example/mlx5-driver', kernelModuleName: 'mlx5_core' });
    const node = nodeWithImages(iceWithFirmware, mlx);

    node.runWithUnitEnvironment('replace', kmmEnvironment);
    node.runWithUnitEnvironment('replace', {
      ...kmmEnvironment, KERNEL_MODULE: 'mlx5_core', KERNEL_MODULE_IMAGE: mlx.kernelModuleImage, IN_TREE_MODULES_TO_REMOVE: '', FIRMWARE_FILES_PATH: '',
    });

    expect(node.workerRunCount()).toBe(2);
    expect(load(readFileSync(join(node.root, 'var/lib/kmm-day1/kmm-module-ice/worker-config.yaml'), 'utf8'))).toMatchObject({ modprobe: { moduleName: 'ice' } });
    expect(load(readFileSync(join(node.root, 'var/lib/kmm-day1/kmm-module-mlx5_core/worker-config.yaml'), 'utf8')))
      .toStrictEqual({ containerImage: moduleImage(mlx), modprobe: { dirName: '/opt', moduleName: 'mlx5_core' } });
  });

  test('a KERNEL_MODULE with characters outside [A-Za-z0-9._-] gets them as "_" in its state directory and container names', () => {
    const node = new FakeNode();

    const run = node.runWithUnitEnvironment('replace', { ...kmmEnvironment, KERNEL_MODULE: 'ice/../x y' });

    expect(run.status).toBe(0);
    expect(run.lines[0]).toMatch(/the state of ice\/\.\.\/x y is in \/var\/lib\/kmm-day1\/kmm-module-ice_\.\._x_y$/);
  });

  test('the first release\'s units (no KMM_DAY1_INTERFACE, no KERNEL_MODULE): loads the module with its parameters', () => {
    const fixture = readFileSync(join(__dirname, '..', 'fixtures', 'interface-v1', 'units', '99-oot-nic-kmm-day1-sfc-replace-kernel-module.service'), 'utf8');
    const environment = serviceEnvironment(parseUnitFile(fixture));
    const sfc = moduleOptions({ machineConfigName: '99-oot-nic-kmm-day1-sfc', kernelModuleImage: 'quay.io/example/sfc-driver', kernelModuleName: 'sfc' });
    const node = nodeWithImages(sfc);

    const run = node.runWithUnitEnvironment('replace', environment);

    expect(environment).not.toHaveProperty('KMM_DAY1_INTERFACE');
    expect(run.status).toBe(0);
    expect(load(node.workerRun(1).config)).toStrictEqual({
      containerImage: moduleImage(sfc),
      modprobe: { dirName: '/opt', moduleName: 'sfc', parameters: ['rss_cpus=4'] },
      inTreeModulesToRemove: ['sfc'],
    });
    expect(existsSync(join(node.stateDir(sfc), 'worker-config.yaml'))).toBe(true);
  });

  test('a later interface than the script knows is read as the newest it knows, and said once', () => {
    const node = nodeWithImages(ice);

    const run = node.run('replace', ice, { KMM_DAY1_INTERFACE: '4' });

    expect(run.status).toBe(0);
    expect(run.lines.filter((line) => line.includes('interface'))).toEqual([
      'the unit speaks interface 4; this script knows interfaces up to 3 and reads the unit as 3 (later interfaces only add variables)',
    ]);
    expect(run.lines[run.lines.length - 1]).toBe(`loaded ice from ${moduleImage(ice)}`);
  });

  test.each(['0', '2x', '-1', 'a[$(id)]'])('KMM_DAY1_INTERFACE=%j is refused before anything runs', (value) => {
    const node = nodeWithImages(ice);

    const run = node.run('replace', ice, { KMM_DAY1_INTERFACE: value });

    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^KMM_DAY1_INTERFACE must be a positive integer, got /);
    expect(run.calls).toEqual([]);
  });

  test('our unit without KERNEL_MODULE_NAME falls back to KERNEL_MODULE; without either it stops, naming the variable', () => {
    const node = nodeWithImages(ice);
    const { KERNEL_MODULE_NAME: _, ...withoutName } = node.env('replace', ice);

    expect(node.runWithUnitEnvironment('replace', withoutName).lines.slice(-1)).toEqual([`loaded ice from ${moduleImage(ice)}`]);
    const { KERNEL_MODULE: __, ...neither } = withoutName;
    const failed = node.runWithUnitEnvironment('replace', neither);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('KERNEL_MODULE_NAME is not set by the unit');
  });
});

test.each([
  ['a 64k-page arm64 kernel', '5.14.0-427.13.1.el9_4.aarch64+64k', '5.14.0-427.13.1.el9_4.aarch64_64k'],
  ['a kernel built from a dirty tree (one trailing "+")', '6.8.0-rc1+', '6.8.0-rc1'],
  ['only one trailing "+" goes; other characters become "_"', '6.8.0~test+x++', '6.8.0_test_x_'],
])('the image tag follows KMM\'s ${KERNEL_FULL_VERSION} rule: %s', (_, release, tag) => {
  const node = new FakeNode(release);
  node.publishModule(ice, [release]).store(WORKER_IMAGE).store(`${ice.kernelModuleImage}:${tag}`);

  const run = node.run('replace', ice);

  expect(run.status).toBe(0);
  expect(moduleImage(ice, release)).toBe(`${ice.kernelModuleImage}:${tag}`);
  expect(load(node.workerRun(1).config)).toMatchObject({ containerImage: `${ice.kernelModuleImage}:${tag}` });
  expect(node.workerRun(1).tmp).toContain(`opt/lib/modules/${release}/ice.ko`);
});
