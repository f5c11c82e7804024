import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Chart, Testing } from 'cdk8s';
import { loadAll } from 'js-yaml';
import {
  Day1KernelModule,
  Day1KernelModuleProps,
  HealthCheckToleration,
  KernelModuleHealthCheck,
  KernelModuleHealthCheckProps,
  KmmMachineConfigPool,
  TolerationEffect,
  TolerationOperator,
} from '../../../src';
import { healthCheckNameFor, moduleLoadedScript } from '../../../src/constructs/nodes/health-check';
import { warningsOf } from '../../../src/constructs/warnings';
import { withShellcheck } from '../../util/oracles';
import { byKind, errorOf, Manifest, only, synthManifests, syncWave, testApp, clusterPool } from '../helpers';
import { IMAGE } from '../scenarios';

let stderr: jest.SpyInstance;
beforeEach(() => {
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => stderr.mockRestore());

function synthInPool(props: Partial<Day1KernelModuleProps> = {}, poolNodeSelector?: Record<string, string>): Manifest[] {
  const { app, chart } = testApp();
  const pool = new KmmMachineConfigPool(chart, 'pool', { name: 'sfc', nodeSelector: poolNodeSelector });
  new Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true, ...props });
  return synthManifests(app);
}

/** The probe's shell script, as the DaemonSet carries it. */
function probeScript(daemonSet: Manifest): string {
  const command: string[] = daemonSet.spec.template.spec.containers[0].readinessProbe.exec.command;
  expect(command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
  expect(command).toHaveLength(3);
  return command[2];
}

describe('Day1KernelModule healthCheck', () => {
  test('the DaemonSet, in full: the pool\'s nodes, restricted pods, a readiness probe on sysfs', () => {
    const manifests = synthInPool({}, { 'node-role.kubernetes.io/sfc': '', 'example.com/nic': 'intel-e810' });
    const daemonSet = only(manifests, 'DaemonSet');
    const labels = { 'app.kubernetes.io/instance': '99-sfc-kmm-day1-ice', 'app.kubernetes.io/name': 'kmm-day1-health-check' };
    expect(daemonSet).toEqual({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: '99-sfc-kmm-day1-ice', namespace: 'kmm-day1-health', labels, annotations: syncWave('0') },
      spec: {
        minReadySeconds: 0,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            containers: [{
              name: 'check',
              image: 'registry.access.redhat.com/ubi9/ubi-minimal:latest',
              imagePullPolicy: 'IfNotPresent',
              command: ['sleep', 'infinity'],
              readinessProbe: {
                exec: { command: ['/bin/sh', '-c', moduleLoadedScript('ice', '/sys/module/ice', true)] },
                failureThreshold: 1,
                periodSeconds: 10,
                successThreshold: 1,
                timeoutSeconds: 5,
              },
              resources: { limits: { cpu: '50m', memory: '32Mi' }, requests: { cpu: '5m', memory: '16Mi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                privileged: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
              },
            }],
            dnsPolicy: 'ClusterFirst',
            hostNetwork: false,
            nodeSelector: { 'node-role.kubernetes.io/sfc': '', 'example.com/nic': 'intel-e810' },
            restartPolicy: 'Always',
            securityContext: { fsGroupChangePolicy: 'Always', runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            setHostnameAsFQDN: false,
            terminationGracePeriodSeconds: 1,
          },
        },
      },
    });
  });

  test('OpenShift assigns the user: no runAsUser or runAsGroup anywhere; no host access, no volumes, no service account token', () => {
    const daemonSet = only(synthInPool(), 'DaemonSet');
    const json = JSON.stringify(daemonSet);
    for (const field of ['runAsUser', 'runAsGroup', 'hostPath', 'volumes', 'volumeMounts', 'hostPID', 'hostIPC', 'serviceAccountName', 'privileged":true']) {
      expect({ field, present: json.includes(field) }).toEqual({ field, present: false });
    }
    expect(daemonSet.spec.template.spec.hostNetwork).toBe(false);
    expect(daemonSet.spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  test('one Namespace per app for the default namespace, labelled for the restricted level, ordered before the DaemonSets', () => {
    const { app, chart } = testApp();
    const pool = new KmmMachineConfigPool(chart, 'pool', { name: 'sfc' });
    new Day1KernelModule(chart, 'ice', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true });
    new Day1KernelModule(new Chart(app, 'other'), 'sfc', { pool, kernelModuleImage: IMAGE, kernelModuleName: 'sfc', healthCheck: true });
    const manifests = synthManifests(app);
    expect(only(manifests, 'Namespace')).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'kmm-day1-health', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' }, annotations: syncWave('0') },
      spec: {},
    });
    const kinds = manifests.map((m) => `${m.kind} ${m.metadata.name}`);
    expect(kinds.indexOf('Namespace kmm-day1-health')).toBeLessThan(kinds.indexOf('DaemonSet 99-sfc-kmm-day1-ice'));
    expect(kinds.indexOf('Namespace kmm-day1-health')).toBeLessThan(kinds.indexOf('DaemonSet 99-sfc-kmm-day1-sfc'));
    expect(byKind(manifests, 'DaemonSet').map((d) => d.metadata.namespace)).toEqual(['kmm-day1-health', 'kmm-day1-health']);
  });

  test.each([
    ['the one without waves first', [false, true]],
    ['the one with waves first', [true, false]],
  ])('the shared Namespace carries the wave when any health check in it does, whatever the construction order (%s)', (_name, order) => {
    const render = (waves: boolean[]) => {
      const { app, chart } = testApp();
      waves.forEach((syncWaves) => new KernelModuleHealthCheck(chart, `check-${syncWaves}`, {
        kernelModuleName: syncWaves ? 'ice' : 'sfc', nodeSelector: { a: 'b' }, syncWaves,
      }));
      return synthManifests(app);
    };
    const manifests = render(order);
    expect(only(manifests, 'Namespace').metadata.annotations).toEqual(syncWave('0'));
    expect(byKind(manifests, 'DaemonSet').map((d) => [d.metadata.name, d.metadata.annotations])).toEqual(
      expect.arrayContaining([['ice', syncWave('0')], ['sfc', undefined]]));
    // The reversed order gives the same objects.
    const reversed = render([...order].reverse());
    const byName = (list: Manifest[]) => [...list].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
    expect(byName(reversed)).toEqual(byName(manifests));
  });

  test('the shared Namespace has no wave when no health check in it has one', () => {
    const { app, chart } = testApp();
    for (const name of ['ice', 'sfc']) {
      new KernelModuleHealthCheck(chart, name, { kernelModuleName: name, nodeSelector: { a: 'b' }, syncWaves: false });
    }
    expect(only(synthManifests(app), 'Namespace').metadata.annotations).toBeUndefined();
  });

  test('another namespace is used as is: it must exist, no Namespace is emitted', () => {
    const manifests = synthInPool({ healthCheckNamespace: 'openshift-kmm' });
    expect(byKind(manifests, 'Namespace')).toEqual([]);
    expect(only(manifests, 'DaemonSet').metadata.namespace).toBe('openshift-kmm');
  });

  test('healthCheckImage and healthCheckTolerations', () => {
    const image = 'registry.example.com/tools/ubi-minimal@sha256:' + 'b'.repeat(64);
    const daemonSet = only(synthInPool({
      healthCheckImage: image,
      healthCheckTolerations: [
        { key: 'node-role.kubernetes.io/sfc', operator: TolerationOperator.EXISTS, effect: TolerationEffect.NO_SCHEDULE },
        { key: 'dedicated', operator: TolerationOperator.EQUAL, value: 'nic' },
        { key: 'example.com/nic', value: 'e810', effect: TolerationEffect.NO_EXECUTE },
        { key: 'node-role.kubernetes.io/infra', value: '', effect: TolerationEffect.PREFER_NO_SCHEDULE },
        { operator: TolerationOperator.EXISTS },
      ],
    }), 'DaemonSet');
    expect(daemonSet.spec.template.spec.containers[0].image).toBe(image);
    expect(daemonSet.spec.template.spec.tolerations).toEqual([
      { key: 'node-role.kubernetes.io/sfc', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'dedicated', operator: 'Equal', value: 'nic' },
      { key: 'example.com/nic', operator: 'Equal', value: 'e810', effect: 'NoExecute' },
      // Kubernetes reads a missing value as the empty one: a taint without a value.
      { key: 'node-role.kubernetes.io/infra', operator: 'Equal', effect: 'PreferNoSchedule' },
      { operator: 'Exists' },
    ]);
  });

  test.each([
    ['worker', undefined, { 'node-role.kubernetes.io/worker': '' }],
    ['infra', undefined, { 'node-role.kubernetes.io/infra': '' }],
    ['rt', { 'example.com/rt': 'true' }, { 'example.com/rt': 'true' }],
  ])('pool %s by name (node selector %j): the DaemonSet selects %j', (poolName, nodeSelector, expected) => {
    const { app, chart } = testApp();
    new Day1KernelModule(chart, 'ice', {
      pool: KmmMachineConfigPool.fromPoolName(chart, 'pool', poolName, nodeSelector), kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true,
    });
    expect(only(synthManifests(app), 'DaemonSet').spec.template.spec.nodeSelector).toEqual(expected);
  });

  test('the module name as sysfs knows it ("-" as "_", case kept), and the public fields', () => {
    const chart = Testing.chart();
    const day1 = new Day1KernelModule(chart, 'mlx', {
      pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'Mlx5-Core', healthCheck: true,
    });
    const healthCheck = day1.healthCheck!;
    expect(healthCheck.node.scope).toBe(day1);
    expect(healthCheck.sysfsPath).toBe('/sys/module/Mlx5_Core');
    expect(healthCheck.kernelModuleName).toBe('Mlx5-Core');
    expect([healthCheck.name, healthCheck.namespace, healthCheck.image, healthCheck.requireOutOfTree])
      .toEqual(['99-worker-kmm-day1-mlx5-core', 'kmm-day1-health', 'registry.access.redhat.com/ubi9/ubi-minimal:latest', true]);
    expect(healthCheck.nodeSelector).toEqual({ 'node-role.kubernetes.io/worker': '' });
    expect(probeScript(only(synthManifests(chart.node.root as any), 'DaemonSet')).split('\n')[0]).toBe('m=/sys/module/Mlx5_Core');
  });

  test('without healthCheck, no DaemonSet and no Namespace', () => {
    const { app, chart } = testApp();
    const day1 = new Day1KernelModule(chart, 'ice', { pool: clusterPool(chart), kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: false });
    expect(day1.healthCheck).toBeUndefined();
    expect(synthManifests(app).map((m) => m.kind)).toEqual(['MachineConfig']);
  });

  test('control-plane nodes without a toleration: a warning that the check would be vacuous', () => {
    const chart = Testing.chart();
    const day1 = new Day1KernelModule(chart, 'ice', { pool: clusterPool(chart, 'master'), kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true });
    const warnings = warningsOf(day1.healthCheck!);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('selects control-plane nodes');
    expect(warnings[0]).toContain('report healthy without checking anything');
    const other = Testing.chart();
    const tolerated = new Day1KernelModule(other, 'ice', {
      pool: clusterPool(other, 'master'),
      kernelModuleImage: IMAGE,
      kernelModuleName: 'ice',
      healthCheck: true,
      healthCheckTolerations: [{ key: 'node-role.kubernetes.io/master', operator: TolerationOperator.EXISTS }],
    });
    expect(warningsOf(tolerated.healthCheck!)).toEqual([]);
  });

  describe('invalid properties throw at construction, naming the construct, the field and the value', () => {
    const base: Omit<Day1KernelModuleProps, 'pool'> = { kernelModuleImage: IMAGE, kernelModuleName: 'ice', healthCheck: true };
    test.each<[string, Omit<Day1KernelModuleProps, 'pool'>, string, string]>([
      ['healthCheck not a boolean', { ...base, healthCheck: 'yes' as any }, 'healthCheck "yes"', 'must be a boolean'],
      ['an image without healthCheck', { ...base, healthCheck: undefined, healthCheckImage: 'quay.io/x/y' }, 'healthCheckImage "quay.io/x/y"', 'without healthCheck: true'],
      ['a namespace with healthCheck false', { ...base, healthCheck: false, healthCheckNamespace: 'x' }, 'healthCheckNamespace "x"', 'without healthCheck: true'],
      ['an invalid image', { ...base, healthCheckImage: 'quay.io/x y' }, 'healthCheckImage "quay.io/x y"', 'OCI image reference'],
      ['an invalid namespace', { ...base, healthCheckNamespace: 'Kmm' }, 'healthCheckNamespace "Kmm"', 'DNS-1123 label'],
      ['tolerations that are not a list', { ...base, healthCheckTolerations: { key: 'a' } as any },
        'healthCheckTolerations {"key":"a"}', 'must be a list of tolerations'],
    ])('%s', (_name, props, fieldAndValue, rule) => {
      const chart = Testing.chart();
      const message = errorOf(() => new Day1KernelModule(chart, 'ice', { ...props, pool: clusterPool(chart) })).message;
      expect(message).toContain(`test/ice: Invalid ${fieldAndValue}`);
      expect(message).toContain(rule);
    });
  });
});

