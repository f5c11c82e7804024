import { Day1MachineConfigProducer, produceMachineConfig, ProduceMachineConfigOptions, renderDay1Ignition } from '../../src';
import { PULL_UNIT_SUFFIX, REPLACE_UNIT_SUFFIX } from '../../src/boot';
import {
  checkDns1123Subdomain,
  checkLabelKey,
  Day1ValidationError,
  MAX_MACHINE_CONFIG_NAME_LENGTH,
  checkSecretName,
  optional,
  ProblemCollector,
  ValidationProblem,
} from '../../src/validation';
import { REFERENCE_OPTIONS } from '../util/reference';

/** Runs the generator and returns the validation error it throws. */
function rejection(overrides: Partial<Record<keyof ProduceMachineConfigOptions, unknown>>): Day1ValidationError {
  try {
    produceMachineConfig({ ...REFERENCE_OPTIONS, ...overrides } as ProduceMachineConfigOptions);
  } catch (e) {
    expect(e).toBeInstanceOf(Day1ValidationError);
    return e as Day1ValidationError;
  }
  throw new Error(`accepted ${JSON.stringify(overrides)}`);
}

const accepts = (overrides: Partial<ProduceMachineConfigOptions>) =>
  expect(() => produceMachineConfig({ ...REFERENCE_OPTIONS, ...overrides })).not.toThrow();

