import { Testing } from 'cdk8s';
import { Day1KernelModule, KmmMachineConfigPool, MaxUnavailable } from '../../../src';
import { Day1ValidationError } from '../../../src/validation';
import { errorOf, only, PRUNE_PROTECTION, synthManifests, syncWave, testApp } from '../helpers';
import { build, poolCustom, poolDefaults } from '../scenarios';

describe('KmmMachineConfigPool', () => {
  test('defaults: the seed\'s MachineConfigPool, field by field', () => {
    const pool = only(synthManifests(build(poolDefaults)), 'MachineConfigPool');
    expect(pool.apiVersion).toBe('machineconfiguration.openshift.io/v1');
    expect(pool.kind).toBe('MachineConfigPool');
    expect(pool.metadata).toEqual({ name: 'sfc', annotations: { ...syncWave('-10'), ...PRUNE_PROTECTION } });
    expect(pool.spec.machineConfigSelector).toEqual({
      matchExpressions: [{ key: 'machineconfiguration.openshift.io/role', operator: 'In', values: ['worker', 'sfc'] }],
    });
    expect(pool.spec.nodeSelector).toEqual({ matchLabels: { 'node-role.kubernetes.io/sfc': '' } });
    expect(pool.spec.maxUnavailable).toBe(1);
    expect(pool.spec.paused).toBe(false);
    expect(Object.keys(pool.spec).sort()).toEqual(['machineConfigSelector', 'maxUnavailable', 'nodeSelector', 'paused']);
  });

  test('every option set', () => {
    const pool = only(synthManifests(build(poolCustom)), 'MachineConfigPool');
    expect(pool.metadata).toEqual({ name: 'sfc', labels: { team: 'net' }, annotations: { ...syncWave('-10'), ...PRUNE_PROTECTION, 'example.com/owner': 'net-team' } });
    expect(pool.spec.machineConfigSelector.matchExpressions[0].values).toEqual(['worker', 'sfc']);
    expect(pool.spec.nodeSelector).toEqual({ matchLabels: { 'node-role.kubernetes.io/sfc': '', 'example.com/nic': 'e810' } });
    expect(pool.spec.maxUnavailable).toBe('25%');
    expect(pool.spec.paused).toBe(true);
  });

  test('another base role, and a node count', () => {
    const { app, chart } = testApp();
    new KmmMachineConfigPool(chart, 'rt', { name: 'rt', baseRole: 'infra', maxUnavailable: MaxUnavailable.fromNumber(3) });
    const pool = only(synthManifests(app), 'MachineConfigPool');
    expect(pool.spec.machineConfigSelector.matchExpressions[0].values).toEqual(['infra', 'rt']);
    expect(pool.spec.maxUnavailable).toBe(3);
  });

  test('public fields', () => {
    const chart = Testing.chart();
    const pool = new KmmMachineConfigPool(chart, 'sfc', { name: 'sfc', maxUnavailable: MaxUnavailable.fromString('100%') });
    expect(pool.name).toBe('sfc');
    expect(pool.baseRole).toBe('worker');
    expect(pool.nodeSelector).toEqual({ 'node-role.kubernetes.io/sfc': '' });
    expect(pool.maxUnavailable.amount).toBe(100);
    expect(pool.maxUnavailable.isPercentage).toBe(true);
    expect(pool.maxUnavailable.toString()).toBe('100%');
    expect(pool.paused).toBe(false);
    expect(pool.apiObject.node.id).toBe('Resource');
    expect(pool.apiObject.kind).toBe('MachineConfigPool');
    expect(pool.apiObject.name).toBe('sfc');
  });

  test('the node selector cannot be changed through the public field', () => {
    const pool = new KmmMachineConfigPool(Testing.chart(), 'sfc', { name: 'sfc' });
    expect(() => {
      (pool.nodeSelector as Record<string, string>).other = 'x';
    }).toThrow();
  });

  describe('MaxUnavailable', () => {
    test.each([
      ['fromNumber(0)', () => MaxUnavailable.fromNumber(0), '0'],
      ['fromNumber(-1)', () => MaxUnavailable.fromNumber(-1), '-1'],
      ['fromNumber(1.5)', () => MaxUnavailable.fromNumber(1.5), '1.5'],
      ['fromString("0%")', () => MaxUnavailable.fromString('0%'), '"0%"'],
      ['fromString("101%")', () => MaxUnavailable.fromString('101%'), '"101%"'],
      ['fromString("12.5%")', () => MaxUnavailable.fromString('12.5%'), '"12.5%"'],
      ['fromString("3")', () => MaxUnavailable.fromString('3'), '"3"'],
      ['fromString("")', () => MaxUnavailable.fromString(''), '""'],
    ])('%s is rejected by the pool that uses it, at synthesis', (_name, make, shown) => {
      const message = errorOf(() => new KmmMachineConfigPool(Testing.chart(), 'p', { name: 'p', maxUnavailable: make() })).message;
      expect(message).toBe(`test/p: Invalid maxUnavailable ${shown}: ${shown.includes('%') || shown === '"3"' || shown === '""'
        ? 'must be an integer percentage from "1%" to "100%" (use MaxUnavailable.fromNumber for a node count)'
        : 'must be a positive integer number of nodes (0 does not stop updates, the operator treats it as 1: pause the pool instead)'}`);
    });

    test('bounds are accepted', () => {
      expect(MaxUnavailable.fromNumber(1).toString()).toBe('1');
      expect(MaxUnavailable.fromString('1%').toString()).toBe('1%');
      expect(MaxUnavailable.fromString('100%').amount).toBe(100);
    });
  });

  describe('invalid properties throw at construction, naming the construct, the field and the value', () => {
    test.each([
      ['name not a DNS-1123 label', { name: 'SFC' }, 'name "SFC"', 'DNS-1123 label'],
      ['name empty', { name: '' }, 'name ""', 'required'],
      ['baseRole empty', { name: 'sfc', baseRole: '' }, 'baseRole ""', 'must not be empty: leave it out for the default base role (worker)'],
      ['name a built-in pool', { name: 'worker' }, 'name "worker"', 'built-in pool'],
      ['name equal to baseRole', { name: 'sfc', baseRole: 'sfc' }, 'baseRole "sfc"', 'must differ from name'],
      ['baseRole invalid', { name: 'sfc', baseRole: 'Worker' }, 'baseRole "Worker"', 'DNS-1123 label'],
      ['nodeSelector empty', { name: 'sfc', nodeSelector: {} }, 'nodeSelector {}', 'every node'],
      ['nodeSelector bad value', { name: 'sfc', nodeSelector: { 'example.com/nic': 'e810 x' } }, 'nodeSelector["example.com/nic"] "e810 x"', 'label value'],
      ['maxUnavailable not a MaxUnavailable', { name: 'sfc', maxUnavailable: 2 as any }, 'maxUnavailable 2', 'MaxUnavailable.fromNumber'],
      ['paused not a boolean', { name: 'sfc', paused: 'yes' as any }, 'paused "yes"', 'boolean'],
      ['metadata.name differs', { name: 'sfc', metadata: { name: 'other' } }, 'metadata.name "other"', 'must not differ from name'],
      ['metadata.namespace on a cluster-scoped object', { name: 'sfc', metadata: { namespace: 'default' } }, 'metadata.namespace "default"', 'cluster-scoped'],
    ])('%s', (_name, props, fieldAndValue, rule) => {
      const message = errorOf(() => new KmmMachineConfigPool(Testing.chart(), 'pool', props)).message;
      expect(message).toContain(`test/pool: Invalid ${fieldAndValue}`);
      expect(message).toContain(rule);
    });
  });
});