describe('tolerations: Kubernetes\' rules, each error naming the entry and its field', () => {
  const check = (tolerations: unknown) => errorOf(() => new KernelModuleHealthCheck(Testing.chart(), 'check', {
    kernelModuleName: 'ice', nodeSelector: { a: 'b' }, tolerations: tolerations as HealthCheckToleration[],
  })).message;
  const field = (path: string) => `test/check: Invalid tolerations${path}`;

  test.each<[string, unknown[], string, string]>([
    ['an empty key', [{ key: '', operator: TolerationOperator.EXISTS }], '[0].key ""', 'omit key'],
    ['a key that is not a label key', [{ key: 'a b' }], '[0].key "a b"', 'Kubernetes label key'],
    ['a key that is not a string', [{ key: 7 }], '[0].key 7', 'must be a string'],
    ['no key with the default operator (Equal)', [{ effect: TolerationEffect.NO_SCHEDULE }], '[0].operator "Equal"', 'must be TolerationOperator.EXISTS when key is unset'],
    ['an unknown operator', [{ key: 'a', operator: 'In' }], '[0].operator "In"', 'TolerationOperator.EQUAL, TolerationOperator.EXISTS'],
    ['the operator in lower case', [{ key: 'a', operator: 'exists' }], '[0].operator "exists"', 'must be one of'],
    ['a value with Exists', [{ key: 'a', operator: TolerationOperator.EXISTS, value: 'x' }], '[0].value "x"', 'must not be set with operator TolerationOperator.EXISTS'],
    ['a value that is not a label value', [{ key: 'a', value: 'x y' }], '[0].value "x y"', 'Kubernetes label value'],
    ['an unknown effect', [{ key: 'a', effect: 'NoEntry' }], '[0].effect "NoEntry"', 'TolerationEffect.NO_SCHEDULE, TolerationEffect.PREFER_NO_SCHEDULE, TolerationEffect.NO_EXECUTE'],
    ['an empty effect', [{ key: 'a', effect: '' }], '[0].effect ""', 'or unset for every effect'],
    ['tolerationSeconds', [{ key: 'a', effect: TolerationEffect.NO_EXECUTE, tolerationSeconds: 60 }], '[0].tolerationSeconds 60', 'no tolerationSeconds'],
    ['an entry that is not an object', ['node-role.kubernetes.io/sfc'], '[0] "node-role.kubernetes.io/sfc"', 'must be an object'],
    ['the second entry', [{ key: 'a' }, { key: 'b', operator: 'Exist' }], '[1].operator "Exist"', 'must be one of'],
  ])('%s', (_name, tolerations, fieldAndValue, rule) => {
    const message = check(tolerations);
    expect(message).toContain(field(fieldAndValue));
    expect(message).toContain(rule);
  });

  test('a class instance (such as a cdk8s-plus NodeTaintQuery, the type of earlier releases) is refused with the way out', () => {
    class NodeTaintQuery {
      constructor(readonly operator: string, readonly key: string) {}
      _toKube() {
        return { key: this.key, operator: this.operator };
      }
    }
    const message = check([new NodeTaintQuery('Exists', 'node-role.kubernetes.io/sfc')]);
    expect(message).toContain(field('[0] {"operator":"Exists","key":"node-role.kubernetes.io/sfc"}'));
    expect(message).toContain('must be a plain object { key?, operator?, value?, effect? } (HealthCheckToleration), not an instance of NodeTaintQuery');
  });

  test('null fields are unset; an empty value is a taint without a value, as in Kubernetes', () => {
    const { app, chart } = testApp();
    new KernelModuleHealthCheck(chart, 'check', {
      kernelModuleName: 'ice',
      nodeSelector: { a: 'b' },
      tolerations: [{ key: 'a', value: '', effect: null as any }, { key: null as any, operator: TolerationOperator.EXISTS }],
    });
    expect(only(synthManifests(app), 'DaemonSet').spec.template.spec.tolerations).toEqual([
      { key: 'a', operator: 'Equal' },
      { operator: 'Exists' },
    ]);
  });
});