// [case, overrides, field named in the message, words of the rule]
const REJECTED: Array<[string, Partial<Record<keyof ProduceMachineConfigOptions, unknown>>, string, RegExp]> = [
  ['module image with a tag', { kernelModuleImage: 'quay.io/project/repo:1.0' }, 'kernelModuleImage', /must not have a tag or digest.*uname -r/],
  ['module image with a digest', { kernelModuleImage: 'quay.io/project/repo@sha256:' + 'b'.repeat(64) }, 'kernelModuleImage', /must not have a tag or digest/],
  ['module image with a tag and a registry port', { kernelModuleImage: 'reg:5000/repo:v1' }, 'kernelModuleImage', /must not have a tag or digest/],
  ['module image in upper case', { kernelModuleImage: 'quay.io/Project/repo' }, 'kernelModuleImage', /lowercase/],
  ['module image with a space', { kernelModuleImage: 'quay.io/project/repo x' }, 'kernelModuleImage', /OCI image repository name/],
  ['module image with shell syntax', { kernelModuleImage: 'quay.io/$(reboot)' }, 'kernelModuleImage', /OCI image repository name/],
  ['module image with a trailing slash', { kernelModuleImage: 'quay.io/project/' }, 'kernelModuleImage', /OCI image repository name/],
  ['module image missing', { kernelModuleImage: '' }, 'kernelModuleImage', /required/],
  ['module image too long', { kernelModuleImage: 'quay.io/' + 'a'.repeat(250) }, 'kernelModuleImage', /at most 255/],
  ['module image not a string', { kernelModuleImage: 42 }, 'kernelModuleImage', /must be a string/],
  ['worker image invalid', { workerImage: 'quay.io/kmm/worker:bad tag' }, 'workerImage', /OCI image reference/],
  ['worker image with a bad digest', { workerImage: 'quay.io/kmm/worker@sha256:xyz' }, 'workerImage', /OCI image reference/],
  ['module name with a dot', { kernelModuleName: 'ice.ko' }, 'kernelModuleName', /Linux kernel module name/],
  ['module name starting with -', { kernelModuleName: '-ice' }, 'kernelModuleName', /not starting with "-"/],
  ['module name too long', { kernelModuleName: 'm'.repeat(56) }, 'kernelModuleName', /at most 55/],
  ['module name missing', { kernelModuleName: undefined }, 'kernelModuleName', /is required/],
  ['in-tree module name invalid', { inTreeModulesToRemove: ['ok', 'bad name'] }, 'inTreeModulesToRemove[1]', /Linux kernel module name/],
  ['in-tree module listed twice', { inTreeModulesToRemove: ['it_1', 'it-1'] }, 'inTreeModulesToRemove[1]', /duplicates inTreeModulesToRemove\[0\]/],
  ['in-tree modules not a list', { inTreeModulesToRemove: 'it1,it2' }, 'inTreeModulesToRemove', /list of strings/],
  ['in-tree list with an empty entry', { inTreeModulesToRemove: [''] }, 'inTreeModulesToRemove[0]', /must not be empty/],
  ['machine config name in upper case', { machineConfigName: 'Name' }, 'machineConfigName', /DNS-1123 subdomain/],
  ['machine config name with an underscore', { machineConfigName: 'my_mc' }, 'machineConfigName', /DNS-1123 subdomain/],
  ['machine config name too long for the unit name', { machineConfigName: 'a'.repeat(MAX_MACHINE_CONFIG_NAME_LENGTH + 1) }, 'machineConfigName', /255-character limit/],
  ['machine config name missing', { machineConfigName: '' }, 'machineConfigName', /required/],
  ['pool reference empty', { machineConfigPoolRef: '' }, 'machineConfigPoolRef', /required/],
  ['pool reference not a label value', { machineConfigPoolRef: 'worker pool' }, 'machineConfigPoolRef', /label value/],
  ['pool reference too long', { machineConfigPoolRef: 'p'.repeat(64) }, 'machineConfigPoolRef', /at most 63/],
  ['firmware path relative', { firmwareFilesPath: 'opt/firmware' }, 'firmwareFilesPath', /absolute, normalized/],
  ['firmware path with ..', { firmwareFilesPath: '/opt/../etc' }, 'firmwareFilesPath', /"\." and "\.\." segments/],
  ['firmware path with .', { firmwareFilesPath: '/opt/./fw' }, 'firmwareFilesPath', /"\." and "\.\." segments/],
  ['firmware path with a trailing slash', { firmwareFilesPath: '/opt/fw/' }, 'firmwareFilesPath', /no trailing/],
  ['firmware path with //', { firmwareFilesPath: '/opt//fw' }, 'firmwareFilesPath', /absolute, normalized/],
  ['firmware path with whitespace', { firmwareFilesPath: '/opt/my fw' }, 'firmwareFilesPath', /whitespace/],
  ['firmware path with a specifier', { firmwareFilesPath: '/opt/%n' }, 'firmwareFilesPath', /metacharacters/],
  ['firmware path with a newline', { firmwareFilesPath: '/opt/fw\nExecStart=/bin/sh' }, 'firmwareFilesPath', /metacharacters/],
  ['firmware path root', { firmwareFilesPath: '/' }, 'firmwareFilesPath', /absolute, normalized/],
  ['module parameter without =', { moduleParameters: ['debug'] }, 'moduleParameters[0]', /must be name=value/],
  ['module parameter with an empty value', { moduleParameters: ['debug='] }, 'moduleParameters[0]', /non-empty value/],
  ['module parameter with a quote', { moduleParameters: ['a="x y"'] }, 'moduleParameters[0]', /must be name=value/],
  ['module parameter with $()', { moduleParameters: ['a=$(id)'] }, 'moduleParameters[0]', /must be name=value/],
  ['module parameter given twice', { moduleParameters: ['a_b=1', 'a-b=2'] }, 'moduleParameters[1]', /duplicates moduleParameters\[0\]/],
];

