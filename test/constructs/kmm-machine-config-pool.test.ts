import { Testing } from 'cdk8s';
import { errorOf, only, PRUNE_PROTECTION, synthManifests, syncWave, testApp } from './helpers';
import { build, poolCustom, poolDefaults } from './scenarios';
import { KmmMachineConfigPool, MaxUnavailable } from '../../src';
import { Day1ValidationError } from '../../src/validation';

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
    ])('%s is rejected', (_name, make, shown) => {
      const message = errorOf(make).message;
      expect(message).toContain(`Invalid maxUnavailable ${shown}`);
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