describe('the DaemonSet name', () => {
  test.each([
    ['99-worker-kmm-day1-ice', '99-worker-kmm-day1-ice'],
    ['a'.repeat(63), 'a'.repeat(63)],
  ])('%s fits a DNS-1123 label and is kept', (name, expected) => {
    expect(healthCheckNameFor(name)).toBe(expected);
  });

  test('a dotted or long MachineConfig name becomes a label with a hash of the whole name, distinct per name', () => {
    const long = '99-worker-' + 'x'.repeat(100);
    const names = [long, `${long}y`, '99-worker.ice', '99-worker-ice'].map(healthCheckNameFor);
    expect(names[0]).toMatch(/^99-worker-x{44}-[0-9a-f]{8}$/);
    expect(names[2]).toMatch(/^99-worker-ice-[0-9a-f]{8}$/);
    expect(names[3]).toBe('99-worker-ice');
    expect(new Set(names).size).toBe(4);
    for (const name of names) expect(name.length).toBeLessThanOrEqual(63);
  });

  test('two health checks of one name in one namespace are a conflict at synthesis', () => {
    const { app, chart } = testApp();
    const props: KernelModuleHealthCheckProps = { kernelModuleName: 'ice', nodeSelector: { a: 'b' } };
    new KernelModuleHealthCheck(chart, 'one', props);
    new KernelModuleHealthCheck(chart, 'two', props);
    expect(errorOf(() => app.synthYaml()).message).toContain('DaemonSet "ice" in namespace "kmm-day1-health" is defined twice, by test/one and test/two');
  });
});