describe('validation', () => {
  test.each(REJECTED)('rejects %s, naming the field and the value', (_, overrides, field, rule) => {
    const error = rejection(overrides);
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`Invalid ${field} `)).toBe(true);
    const value = Object.values(overrides)[0];
    const shown = Array.isArray(value) ? JSON.stringify(value[Number(/\[(\d+)\]/.exec(field)?.[1] ?? 0)]) : JSON.stringify(value) ?? 'undefined';
    expect(error.message).toContain(shown.slice(0, 100));
    expect(error.message).toMatch(rule);
  });

  test('the longest machine config name still gives unit names within systemd\'s limit', () => {
    const name = 'a'.repeat(MAX_MACHINE_CONFIG_NAME_LENGTH);
    accepts({ machineConfigName: name });
    expect(Math.max(REPLACE_UNIT_SUFFIX.length, PULL_UNIT_SUFFIX.length) + name.length).toBe(255);
  });

  test.each([
    ['a registry with a port', { kernelModuleImage: 'registry.example.com:5000/org/driver' }],
    ['a single path component', { kernelModuleImage: 'driver' }],
    ['separators in the path', { kernelModuleImage: 'quay.io/my_org/ice-driver__x.y' }],
    ['a worker image with a tag and a digest', { workerImage: 'quay.io/kmm/worker:v2.3@sha256:' + 'c'.repeat(64) }],
    ['a module name with - and _', { kernelModuleName: 'mlx5_core-oot' }],
    ['a 55-character module name', { kernelModuleName: 'm'.repeat(55) }],
    ['a pool reference with upper case and _', { machineConfigPoolRef: 'mcpRef_1' }],
    ['a dotted machine config name', { machineConfigName: '99-worker.kmm-ice' }],
    ['firmware with + and @', { firmwareFilesPath: '/opt/lib/fw+x@1' }],
    ['parameters with commas and colons', { moduleParameters: ['rss=4,4', 'mac=00:11:22:33:44:55', 'path=/lib/x'] }],
  ])('accepts %s', (_, overrides) => {
    accepts(overrides as Partial<ProduceMachineConfigOptions>);
  });

  test('long values are shortened in the message, control characters stay visible', () => {
    const error = rejection({ kernelModuleImage: 'x\n'.repeat(200) });
    expect(error.message).toContain('"x\\nx\\n');
    expect(error.message).toMatch(/…\(602 characters\)/);
  });
});

describe('Kubernetes name and label-key rules used by the constructs', () => {
  test.each([
    ['example.com/role', true],
    ['node-role.kubernetes.io/oot-nic', true],
    ['zone', true],
    ['Example.com/role', false],
    ['/role', false],
    ['a/b/c', false],
    ['role-', false],
    ['k'.repeat(64), false],
    ['a b', false],
  ])('label key %j accepted: %s', (key, ok) => {
    const check = () => checkLabelKey('nodeSelector["x"]', key);
    if (ok) {
      expect(check()).toBe(key);
    } else {
      expect(check).toThrow(/^Invalid nodeSelector\["x"\] .*must be a Kubernetes label key/);
    }
  });

  test.each([
    ['ice-pull-secret', true],
    ['a.b-c', true],
    ['Secret', false],
    ['-a', false],
    ['a'.repeat(254), false],
  ])('object name %j accepted: %s', (name, ok) => {
    const check = () => checkDns1123Subdomain('imageRepoSecret', name);
    if (ok) {
      expect(check()).toBe(name);
    } else {
      expect(check).toThrow(/^Invalid imageRepoSecret .*DNS-1123 subdomain/);
    }
  });

  test('optional names: undefined is not set, an empty string is rejected', () => {
    expect(optional('imageRepoSecret', undefined, 'no secret', checkSecretName)).toBeUndefined();
    expect(optional('imageRepoSecret', null, 'no secret', checkSecretName)).toBeUndefined();
    expect(() => optional('imageRepoSecret', '', 'no secret', checkSecretName))
      .toThrow('Invalid imageRepoSecret "": must not be empty: leave it out for no secret');
    expect(() => optional('imageRepoSecret', 'Bad', 'no secret', checkSecretName)).toThrow(/imageRepoSecret/);
  });
});

/** The error `fn` throws, which must be ours. */
function validationError(fn: () => unknown): Day1ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Day1ValidationError);
    return e as Day1ValidationError;
  }
  throw new Error('accepted');
}

