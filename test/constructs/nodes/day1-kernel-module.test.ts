import { mkdtempSync, readdirSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { load } from 'js-yaml';
import {
  Day1KernelModule, Day1KernelModuleProps, DEFAULT_WORKER_IMAGE, IMachineConfigPool, KmmMachineConfigPool,
  produceMachineConfig, ProduceMachineConfigOptions,
} from '../../../src';
import { ignitionFromResolved, resolveMachineConfigOptions } from '../../../src/machine-config';
import { Day1ValidationError } from '../../../src/validation';
import { clusterPool, errorOf, MACHINE_CONFIG_ANNOTATIONS, Manifest, only, synthManifests, testApp } from '../helpers';
import { build, IMAGE, moduleFull, moduleInPool, WORKER } from '../scenarios';

function produced(options: ProduceMachineConfigOptions): Manifest {
  return load(produceMachineConfig(options)) as Manifest;
}

describe('Day1KernelModule', () => {
  test('in a pool: the MachineConfig is what produceMachineConfig returns, plus the GitOps annotations', () => {
    const manifests = synthManifests(build(moduleInPool));
    const machineConfig = only(manifests, 'MachineConfig');
    const expected = produced({
      machineConfigName: '99-sfc-kmm-day1-ice',
      machineConfigPoolRef: 'sfc',
      kernelModuleImage: IMAGE,
      kernelModuleName: 'ice',
    });
    // The generator's output stays free of GitOps annotations; only the construct adds them.
    expect(expected.metadata).toEqual({ name: '99-sfc-kmm-day1-ice', labels: { 'machineconfiguration.openshift.io/role': 'sfc' } });
    expect(machineConfig.spec).toEqual(expected.spec);
    expect(machineConfig.spec.config).toEqual(expected.spec.config);
    expect(machineConfig.metadata).toEqual({ ...expected.metadata, annotations: MACHINE_CONFIG_ANNOTATIONS });
    expect({ ...machineConfig, metadata: expected.metadata }).toEqual(expected);
  });

  test('in a pool: field by field', () => {
    const machineConfig = only(synthManifests(build(moduleInPool)), 'MachineConfig');
    expect(machineConfig.apiVersion).toBe('machineconfiguration.openshift.io/v1');
    expect(machineConfig.kind).toBe('MachineConfig');
    expect(machineConfig.metadata).toEqual({
      name: '99-sfc-kmm-day1-ice',
      labels: { 'machineconfiguration.openshift.io/role': 'sfc' },
      annotations: MACHINE_CONFIG_ANNOTATIONS,
    });
    expect(Object.keys(machineConfig.spec)).toEqual(['config']);
    expect(machineConfig.spec.config.ignition.version).toBe('3.2.0');
    const units = machineConfig.spec.config.systemd.units.map((u: { name: string }) => u.name);
    expect(units).toEqual([
      '99-sfc-kmm-day1-ice-replace-kernel-module.service',
      '99-sfc-kmm-day1-ice-pull-kernel-module-image.service',
      'crio-wipe.service',
    ]);
  });

  test('every option set: spec.config is ignitionFromResolved of the same values, and the MachineConfig equals produceMachineConfig apart from the extra metadata', () => {
    const machineConfig = only(synthManifests(build(moduleFull)), 'MachineConfig');
    const options: ProduceMachineConfigOptions = {
      machineConfigName: '10-worker-ice',
      machineConfigPoolRef: 'worker',
      kernelModuleImage: IMAGE,
      kernelModuleName: 'ice',
      inTreeModulesToRemove: ['ice', 'irdma'],
      firmwareFilesPath: '/firmware/intel',
      workerImage: WORKER,
      moduleParameters: ['debug=1', 'rss_queues=4,4'],
    };
    expect(machineConfig.spec.config).toEqual(ignitionFromResolved(resolveMachineConfigOptions(options)));
    expect(machineConfig.metadata).toEqual({
      name: '10-worker-ice',
      labels: { 'machineconfiguration.openshift.io/role': 'worker', 'team': 'net' },
      annotations: { ...MACHINE_CONFIG_ANNOTATIONS, 'example.com/ticket': 'NET-1' },
    });
    const expected = produced(options);
    expect({ ...machineConfig, metadata: expected.metadata }).toEqual(expected);
  });

  test('a pool of the cluster by name; the construct\'s own toJson equals produceMachineConfig in spec, name and labels', () => {
    const chart = Testing.chart();
    const module = new Day1KernelModule(chart, 'ice', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    const expected = produced({
      machineConfigName: '99-worker-kmm-day1-ice',
      machineConfigPoolRef: 'worker',
      kernelModuleImage: IMAGE,
      kernelModuleName: 'ice',
    });
    const { metadata, ...rest } = module.apiObject.toJson();
    const { metadata: expectedMetadata, ...expectedRest } = expected;
    expect(rest).toEqual(expectedRest);
    expect(rest.spec.config).toEqual(expectedRest.spec.config);
    expect(metadata).toEqual({ ...expectedMetadata, annotations: MACHINE_CONFIG_ANNOTATIONS });
  });

  test('public fields', () => {
    const chart = Testing.chart();
    const pool = new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc' });
    const module = new Day1KernelModule(chart, 'ice', {
      pool,
      kernelModuleImage: IMAGE,
      kernelModuleName: 'My_Driver',
      inTreeModulesToRemove: ['ice'],
      moduleParameters: ['debug=1'],
    });
    expect(module.machineConfigName).toBe('99-sfc-kmm-day1-my-driver');
    expect(module.poolName).toBe('sfc');
    expect(module.pool).toBe(pool);
    expect(module.kernelModuleName).toBe('My_Driver');
    expect(module.kernelModuleImage).toBe(IMAGE);
    expect(module.inTreeModulesToRemove).toEqual(['ice']);
    expect(module.firmwareFilesPath).toBeUndefined();
    expect(module.workerImage).toBe(DEFAULT_WORKER_IMAGE);
    expect(module.moduleParameters).toEqual(['debug=1']);
    expect(module.apiObject.node.id).toBe('Resource');
    expect(module.apiObject.kind).toBe('MachineConfig');
    expect(module.apiObject.name).toBe('99-sfc-kmm-day1-my-driver');
    expect(module.kmmHandOver).toBeUndefined();
  });

  test.each([
    ['ice', 'worker', '99-worker-kmm-day1-ice'],
    ['ICE_oot', 'worker', '99-worker-kmm-day1-ice-oot'],
    ['_private_', 'sfc', '99-sfc-kmm-day1-private'],
    ['mlx5-core', 'sfc', '99-sfc-kmm-day1-mlx5-core'],
  ])('the default MachineConfig name of module %s in pool %s is %s, the same in every app', (kernelModuleName, pool, expected) => {
    const names = [1, 2].map(() => {
      const chart = Testing.chart();
      return new Day1KernelModule(chart, 'm', { pool: clusterPool(chart, pool), kernelModuleImage: IMAGE, kernelModuleName }).machineConfigName;
    });
    expect(names).toEqual([expected, expected]);
  });

  test('the default MachineConfig name does not depend on the construct path', () => {
    const { chart } = testApp();
    const a = new Day1KernelModule(chart, 'a', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    const other = new Chart(Testing.app(), 'other');
    const b = new Day1KernelModule(new Construct(other, 'deeply'), 'nested-other-id', { pool: clusterPool(other), kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    expect(a.machineConfigName).toBe(b.machineConfigName);
  });

  describe('invalid properties throw at construction, naming the construct, the field and the value', () => {
    const base: Omit<Day1KernelModuleProps, 'pool'> = { kernelModuleImage: IMAGE, kernelModuleName: 'ice' };
    test.each<[string, Partial<Day1KernelModuleProps>, string, string]>([
      ['image with a tag', { ...base, kernelModuleImage: `${IMAGE}:v1` }, `kernelModuleImage "${IMAGE}:v1"`, 'must not have a tag or digest'],
      ['uppercase image', { ...base, kernelModuleImage: 'Quay.io/x/y' }, 'kernelModuleImage "Quay.io/x/y"', 'lowercase'],
      ['module name with a space', { ...base, kernelModuleName: 'ice x' }, 'kernelModuleName "ice x"', 'Linux kernel module name'],
      ['in-tree module duplicated (- and _ alike)', { ...base, inTreeModulesToRemove: ['a_b', 'a-b'] }, 'inTreeModulesToRemove[1] "a-b"', 'duplicates'],
      ['relative firmware path', { ...base, firmwareFilesPath: 'firmware' }, 'firmwareFilesPath "firmware"', 'absolute'],
      ['worker image with a space', { ...base, workerImage: 'quay.io/x y' }, 'workerImage "quay.io/x y"', 'OCI image reference'],
      ['parameter without value', { ...base, moduleParameters: ['debug'] }, 'moduleParameters[0] "debug"', 'name=value'],
      ['explicit machineConfigName with uppercase', { ...base, machineConfigName: '99-Ice' }, 'machineConfigName "99-Ice"', 'DNS-1123 subdomain'],
      ['no pool', { ...base, pool: undefined }, 'pool undefined', 'is required: give a KmmMachineConfigPool, or KmmMachineConfigPool.fromPoolName'],
      ['a pool name instead of a pool', { ...base, pool: 'worker' as unknown as IMachineConfigPool }, 'pool "worker"',
        'must be a KmmMachineConfigPool, or KmmMachineConfigPool.fromPoolName(scope, id, name)'],
      ['a derived name that is invalid', { ...base, kernelModuleName: '___' },
        'machineConfigName "99-worker-kmm-day1-"', 'starting and ending with a letter or digit (the default name, derived from pool "worker" '
        + 'and kernelModuleName "___"; set machineConfigName explicitly)'],
      ['metadata.name that differs', { ...base, metadata: { name: 'other' } }, 'metadata.name "other"', 'set machineConfigName instead'],
      ['a role label that differs', { ...base, metadata: { labels: { 'machineconfiguration.openshift.io/role': 'master' } } },
        'metadata.labels["machineconfiguration.openshift.io/role"] "master"', '"worker"'],
      ['metadata.namespace', { ...base, metadata: { namespace: 'default' } }, 'metadata.namespace "default"', 'cluster-scoped'],
    ])('%s', (_name, props, fieldAndValue, rule) => {
      const chart = Testing.chart();
      const message = errorOf(() => new Day1KernelModule(chart, 'ice', { pool: clusterPool(chart), ...props } as Day1KernelModuleProps)).message;
      expect(message).toContain(`test/ice: Invalid ${fieldAndValue}`);
      expect(message).toContain(rule);
    });

    test('a pool of another app', () => {
      const pool = KmmMachineConfigPool.fromPoolName(Testing.chart(), 'worker', 'worker');
      const message = errorOf(() => new Day1KernelModule(Testing.chart(), 'ice', { ...base, pool })).message;
      expect(message).toBe('test/ice: Invalid pool "test/worker": must be a construct of the same app as this Day1KernelModule');
    });

    test('a role label equal to the pool is accepted', () => {
      const chart = Testing.chart();
      const module = new Day1KernelModule(chart, 'ice', { ...base, pool: clusterPool(chart), metadata: { labels: { 'machineconfiguration.openshift.io/role': 'worker' } } });
      expect(module.apiObject.metadata.getLabel('machineconfiguration.openshift.io/role')).toBe('worker');
    });
  });
});

describe('Day1KernelModule reports every invalid property at once', () => {
  test('three bad props: three lines, in the order of the props interface', () => {
    const { chart } = testApp();
    const pool = new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc' });
    const error = errorOf(() => new Day1KernelModule(chart, 'ice', {
      pool,
      machineConfigName: 'Bad_Name',
      kernelModuleName: 'ice.ko',
      kernelModuleImage: `${IMAGE}:v1`,
    })) as Day1ValidationError;
    expect(error).toBeInstanceOf(Day1ValidationError);
    expect(error.message.split('\n')).toEqual([
      `test/ice: Invalid kernelModuleImage "${IMAGE}:v1": must not have a tag or digest: each node appends its kernel release (uname -r) as the tag, `
        + `e.g. ${IMAGE}:5.14.0-284.59.1.el9_2.x86_64`,
      'test/ice: Invalid kernelModuleName "ice.ko": must be a Linux kernel module name: letters, digits, "_" and "-", not starting with "-" '
        + '(the .ko file name without .ko)',
      'test/ice: Invalid machineConfigName "Bad_Name": must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, "-" and ".", '
        + 'starting and ending with a letter or digit',
    ]);
    expect(error.problems.map((p) => [p.path, p.field])).toEqual([
      ['test/ice', 'kernelModuleImage'], ['test/ice', 'kernelModuleName'], ['test/ice', 'machineConfigName'],
    ]);
  });

  test('every prop kind at once, lists by index, and the synthesis writes nothing', () => {
    const { chart } = testApp();
    const error = errorOf(() => new Day1KernelModule(chart, 'ice', {
      pool: clusterPool(chart),
      kernelModuleImage: IMAGE,
      kernelModuleName: 'ice',
      inTreeModulesToRemove: ['a b', 'ice', 'c d'],
      moduleParameters: ['x'],
      metadata: { namespace: 'default', labels: { 'machineconfiguration.openshift.io/role': 'master' } },
      syncWaves: 'yes' as unknown as boolean,
      healthCheck: true,
      healthCheckImage: '',
      healthCheckNamespace: 'Bad',
    })) as Day1ValidationError;
    expect(error.problems.map((p) => p.field)).toEqual([
      'inTreeModulesToRemove[0]', 'inTreeModulesToRemove[2]', 'moduleParameters[0]',
      'metadata.namespace', 'metadata.labels["machineconfiguration.openshift.io/role"]', 'syncWaves',
      'healthCheckImage', 'healthCheckNamespace',
    ]);
    // cdk8s validates the app before it writes a file: an invalid module leaves nothing in the output folder.
    const outdir = mkdtempSync(join(tmpdir(), 'kmm-day1-invalid-'));
    try {
      const app = new App({ outdir });
      new Day1KernelModule(new Chart(app, 'c'), 'ice', { pool: KmmMachineConfigPool.fromPoolName(app, 'p', 'worker'), kernelModuleImage: IMAGE, kernelModuleName: 'ice', moduleParameters: ['x'] });
      expect(() => app.synth()).toThrow(/^Validation failed with the following errors:\n {2}\[c\/ice\] Invalid moduleParameters\[0\] "x"/);
      expect(readdirSync(outdir)).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('a bad module name or pool name reports only the root cause, not the default MachineConfig name built from it', () => {
    const problems = (props: Partial<Day1KernelModuleProps>) => {
      const chart = Testing.chart();
      const pool = clusterPool(chart);
      return (errorOf(() => new Day1KernelModule(chart, 'ice', { pool, ...props } as Day1KernelModuleProps)) as Day1ValidationError).problems.map((p) => p.field);
    };
    expect(problems({ kernelModuleImage: IMAGE, kernelModuleName: 'x'.repeat(300) })).toEqual(['kernelModuleName']);
    // A pool made by hand, whose name is no pool name: not also the default MachineConfig name or the health check.
    const badPool = (scope: Construct) => Object.assign(new Construct(scope, 'bad'), { name: 'Worker', nodeSelector: { a: 'b' } });
    const chart = Testing.chart();
    expect((errorOf(() => new Day1KernelModule(chart, 'ice', { pool: badPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true })) as Day1ValidationError)
      .problems.map((p) => `${p.field} ${p.value}`)).toEqual(['pool.name "Worker"']);
    expect(problems({ kernelModuleImage: IMAGE, kernelModuleName: 'ice', pool: undefined })).toEqual(['pool']);
    // A non-boolean healthCheck does not also make every healthCheck* prop "without effect".
    expect(problems({ kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: 1 as unknown as boolean, healthCheckImage: 'x' }))
      .toEqual(['healthCheck']);
  });

  test('every health check prop without healthCheck: true is reported', () => {
    const chart = Testing.chart();
    const error = errorOf(() => new Day1KernelModule(chart, 'ice', {
      pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheckImage: 'x', healthCheckNamespace: 'y',
    })) as Day1ValidationError;
    expect(error.problems.map((p) => `${p.field}: ${p.rule}`)).toEqual([
      'healthCheckImage: has no effect without healthCheck: true; set healthCheck: true or remove it',
      'healthCheckNamespace: has no effect without healthCheck: true; set healthCheck: true or remove it',
    ]);
  });

  test.each<[keyof Day1KernelModuleProps, string]>([
    ['firmwareFilesPath', 'leave it out for no firmware'],
    ['workerImage', 'leave it out for the default worker image (quay.io/edge-infrastructure/kernel-module-management-worker:latest)'],
    ['machineConfigName', 'leave it out for the default name, 99-<pool name>-kmm-day1-<kernelModuleName>'],
    ['healthCheckImage', 'leave it out for the default image (registry.access.redhat.com/ubi9/ubi-minimal:latest)'],
    ['healthCheckNamespace', 'leave it out for the default namespace (kmm-day1-health)'],
  ])('an empty %s is rejected, never taken for its default', (field, hint) => {
    const chart = Testing.chart();
    const props: Day1KernelModuleProps = { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true, [field]: '' };
    expect(errorOf(() => new Day1KernelModule(chart, 'ice', props)).message).toBe(`test/ice: Invalid ${field} "": must not be empty: ${hint}`);
  });
});