describe('KernelModuleHealthCheck on its own', () => {
  test('defaults: named after the module; syncWaves and requireOutOfTree switches', () => {
    const { app, chart } = testApp();
    const check = new KernelModuleHealthCheck(chart, 'check', {
      kernelModuleName: 'mlx5_core', nodeSelector: { 'example.com/nic': 'cx6' }, requireOutOfTree: false, syncWaves: false,
    });
    expect(check.name).toBe('mlx5-core');
    const manifests = synthManifests(app);
    const daemonSet = only(manifests, 'DaemonSet');
    expect(daemonSet.metadata.annotations).toBeUndefined();
    expect(only(manifests, 'Namespace').metadata.annotations).toBeUndefined();
    expect(probeScript(daemonSet)).toBe(moduleLoadedScript('mlx5_core', '/sys/module/mlx5_core', false));
    expect(probeScript(daemonSet)).not.toContain('taint');
  });

  test('the selector does not depend on the construct path (a DaemonSet selector is immutable)', () => {
    const render = (id: string) => {
      const { app, chart } = testApp();
      new KernelModuleHealthCheck(new Chart(app, `wrapper-${id}`), id, { kernelModuleName: 'ice', nodeSelector: { a: 'b' } });
      void chart;
      return only(synthManifests(app), 'DaemonSet');
    };
    expect(render('first')).toEqual(render('second'));
  });

  test.each<[string, Partial<KernelModuleHealthCheckProps>, string, string]>([
    ['kernelModuleName invalid', { kernelModuleName: 'ice x' }, 'kernelModuleName "ice x"', 'Linux kernel module name'],
    ['nodeSelector missing', { nodeSelector: undefined }, 'nodeSelector undefined', 'map of node label'],
    ['name not a label', { name: 'ice.check' }, 'name "ice.check"', 'DNS-1123 label'],
    ['requireOutOfTree not a boolean', { requireOutOfTree: 'no' as any }, 'requireOutOfTree "no"', 'must be a boolean'],
    ['syncWaves not a boolean', { syncWaves: 0 as any }, 'syncWaves 0', 'must be a boolean'],
  ])('%s', (_name, props, fieldAndValue, rule) => {
    const message = errorOf(() => new KernelModuleHealthCheck(Testing.chart(), 'check', {
      kernelModuleName: 'ice', nodeSelector: { a: 'b' }, ...props,
    } as KernelModuleHealthCheckProps)).message;
    expect(message).toContain(`test/check: Invalid ${fieldAndValue}`);
    expect(message).toContain(rule);
  });
});