describe('every problem at once', () => {
  test('no options at all: each required field, in the order of the options interface', () => {
    const error = validationError(() => produceMachineConfig({} as ProduceMachineConfigOptions));
    expect(error.message).toBe([
      'Invalid kernelModuleImage undefined: is required',
      'Invalid kernelModuleName undefined: is required',
      'Invalid machineConfigName undefined: is required',
      'Invalid machineConfigPoolRef undefined: is required',
    ].join('\n'));
    expect(error.problems).toEqual([
      { field: 'kernelModuleImage', value: 'undefined', rule: 'is required' },
      { field: 'kernelModuleName', value: 'undefined', rule: 'is required' },
      { field: 'machineConfigName', value: 'undefined', rule: 'is required' },
      { field: 'machineConfigPoolRef', value: 'undefined', rule: 'is required' },
    ]);
  });

  const MANY_BAD: Partial<Record<keyof ProduceMachineConfigOptions, unknown>> = {
    // Given in another order than the interface: the report follows the interface.
    peerMachineConfigNames: ['ok', 'Bad_1', 'also-ok', 'Bad_2'],
    machineConfigPoolRef: 'pool with spaces',
    moduleParameters: ['debug', 'ok=1', 'x=$(id)'],
    workerImage: '',
    firmwareFilesPath: 'relative',
    inTreeModulesToRemove: ['ok', 'bad name', 'ok'],
    kernelModuleName: 'ice.ko',
    kernelModuleImage: 'quay.io/a/ice:v1',
  };

  test('one line per invalid field and list entry, in interface order, then index order', () => {
    const error = validationError(() => produceMachineConfig({ ...REFERENCE_OPTIONS, ...MANY_BAD } as ProduceMachineConfigOptions));
    expect(error.problems.map((p) => `${p.field} ${p.value}`)).toEqual([
      'kernelModuleImage "quay.io/a/ice:v1"',
      'kernelModuleName "ice.ko"',
      'inTreeModulesToRemove[1] "bad name"',
      'inTreeModulesToRemove[2] "ok"',
      'firmwareFilesPath "relative"',
      'workerImage ""',
      'moduleParameters[0] "debug"',
      'moduleParameters[2] "x=$(id)"',
      'machineConfigPoolRef "pool with spaces"',
      'peerMachineConfigNames[1] "Bad_1"',
      'peerMachineConfigNames[3] "Bad_2"',
    ]);
    expect(error.problems[3].rule).toBe('duplicates inTreeModulesToRemove[0]; list each entry once');
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(error.problems.length);
    lines.forEach((line, i) => {
      const p = error.problems[i];
      expect(line).toBe(`Invalid ${p.field} ${p.value}: ${p.rule}`);
    });
  });

  test('renderDay1Ignition and the producer class report the same problems', () => {
    const options = { ...REFERENCE_OPTIONS, ...MANY_BAD } as ProduceMachineConfigOptions;
    const fromProduce = validationError(() => produceMachineConfig(options));
    expect(validationError(() => renderDay1Ignition(options)).problems).toEqual(fromProduce.problems);
    expect(validationError(() => Day1MachineConfigProducer.produce(options)).problems).toEqual(fromProduce.problems);
    expect(Day1MachineConfigProducer.validate(options)).toEqual(fromProduce.problems);
  });

  test('validate lists nothing for valid options, and never throws', () => {
    expect(Day1MachineConfigProducer.validate(REFERENCE_OPTIONS)).toEqual([]);
    expect(Day1MachineConfigProducer.validate(null as unknown as ProduceMachineConfigOptions))
      .toEqual([{ field: 'options', value: 'null', rule: 'must be an object' }]);
  });

  test('an invalid machineConfigName does not hide problems of the peers', () => {
    const error = validationError(() => produceMachineConfig({ ...REFERENCE_OPTIONS, machineConfigName: 'Bad', peerMachineConfigNames: ['Bad', 'x y'] }));
    expect(error.problems.map((p) => p.field)).toEqual(['machineConfigName', 'peerMachineConfigNames[0]', 'peerMachineConfigNames[1]']);
  });

  test.each([
    ['firmwareFilesPath', 'no firmware'],
    ['workerImage', 'the default worker image (quay.io/edge-infrastructure/kernel-module-management-worker:latest)'],
  ])('an empty %s is rejected, not taken for the default', (field, unset) => {
    const error = validationError(() => produceMachineConfig({ ...REFERENCE_OPTIONS, [field]: '' }));
    expect(error.message).toBe(`Invalid ${field} "": must not be empty: leave it out for ${unset}`);
  });

  test('undefined and null optional strings mean not set', () => {
    const base = produceMachineConfig({ ...REFERENCE_OPTIONS, firmwareFilesPath: undefined });
    expect(produceMachineConfig({ ...REFERENCE_OPTIONS, firmwareFilesPath: null as unknown as string })).toBe(base);
    expect(produceMachineConfig({ ...REFERENCE_OPTIONS, workerImage: undefined })).toBe(produceMachineConfig(REFERENCE_OPTIONS));
  });
});