describe('KmmMachineConfigPool reports every invalid prop at once', () => {
  test('in the order of its props; a bad name is the root cause of its default node selector', () => {
    const error = errorOf(() => new KmmMachineConfigPool(Testing.chart(), 'pool', {
      paused: 'no' as any, baseRole: '', name: 'SFC', metadata: { namespace: 'x' },
    })) as Day1ValidationError;
    expect(error.problems.map((p) => `${p.path} ${p.field}`)).toEqual([
      'test/pool name', 'test/pool baseRole', 'test/pool paused', 'test/pool metadata.namespace',
    ]);
  });
});

describe('KmmMachineConfigPool.fromPoolName: a pool the cluster has, by name', () => {
  test('emits nothing; the node selector is node-role.kubernetes.io/<name> unless given', () => {
    const { app, chart } = testApp();
    const worker = KmmMachineConfigPool.fromPoolName(chart, 'worker', 'worker');
    const infra = KmmMachineConfigPool.fromPoolName(chart, 'infra', 'infra', { 'example.com/nic': 'e810' });
    expect([worker.name, worker.nodeSelector]).toEqual(['worker', { 'node-role.kubernetes.io/worker': '' }]);
    expect([infra.name, infra.nodeSelector]).toEqual(['infra', { 'example.com/nic': 'e810' }]);
    expect(worker.node.path).toBe('test/worker');
    expect(synthManifests(app)).toEqual([]);
    expect(() => {
      (infra.nodeSelector as Record<string, string>).other = 'x';
    }).toThrow();
  });

  test('a module on it: the role of its MachineConfig, the selector of its health check and of its KMM Module', () => {
    const { app, chart } = testApp();
    const pool = KmmMachineConfigPool.fromPoolName(chart, 'infra', 'infra', { 'example.com/nic': 'e810' });
    const module = new Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: 'quay.io/example/ice', kernelModuleName: 'ice', healthCheck: true });
    module.handOverToKmm();
    expect(module.pool).toBe(pool);
    expect(module.poolName).toBe('infra');
    const manifests = synthManifests(app);
    expect(only(manifests, 'MachineConfig').metadata.labels).toEqual({ 'machineconfiguration.openshift.io/role': 'infra' });
    expect(only(manifests, 'MachineConfig').metadata.name).toBe('99-infra-kmm-day1-ice');
    expect(only(manifests, 'DaemonSet').spec.template.spec.nodeSelector).toEqual({ 'example.com/nic': 'e810' });
    expect(only(manifests, 'Module').spec.selector).toEqual({ 'example.com/nic': 'e810' });
    expect(only(manifests, 'BootModuleConfig').spec.machineConfigPoolName).toBe('infra');
  });

  test('a custom pool of the app is what its name says, whatever the order: the real pool object decides its roles', () => {
    const { app, chart } = testApp();
    // A reference to pool "rt" first, then the app's own pool "rt" built on "infra".
    const byName = KmmMachineConfigPool.fromPoolName(chart, 'rt-by-name', 'rt');
    new KmmMachineConfigPool(chart, 'rt', { name: 'rt', baseRole: 'infra' });
    const infra = KmmMachineConfigPool.fromPoolName(chart, 'infra', 'infra');
    new Day1KernelModule(chart, 'a', { pool: byName, kernelModuleImage: 'quay.io/example/a', kernelModuleName: 'a' });
    new Day1KernelModule(chart, 'b', { pool: infra, kernelModuleImage: 'quay.io/example/b', kernelModuleName: 'b' });
    const replaceUnit = (name: string) => synthManifests(app).find((m) => m.metadata.name === name)!.spec.config.systemd.units[0].contents as string;
    // The rt MachineConfig orders itself against the infra one (rt builds on infra), not the other way round.
    expect(replaceUnit('99-rt-kmm-day1-a')).toContain('After=99-infra-kmm-day1-b-replace-kernel-module.service');
    expect(replaceUnit('99-infra-kmm-day1-b')).not.toContain('99-rt-kmm-day1-a');
  });

  test('every invalid argument at once, at the reference\'s path', () => {
    const error = errorOf(() => KmmMachineConfigPool.fromPoolName(Testing.chart(), 'pool', 'Worker', { 'a b': 'c' })) as Day1ValidationError;
    expect(error.message.split('\n')).toEqual([
      'test/pool: Invalid name "Worker": must be a DNS-1123 label: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit',
      'test/pool: Invalid nodeSelector["a b"] "a b": must be a Kubernetes label key: an optional DNS-1123 subdomain prefix and "/", '
        + 'then at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
    ]);
    expect(errorOf(() => KmmMachineConfigPool.fromPoolName(Testing.chart(), 'pool', 'infra', {})).message)
      .toBe('test/pool: Invalid nodeSelector {}: must not be empty: an empty selector matches every node of the cluster');
  });

  test('a KmmMachineConfigPool named after a built-in pool points to fromPoolName', () => {
    expect(errorOf(() => new KmmMachineConfigPool(Testing.chart(), 'pool', { name: 'master' })).message)
      .toContain("give the Day1KernelModule the pool KmmMachineConfigPool.fromPoolName(scope, id, 'master')");
  });
});