/*
 * The probe itself, run by a real POSIX shell against a fake /sys/module: the one emitted
 * into the DaemonSet, with only its first line (the module directory) pointed elsewhere.
 */
describe('the readiness probe script', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'kmm-day1-sysfs-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function run(script: string, files: Record<string, string> | undefined): { status: number | null; stdout: string } {
    const dir = mkdtempSync(join(root, 'case-'));
    const moduleDir = join(dir, 'ice');
    if (files !== undefined) {
      mkdirSync(moduleDir);
      for (const [name, contents] of Object.entries(files)) writeFileSync(join(moduleDir, name), contents);
    }
    const lines = script.split('\n');
    expect(lines[0]).toBe('m=/sys/module/ice');
    const result = spawnSync('/bin/sh', ['-c', [`m=${moduleDir}`, ...lines.slice(1)].join('\n')], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    return { status: result.status, stdout: result.stdout };
  }

  function emitted(requireOutOfTree: boolean): string {
    const { app, chart } = testApp();
    new KernelModuleHealthCheck(chart, 'c', { kernelModuleName: 'ice', nodeSelector: { a: 'b' }, requireOutOfTree });
    return probeScript(only(synthManifests(app), 'DaemonSet'));
  }

  test.each<[string, Record<string, string> | undefined, number, string]>([
    ['not loaded', undefined, 1, 'kernel module ice is not loaded'],
    ['loading', { initstate: 'coming\n', taint: 'OE\n' }, 1, 'kernel module ice is not live (initstate: coming)'],
    ['unloading', { initstate: 'going\n', taint: 'OE\n' }, 1, 'not live (initstate: going)'],
    ['the in-tree build (no taint)', { initstate: 'live\n', taint: '\n' }, 1, 'it is not the out-of-tree build (taint flags: \'\')'],
    ['an in-tree build, proprietary-tainted', { initstate: 'live\n', taint: 'P\n' }, 1, 'not the out-of-tree build (taint flags: \'P\')'],
    ['the out-of-tree build, unsigned', { initstate: 'live\n', taint: 'OE\n' }, 0, 'kernel module ice is live'],
    ['the out-of-tree build, no newline at the end of the files', { initstate: 'live', taint: 'O' }, 0, 'kernel module ice is live'],
  ])('requireOutOfTree (the default): %s', (_name, files, status, output) => {
    const result = run(emitted(true), files);
    expect(result).toEqual({ status, stdout: expect.stringContaining(output) });
  });

  test.each<[string, Record<string, string> | undefined, number]>([
    ['not loaded', undefined, 1],
    ['the in-tree build', { initstate: 'live\n', taint: '\n' }, 0],
    ['loading', { initstate: 'coming\n' }, 1],
  ])('requireOutOfTree false: %s', (_name, files, status) => {
    expect(run(emitted(false), files).status).toBe(status);
  });

  withShellcheck()('shellcheck finds nothing in either variant', () => {
    for (const requireOutOfTree of [true, false]) {
      const result = spawnSync('shellcheck', ['--shell=sh', '--severity=style', '-'], { input: emitted(requireOutOfTree), encoding: 'utf8' });
      expect({ requireOutOfTree, status: result.status, output: result.stdout + result.stderr }).toEqual({ requireOutOfTree, status: 0, output: '' });
    }
  });
});