describe('Day1ValidationError and ProblemCollector', () => {
  test('a single problem keeps the one-line message of earlier releases', () => {
    const error = new Day1ValidationError('kernelModuleName', 'ice.ko', 'must be a name');
    expect(error.message).toBe('Invalid kernelModuleName "ice.ko": must be a name');
    expect(error.name).toBe('Day1ValidationError');
    expect([error.field, error.rule]).toEqual(['kernelModuleName', 'must be a name']);
    expect(error.problems).toEqual([{ field: 'kernelModuleName', value: '"ice.ko"', rule: 'must be a name' }]);
  });

  test('problems with a path are prefixed with it, one line each', () => {
    const problems: ValidationProblem[] = [
      { path: 'c/ice', field: 'a', value: '"x"', rule: 'r1' },
      { field: 'b', value: '42', rule: 'r2' },
    ];
    const error = Day1ValidationError.of(problems);
    expect(error.message).toBe('c/ice: Invalid a "x": r1\nInvalid b 42: r2');
    expect(error.problems).toEqual(problems);
    expect(() => Day1ValidationError.of([])).toThrow(/at least one problem/);
  });

  test('the collector orders by the field list, then by discovery, and adds its path and prefix', () => {
    const collector = new ProblemCollector('c/ice', ['a', 'b', 'c'], 'opts.');
    collector.add('c', 1, 'r');
    collector.check(() => {
      throw Day1ValidationError.of([{ field: 'b[1]', value: '"y"', rule: 'r' }, { field: 'b[0]', value: '"x"', rule: 'r' }]);
    });
    collector.add('zzz', 2, 'r');
    collector.add('a.x', 3, 'r');
    expect(collector.check(() => 'fine')).toBe('fine');
    expect(collector.problems.map((p) => `${p.path} ${p.field}`)).toEqual(['c/ice opts.a.x', 'c/ice opts.b[1]', 'c/ice opts.b[0]', 'c/ice opts.c', 'c/ice opts.zzz']);
    expect(() => collector.throwIfAny()).toThrow(Day1ValidationError);
  });

  test('errors that are not validation errors pass through the collector', () => {
    const collector = new ProblemCollector();
    expect(() => collector.check(() => {
      throw new TypeError('bug');
    })).toThrow(TypeError);
    expect(collector.ok).toBe(true);
    expect(() => collector.throwIfAny()).not.toThrow();
  });

  test('a derived value names where it came from', () => {
    const collector = new ProblemCollector();
    collector.checkDerived('the default name, derived from x', () => checkDns1123Subdomain('name', 'A'));
    expect(collector.problems[0].rule).toMatch(/DNS-1123 subdomain.* \(the default name, derived from x\)$/);
  });
});
