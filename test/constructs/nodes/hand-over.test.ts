import { Chart, Testing } from 'cdk8s';
import { DEFAULT_WORKER_IMAGE, Day1KernelModule, KmmMachineConfigPool } from '../../../src';
import { warningsOf } from '../../../src/constructs/warnings';
import { Day1ValidationError } from '../../../src/validation';
import { clusterPool, errorOf, HANDED_OVER_MACHINE_CONFIG_ANNOTATIONS, MODULE_ANNOTATIONS, only, onWorker, syncWave, synthManifests, testApp } from '../helpers';
import { build, handOverFromPool, handOverFull, IMAGE, WORKER } from '../scenarios';

let stderr: jest.SpyInstance;
beforeEach(() => {
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => stderr.mockRestore());

function printed(): string {
  return stderr.mock.calls.map((call) => String(call[0])).join('');
}

describe('Day1KernelModule.handOverToKmm', () => {
  test('from a pool: a BootModuleConfig naming the MachineConfig and a Module selecting the pool\'s nodes', () => {
    const manifests = synthManifests(build(handOverFromPool));
    expect(manifests.map((m) => m.kind)).toEqual(['MachineConfigPool', 'MachineConfig', 'BootModuleConfig', 'Module']);
    const machineConfig = only(manifests, 'MachineConfig');
    expect(machineConfig.metadata.annotations).toEqual(HANDED_OVER_MACHINE_CONFIG_ANNOTATIONS);
    expect(only(manifests, 'BootModuleConfig')).toEqual({
      apiVersion: 'kmm.sigs.x-k8s.io/v1beta1',
      kind: 'BootModuleConfig',
      metadata: { name: '99-sfc-kmm-day1-ice', namespace: 'openshift-machine-config-operator', annotations: syncWave('5') },
      spec: {
        machineConfigName: machineConfig.metadata.name,
        machineConfigPoolName: machineConfig.metadata.labels!['machineconfiguration.openshift.io/role'],
        kernelModuleImage: IMAGE,
        kernelModuleName: 'ice',
        workerImage: DEFAULT_WORKER_IMAGE,
      },
    });
    expect(only(manifests, 'Module')).toEqual({
      apiVersion: 'kmm.sigs.x-k8s.io/v1beta1',
      kind: 'Module',
      metadata: { name: 'ice', namespace: 'openshift-kmm', annotations: MODULE_ANNOTATIONS },
      spec: {
        moduleLoader: {
          container: {
            modprobe: { moduleName: 'ice', dirName: '/opt' },
            kernelMappings: [{ regexp: '^.+$', containerImage: `${IMAGE}:\${KERNEL_FULL_VERSION}` }],
          },
        },
        selector: { 'node-role.kubernetes.io/sfc': '' },
      },
    });
  });

  test('every option set, from a pool of the cluster by name', () => {
    const manifests = synthManifests(build(handOverFull));
    const bmc = only(manifests, 'BootModuleConfig');
    expect(bmc.metadata).toEqual({ name: 'ice-bmc', namespace: 'openshift-machine-config-operator', annotations: syncWave('5') });
    expect(bmc.spec).toEqual({
      machineConfigName: '99-worker-kmm-day1-ice-oot',
      machineConfigPoolName: 'worker',
      kernelModuleImage: IMAGE,
      kernelModuleName: 'ice_oot',
      inTreeModulesToRemove: ['ice'],
      firmwareFilesPath: '/firmware/intel',
      workerImage: WORKER,
    });
    const module = only(manifests, 'Module');
    expect(module.metadata).toEqual({ name: 'ice', namespace: 'kmm', annotations: MODULE_ANNOTATIONS });
    expect(module.spec).toEqual({
      moduleLoader: {
        container: {
          modprobe: { moduleName: 'ice_oot', dirName: '/opt', firmwarePath: '/firmware/intel', parameters: ['debug=1'] },
          kernelMappings: [{ regexp: '^.+$', containerImage: `${IMAGE}:\${KERNEL_FULL_VERSION}` }],
        },
      },
      imageRepoSecret: { name: 'ice-pull' },
      selector: { 'node-role.kubernetes.io/worker': '' },
    });
  });

  test('returns the two constructs, children of the module, also exposed as kmmHandOver', () => {
    const chart = Testing.chart();
    const pool = new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc', nodeSelector: { 'example.com/nic': 'e810' } });
    const day1 = new Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice_oot' });
    const handOver = day1.handOverToKmm();
    expect(day1.kmmHandOver).toBe(handOver);
    expect(handOver.bootModuleConfig.node.scope).toBe(day1);
    expect(handOver.module.node.scope).toBe(day1);
    expect(handOver.bootModuleConfig.machineConfigName).toBe(day1.machineConfigName);
    expect(handOver.bootModuleConfig.machineConfigPoolName).toBe('sfc');
    expect(handOver.module.name).toBe('ice-oot');
    expect(handOver.module.selector).toEqual({ 'example.com/nic': 'e810' });
    // Without a workerImage on the module, the Day 1 default: never the operator's own image.
    expect(handOver.bootModuleConfig.apiObject.toJson().spec.workerImage).toBe(DEFAULT_WORKER_IMAGE);
    expect(handOver.bootModuleConfig.workerImage).toBe(day1.workerImage);
  });

  test('from a pool of the cluster, by name: the Module selects the node selector given to fromPoolName, or the role label', () => {
    const chart = Testing.chart();
    const infra = KmmMachineConfigPool.fromPoolName(chart, 'infra', 'infra', { 'example.com/nic': 'e810' });
    const a = new Day1KernelModule(chart, 'a', { pool: infra, kernelModuleImage: IMAGE, kernelModuleName: 'a' }).handOverToKmm();
    expect(a.module.selector).toEqual({ 'example.com/nic': 'e810' });
    expect(a.bootModuleConfig.machineConfigPoolName).toBe('infra');
    const b = onWorker(chart, 'b', { kernelModuleImage: IMAGE, kernelModuleName: 'b' }).handOverToKmm();
    expect(b.module.selector).toEqual({ 'node-role.kubernetes.io/worker': '' });
    expect(b.bootModuleConfig.machineConfigPoolName).toBe('worker');
  });

  test.each([
    ['the default worker image', undefined, DEFAULT_WORKER_IMAGE],
    ['a given worker image', WORKER, WORKER],
  ])('the BootModuleConfig always carries the Day 1 worker image: %s', (_, workerImage, expected) => {
    const { app, chart } = testApp();
    const day1 = new Day1KernelModule(chart, 'ice', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice', workerImage });
    day1.handOverToKmm();
    const manifests = synthManifests(app);
    expect(only(manifests, 'BootModuleConfig').spec.workerImage).toBe(expected);
    // The same image the Day 1 units run, so the operator's rewrite changes no image.
    const replaceUnit = only(manifests, 'MachineConfig').spec.config.systemd.units[0].contents;
    expect(replaceUnit).toContain(`"WORKER_IMAGE=${expected}"`);
  });

  test('the Module lists no in-tree modules to remove; the BootModuleConfig keeps them for boot', () => {
    const { app, chart } = testApp();
    const day1 = new Day1KernelModule(chart, 'ice', {
      pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice', inTreeModulesToRemove: ['ice', 'irdma'],
    });
    day1.handOverToKmm();
    const manifests = synthManifests(app);
    expect(only(manifests, 'BootModuleConfig').spec.inTreeModulesToRemove).toEqual(['ice', 'irdma']);
    const container = only(manifests, 'Module').spec.moduleLoader.container;
    expect(container).not.toHaveProperty('inTreeModulesToRemove');
    expect(JSON.stringify(only(manifests, 'Module'))).not.toMatch(/inTreeModule/);
  });

  test.each([
    ['the default namespace, a name of 28 characters', { name: 'a'.repeat(28) }, 41],
    ['a namespace of 30 characters, a name of 11', { name: 'a'.repeat(11), namespace: 'n'.repeat(30) }, 41],
  ])('a Module name + namespace of 41 characters is accepted: %s', (_, options, length) => {
    const day1 = onWorker(Testing.chart(), 'ice', { kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    const { module } = day1.handOverToKmm({ ...options });
    expect(module.name.length + module.namespace.length).toBe(length);
  });

  test('module parameters: a warning, recorded on the module and printed once at synthesis', () => {
    const { app, chart } = testApp();
    const day1 = new Day1KernelModule(chart, 'ice', {
      pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice', moduleParameters: ['debug=1'],
    });
    expect(warningsOf(day1)).toEqual([]);
    day1.handOverToKmm();
    const warnings = warningsOf(day1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('["debug=1"]');
    expect(warnings[0]).toContain('MachineConfig "99-worker-kmm-day1-ice"');
    expect(warnings[0]).toContain('WITHOUT these parameters');
    expect(printed()).toBe('');
    app.synthYaml();
    app.synthYaml();
    expect(printed()).toBe(`[WARNING] test/ice: ${warnings[0]}\n`);
  });

  test('no module parameters: no warning', () => {
    const chart = Testing.chart();
    const day1 = new Day1KernelModule(chart, 'ice', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    day1.handOverToKmm();
    expect(warningsOf(day1)).toEqual([]);
  });

  describe('errors', () => {
    function fromPoolName() {
      return onWorker(Testing.chart(), 'ice', { kernelModuleImage: IMAGE, kernelModuleName: 'ice' });
    }

    test('calling it twice', () => {
      const day1 = fromPoolName();
      day1.handOverToKmm();
      const message = errorOf(() => day1.handOverToKmm()).message;
      expect(message).toContain('Day1KernelModule "test/ice": handOverToKmm() was already called');
      expect(message).toContain('test/ice/BootModuleConfig');
      expect(message).toContain('test/ice/Module');
    });

    test.each([
      ['an invalid namespace', { namespace: 'KMM' }, 'handOverToKmm.namespace "KMM"', 'DNS-1123 label'],
      ['an invalid name', { name: 'ice_driver' }, 'handOverToKmm.name "ice_driver"', 'DNS-1123 label'],
      ['an empty namespace', { namespace: '' }, 'handOverToKmm.namespace ""', 'must not be empty: leave it out for the default namespace (openshift-kmm)'],
      ['an empty name', { name: '' }, 'handOverToKmm.name ""', 'must not be empty: leave it out for the default name'],
      ['an empty imageRepoSecret', { imageRepoSecret: '' }, 'handOverToKmm.imageRepoSecret ""',
        "must not be empty: leave it out for the cluster's pull secret"],
      ['an imageRepoSecret that is no Secret name', { imageRepoSecret: 'Bad Secret!' }, 'handOverToKmm.imageRepoSecret "Bad Secret!"', 'DNS-1123 subdomain'],
      ['an empty bootModuleConfigName', { bootModuleConfigName: '' }, 'handOverToKmm.bootModuleConfigName ""',
        'must not be empty: leave it out for the default name (the MachineConfig name, 99-worker-kmm-day1-ice)'],
    ])('%s', (_name, options, fieldAndValue, rule) => {
      const message = errorOf(() => fromPoolName().handOverToKmm(options)).message;
      expect(message).toContain(`test/ice: Invalid ${fieldAndValue}`);
      expect(message).toContain(rule);
    });

    test('every invalid option at once, in the order of HandOverToKmmOptions, and nothing created', () => {
      const day1 = fromPoolName();
      const error = errorOf(() => day1.handOverToKmm({
        fluxApplyIfNotPresent: 'yes' as any, imageRepoSecret: 'Bad Secret!', namespace: 'KMM', scope: 'kmm' as any,
      })) as Day1ValidationError;
      expect(error.problems.map((p) => `${p.path} ${p.field}`)).toEqual([
        'test/ice handOverToKmm.namespace', 'test/ice handOverToKmm.imageRepoSecret', 'test/ice handOverToKmm.scope',
        'test/ice handOverToKmm.fluxApplyIfNotPresent',
      ]);
      expect(error.message.split('\n')).toHaveLength(4);
    });

    test('an invalid namespace is the root cause: the name + namespace length is not judged', () => {
      const error = errorOf(() => fromPoolName().handOverToKmm({ namespace: 'N'.repeat(40), name: 'a'.repeat(30) })) as Day1ValidationError;
      expect(error.problems.map((p) => p.field)).toEqual(['handOverToKmm.namespace']);
    });

    test('a derived Module name that is invalid', () => {
      const day1 = onWorker(Testing.chart(), 'ice', {
        machineConfigName: '99-worker-odd', kernelModuleImage: IMAGE, kernelModuleName: '__',
      });
      const message = errorOf(() => day1.handOverToKmm()).message;
      expect(message).toContain('test/ice: Invalid handOverToKmm.name "": is required and must not be empty '
        + '(the default name, derived from kernelModuleName "__"; set name explicitly)');
    });

    test.each([
      ['a name of 29 characters in the default namespace', { name: 'a'.repeat(29) }, `name "${'a'.repeat(29)}"`, '"openshift-kmm" it has 42 characters (29 + 13)'],
      ['a namespace of 32 characters', { name: 'ice-driver', namespace: 'n'.repeat(32) }, 'name "ice-driver"', `"${'n'.repeat(32)}" it has 42 characters (10 + 32)`],
    ])('a Module name + namespace of 42 characters: %s', (_, options, fieldAndValue, rule) => {
      const day1 = fromPoolName();
      const message = errorOf(() => day1.handOverToKmm({ ...options })).message;
      expect(message).toContain(`test/ice: Invalid handOverToKmm.${fieldAndValue}: together with namespace ${rule}`);
      expect(message).toContain("the KMM operator's Module webhook refuses a name plus namespace longer than 41 characters");
    });

    test('a derived Module name too long for the default namespace names the derivation', () => {
      const day1 = onWorker(Testing.chart(), 'ice', {
        machineConfigName: '99-long', kernelModuleImage: IMAGE, kernelModuleName: 'a'.repeat(29),
      });
      const message = errorOf(() => day1.handOverToKmm()).message;
      expect(message).toContain(`test/ice: Invalid handOverToKmm.name "${'a'.repeat(29)}": together with namespace`);
      expect(message).toContain(`(the default name, derived from kernelModuleName "${'a'.repeat(29)}"; set name explicitly)`);
    });

    test('an invalid option fails the synthesis, with the other constructs\' problems; the hand-over is made once', () => {
      const day1 = fromPoolName();
      const pool = new KmmMachineConfigPool(day1.node.scope as Chart, 'pool', { name: 'Bad' });
      const error = errorOf(() => day1.handOverToKmm({ namespace: 'KMM' })) as Day1ValidationError;
      expect(error.problems.map((p) => `${p.path} ${p.field}`)).toEqual(['test/ice handOverToKmm.namespace', `${pool.node.path} name`]);
      expect(() => day1.handOverToKmm()).toThrow(/handOverToKmm\(\) was already called/);
    });
  });
});