describe('every problem at once', () => {
  test('a health check with three bad props and two bad tolerations: one error, one line each, in the order of the props', () => {
    const message = errorOf(() => new KernelModuleHealthCheck(Testing.chart(), 'check', {
      kernelModuleName: 'ice x',
      nodeSelector: { a: 'b' },
      image: '',
      tolerations: [{ key: '' }, { key: 'ok', operator: 'In' as TolerationOperator }],
      requireOutOfTree: 'no' as any,
    })).message;
    expect(message.split('\n')).toEqual([
      expect.stringMatching(/^test\/check: Invalid kernelModuleName "ice x": /),
      expect.stringMatching(/^test\/check: Invalid image "": must not be empty/),
      expect.stringMatching(/^test\/check: Invalid tolerations\[0\]\.key "": must not be empty/),
      expect.stringMatching(/^test\/check: Invalid tolerations\[1\]\.operator "In": must be one of/),
      expect.stringMatching(/^test\/check: Invalid requireOutOfTree "no": must be a boolean/),
    ]);
  });

  test('a Day1KernelModule reports a bad toleration together with its other bad props', () => {
    const chart = Testing.chart();
    const message = errorOf(() => new Day1KernelModule(chart, 'ice', {
      pool: clusterPool(chart),
      kernelModuleImage: 'quay.io/x/ice:v1',
      kernelModuleName: 'ice',
      healthCheck: true,
      healthCheckTolerations: [{ key: 'ok' }, { value: 'v' }],
    })).message;
    expect(message.split('\n')).toEqual([
      expect.stringMatching(/^test\/ice: Invalid kernelModuleImage "quay.io\/x\/ice:v1": must not have a tag/),
      expect.stringMatching(/^test\/ice: Invalid healthCheckTolerations\[1\]\.operator "Equal": must be TolerationOperator.EXISTS when key is unset/),
    ]);
  });
});

