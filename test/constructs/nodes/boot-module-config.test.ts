import { Testing } from 'cdk8s';
import { IConstruct } from 'constructs';
import { AppValidation, BootModuleConfig, BootModuleConfigProps, Day1KernelModule, DEFAULT_WORKER_IMAGE, KmmMachineConfigPool, KmmModule, KmmModuleProps } from '../../../src';
import { errorOf, MODULE_ANNOTATIONS, only, synthManifests, syncWave } from '../helpers';
import { bootModuleConfigFull, bootModuleConfigMinimal, build, kmmModule, WORKER } from '../scenarios';

describe('BootModuleConfig', () => {
  test('the seed\'s example: required fields only, unset optional fields omitted, the Day 1 worker image always written', () => {
    const bmc = only(synthManifests(build(bootModuleConfigMinimal)), 'BootModuleConfig');
    expect(bmc).toEqual({
      apiVersion: 'kmm.sigs.x-k8s.io/v1beta1',
      kind: 'BootModuleConfig',
      metadata: { name: 'worker-kmod-config', namespace: 'openshift-machine-config-operator', annotations: syncWave('5') },
      spec: {
        machineConfigName: 'worker-kmod-config',
        machineConfigPoolName: 'worker',
        kernelModuleImage: 'quay.io/example/kmod',
        kernelModuleName: 'my_module',
        // Unset, the operator would write its own worker image into the MachineConfig: one more pull and reboot per node.
        workerImage: 'quay.io/edge-infrastructure/kernel-module-management-worker:latest',
      },
    });
  });

  test('every field set', () => {
    const bmc = only(synthManifests(build(bootModuleConfigFull)), 'BootModuleConfig');
    expect(bmc.metadata).toEqual({ name: 'example-bmc', namespace: 'kmm-boot', labels: { team: 'net' }, annotations: syncWave('5') });
    expect(bmc.spec).toEqual({
      machineConfigName: 'worker-kmod-config',
      machineConfigPoolName: 'worker',
      kernelModuleImage: 'quay.io/example/kmod',
      kernelModuleName: 'my_module',
      inTreeModulesToRemove: ['intree_module_1', 'intree_module_2'],
      firmwareFilesPath: '/firmware',
      workerImage: WORKER,
    });
  });

  test('unset optional values (the worker image: the Day 1 default)', () => {
    const bmc = new BootModuleConfig(Testing.chart(), 'bmc', {
      machineConfigName: 'mc',
      machineConfigPoolName: 'worker',
      kernelModuleImage: 'quay.io/x/y',
      kernelModuleName: 'y',
      inTreeModulesToRemove: [],
      firmwareFilesPath: undefined,
      workerImage: undefined,
    });
    expect(bmc.apiObject.toJson().spec).toEqual({
      machineConfigName: 'mc',
      machineConfigPoolName: 'worker',
      kernelModuleImage: 'quay.io/x/y',
      kernelModuleName: 'y',
      workerImage: DEFAULT_WORKER_IMAGE,
    });
  });

  test('public fields', () => {
    const bmc = new BootModuleConfig(Testing.chart(), 'bmc', {
      machineConfigName: 'mc', machineConfigPoolName: 'worker', kernelModuleImage: 'quay.io/x/y', kernelModuleName: 'y',
    });
    expect([bmc.name, bmc.namespace, bmc.machineConfigName, bmc.machineConfigPoolName, bmc.kernelModuleName, bmc.kernelModuleImage, bmc.workerImage])
      .toEqual(['mc', 'openshift-machine-config-operator', 'mc', 'worker', 'y', 'quay.io/x/y', DEFAULT_WORKER_IMAGE]);
    expect(bmc.apiObject.node.id).toBe('Resource');
    expect(bmc.apiObject.kind).toBe('BootModuleConfig');
  });

  describe('invalid properties throw at construction, naming the construct, the field and the value', () => {
    const base: BootModuleConfigProps = {
      machineConfigName: 'mc', machineConfigPoolName: 'worker', kernelModuleImage: 'quay.io/x/y', kernelModuleName: 'y',
    };
    test.each<[string, BootModuleConfigProps, string, string]>([
      ['machineConfigName missing', { ...base, machineConfigName: undefined as any }, 'machineConfigName undefined', 'required'],
      ['machineConfigName invalid', { ...base, machineConfigName: 'MC' }, 'machineConfigName "MC"', 'DNS-1123 subdomain'],
      ['machineConfigPoolName invalid', { ...base, machineConfigPoolName: 'a_b' }, 'machineConfigPoolName "a_b"', 'DNS-1123 label'],
      ['image with a digest', { ...base, kernelModuleImage: `quay.io/x/y@sha256:${'0'.repeat(64)}` }, 'kernelModuleImage "quay.io/x/y@sha256:', 'must not have a tag or digest'],
      ['module name invalid', { ...base, kernelModuleName: '-y' }, 'kernelModuleName "-y"', 'not starting with "-"'],
      ['in-tree module invalid', { ...base, inTreeModulesToRemove: ['ok', 'a/b'] }, 'inTreeModulesToRemove[1] "a/b"', 'Linux kernel module name'],
      ['firmware path with ..', { ...base, firmwareFilesPath: '/a/../b' }, 'firmwareFilesPath "/a/../b"', 'normalized'],
      ['worker image invalid', { ...base, workerImage: 'quay.io/x/y:tag with space' }, 'workerImage "quay.io/x/y:tag with space"', 'OCI image reference'],
      ['namespace invalid', { ...base, metadata: { namespace: 'Kmm' } }, 'metadata.namespace "Kmm"', 'DNS-1123 label'],
      ['firmware path empty', { ...base, firmwareFilesPath: '' }, 'firmwareFilesPath ""', 'must not be empty: leave it out for no firmware'],
      ['worker image empty', { ...base, workerImage: '' }, 'workerImage ""', 'must not be empty: leave it out for the default worker image'],
    ])('%s', (_name, props, fieldAndValue, rule) => {
      const message = errorOf(() => new BootModuleConfig(Testing.chart(), 'bmc', props)).message;
      expect(message).toContain(`test/bmc: Invalid ${fieldAndValue}`);
      expect(message).toContain(rule);
    });
  });
});

describe('KmmModule', () => {
  test('field by field', () => {
    const module = only(synthManifests(build(kmmModule)), 'Module');
    expect(module.apiVersion).toBe('kmm.sigs.x-k8s.io/v1beta1');
    expect(module.metadata).toEqual({ name: 'my-module', namespace: 'openshift-kmm', annotations: MODULE_ANNOTATIONS });
    expect(module.spec).toEqual({
      moduleLoader: {
        container: {
          modprobe: { moduleName: 'my_module', dirName: '/opt', firmwarePath: '/firmware', parameters: ['debug=1'] },
          inTreeModulesToRemove: ['intree_module_1'],
          kernelMappings: [{ regexp: '^.+$', containerImage: 'quay.io/example/kmod:${KERNEL_FULL_VERSION}' }],
        },
      },
      imageRepoSecret: { name: 'pull-secret' },
      selector: { 'node-role.kubernetes.io/worker': '' },
    });
    // The deprecated singular field is never written.
    expect(JSON.stringify(module)).not.toContain('inTreeModuleToRemove"');
  });

  test('name + namespace of exactly 41 characters is accepted', () => {
    const module = new KmmModule(Testing.chart(), 'm', {
      kernelModuleName: 'ice', kernelModuleImage: 'quay.io/x/ice', selector: { a: 'b' }, metadata: { name: 'a'.repeat(31), namespace: 'kmm-ns-xyz' },
    });
    expect(module.name.length + module.namespace.length).toBe(41);
  });

  test('unset optional fields are omitted', () => {
    const module = new KmmModule(Testing.chart(), 'm', {
      kernelModuleName: 'ice', kernelModuleImage: 'quay.io/x/ice', selector: { 'kubernetes.io/os': 'linux' },
    });
    expect(module.apiObject.toJson().spec).toEqual({
      moduleLoader: {
        container: {
          modprobe: { moduleName: 'ice', dirName: '/opt' },
          kernelMappings: [{ regexp: '^.+$', containerImage: 'quay.io/x/ice:${KERNEL_FULL_VERSION}' }],
        },
      },
      selector: { 'kubernetes.io/os': 'linux' },
    });
    expect([module.name, module.namespace, module.kernelModuleName, module.kernelModuleImage]).toEqual(['ice', 'openshift-kmm', 'ice', 'quay.io/x/ice']);
    expect(module.selector).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  describe('invalid properties throw at construction, naming the construct, the field and the value', () => {
    const base: KmmModuleProps = { kernelModuleName: 'ice', kernelModuleImage: 'quay.io/x/ice', selector: { a: 'b' } };
    test.each<[string, KmmModuleProps, string, string]>([
      ['selector empty', { ...base, selector: {} }, 'selector {}', 'every node'],
      ['selector missing', { ...base, selector: undefined as any }, 'selector undefined', 'map of node label'],
      ['image with a tag', { ...base, kernelModuleImage: 'quay.io/x/ice:1' }, 'kernelModuleImage "quay.io/x/ice:1"', 'must not have a tag'],
      ['parameter with a space', { ...base, moduleParameters: ['a=b c'] }, 'moduleParameters[0] "a=b c"', 'name=value'],
      ['name not a DNS-1123 label', { ...base, metadata: { name: 'ice.driver' } }, 'metadata.name "ice.driver"', 'DNS-1123 label'],
      ['a derived name that is invalid', { ...base, kernelModuleName: '__' }, 'metadata.name ""',
        'required and must not be empty (the default name, derived from kernelModuleName "__"; set metadata.name explicitly)'],
      ['firmware path empty', { ...base, firmwareFilesPath: '' }, 'firmwareFilesPath ""', 'must not be empty: leave it out for no firmware'],
      ['imageRepoSecret empty', { ...base, imageRepoSecret: '' }, 'imageRepoSecret ""', "must not be empty: leave it out for the cluster's pull secret"],
      ['imageRepoSecret not a Secret name', { ...base, imageRepoSecret: 'Bad Secret!' }, 'imageRepoSecret "Bad Secret!"', 'DNS-1123 subdomain'],
      ['name + namespace of 42 characters', { ...base, metadata: { name: 'a'.repeat(29) } }, `metadata.name "${'a'.repeat(29)}"`,
        'together with namespace "openshift-kmm" it has 42 characters (29 + 13); the KMM operator\'s Module webhook refuses a name plus namespace longer than 41'],
    ])('%s', (_name, props, fieldAndValue, rule) => {
      const message = errorOf(() => new KmmModule(Testing.chart(), 'm', props)).message;
      expect(message).toContain(`test/m: Invalid ${fieldAndValue}`);
      expect(message).toContain(rule);
    });
  });
});

describe('one Secret-name rule for KmmModule.imageRepoSecret and handOverToKmm', () => {
  const rulesFor = (imageRepoSecret: string) => {
    // Each in an app of its own: the problems are the app's.
    const rule = (fn: () => unknown) => {
      const problems = AppValidation.problemsOf(fn() as IConstruct);
      if (problems.length === 0) return 'accepted';
      expect(problems).toHaveLength(1);
      return problems[0].rule;
    };
    const module = rule(() => new KmmModule(Testing.chart(), 'module', {
      kernelModuleName: 'ice', kernelModuleImage: 'quay.io/example/ice', selector: { a: 'b' }, imageRepoSecret,
    }));
    const chart = Testing.chart();
    const day1 = new Day1KernelModule(chart, 'ice', {
      pool: KmmMachineConfigPool.fromPoolName(chart, 'worker', 'worker'), kernelModuleImage: 'quay.io/example/ice', kernelModuleName: 'sfc',
    });
    const handOver = rule(() => day1.handOverToKmm({ imageRepoSecret }).module);
    return { module, handOver };
  };

  test.each([
    ['ice-pull', 'accepted'],
    ['a.b-c', 'accepted'],
    ['Bad Secret!', 'must be a DNS-1123 subdomain'],
    ['-pull', 'must be a DNS-1123 subdomain'],
    ['p'.repeat(254), 'must be a DNS-1123 subdomain'],
    ['0o17', 'must not be a number to YAML 1.2'],
    ['', 'must not be empty'],
  ])('%j: the same verdict and the same words from both', (secret, verdict) => {
    const { module, handOver } = rulesFor(secret);
    expect(module).toBe(handOver);
    expect(module.startsWith(verdict)).toBe(true);
  });
});