describe('the health checks\' Namespace has one home, whatever the construction order', () => {
  /** Two charts, `first` created first; modules with health checks built in the given order. */
  function build(order: Array<'early' | 'late'>, dependency?: boolean): App {
    const app = Testing.app();
    const first = new Chart(app, 'first');
    const second = new Chart(app, 'second');
    const pool = KmmMachineConfigPool.fromPoolName(first, 'pool', 'worker');
    for (const which of order) {
      const chart = which === 'early' ? first : second;
      new Day1KernelModule(chart, which, { pool, kernelModuleImage: IMAGE, kernelModuleName: which, healthCheck: true, syncWaves: which === 'late' });
    }
    // Makes cdk8s write `second` before `first`.
    if (dependency) first.addDependency(second);
    return app;
  }

  function homes(app: App): string[] {
    return app.charts.filter((chart) => Testing.synth(chart).some((o: any) => o.kind === 'Namespace')).map((chart) => chart.node.path);
  }

  test('in the first chart of the app that holds a health check in it, with the sync wave when any health check has one', () => {
    const forward = build(['early', 'late']);
    const backward = build(['late', 'early']);
    expect(homes(forward)).toEqual(['first']);
    expect(homes(backward)).toEqual(['first']);
    expect(forward.synthYaml()).toEqual(backward.synthYaml());
    expect(only(loadAll(forward.synthYaml()) as Manifest[], 'Namespace').metadata.annotations).toEqual(syncWave('0'));
  });

  test('a chart dependency added afterwards changes the chart order: the Namespace moves to the new first chart, before its DaemonSet', () => {
    const app = build(['early', 'late'], true);
    expect(app.charts.map((chart) => chart.node.path)).toEqual(['second', 'first']);
    const yaml = app.synthYaml();
    expect(homes(app)).toEqual(['second']);
    const kinds = (loadAll(yaml) as Manifest[]).map((m) => `${m.kind} ${m.metadata.name}`);
    expect(kinds.filter((k) => k.startsWith('Namespace'))).toEqual(['Namespace kmm-day1-health']);
    expect(kinds.indexOf('Namespace kmm-day1-health')).toBeLessThan(kinds.indexOf('DaemonSet 99-worker-kmm-day1-late'));
  });
});
