import { parseArguments, splitList, splitModuleParameters, UsageError } from '../../src/cli/arguments';
import { describeProblem, EXIT_INVALID_VALUE, EXIT_OK, EXIT_USAGE, main } from '../../src/cli/day1-utility';
import { FLAGS, usage } from '../../src/cli/flags';
import { produceMachineConfig } from '../../src/machine-config/generator';
import { Day1ValidationError, ValidationProblem } from '../../src/validation';
import { REFERENCE_OPTIONS } from '../util/reference';

/*
 * The parser and main in-process: fast, and they cover the branches a spawned process
 * cannot reach (a failing output stream, messages that do not follow the usual shape).
 */

const MANDATORY = ['--machine-config', 'm', '--machine-config-pool', 'worker', '--image', 'quay.io/a/b', '--kernel-module', 'ice'];

function capture(argv: readonly string[], stdout: (text: string) => void = () => {}) {
  const out: string[] = [];
  const err: string[] = [];
  const status = main(argv, {
    stdout: (text) => {
      stdout(text);
      out.push(text);
    },
    stderr: (text) => err.push(text),
  });
  return { status, stdout: out.join(''), stderr: err.join(''), writes: out.length };
}

describe('splitModuleParameters', () => {
  test.each([
    ['', []],
    ['debug=1', ['debug=1']],
    ['debug=1,rss=4,4', ['debug=1', 'rss=4,4']],
    ['rss=4,4,debug=1', ['rss=4,4', 'debug=1']],
    ['rss=4,4,4,4', ['rss=4,4,4,4']],
    // A leading piece without "=" has nothing to continue: validation rejects it by itself.
    ['4,rss=4', ['4', 'rss=4']],
    ['a=1,,b=2', ['a=1,', 'b=2']],
    ['a=1,', ['a=1,']],
    ['a=b=c,d', ['a=b=c,d']],
  ])('%j → %j', (text, expected) => {
    expect(splitModuleParameters(text)).toEqual(expected);
  });
});

describe('splitList', () => {
  test.each([
    ['', []],
    ['ice', ['ice']],
    ['it1,it2', ['it1', 'it2']],
    // Empty items are not dropped: validation names them, instead of the CLI hiding a typo.
    ['it1,,it2', ['it1', '', 'it2']],
    [' it1', [' it1']],
  ])('%j → %j', (text, expected) => {
    expect(splitList(text)).toEqual(expected);
  });
});

describe('parseArguments', () => {
  test('maps every flag to its option', () => {
    const command = parseArguments([
      ...MANDATORY,
      '--in-tree-modules-to-remove', 'ice,irdma',
      '--worker-image', 'w:1',
      '--firmware-files-path', '/fw',
      '--module-parameters', 'a=1,b=2,3',
      '--peer-machine-configs', 'p2,p1',
    ]);
    expect(command).toEqual({
      action: 'generate',
      options: {
        machineConfigName: 'm',
        machineConfigPoolRef: 'worker',
        kernelModuleImage: 'quay.io/a/b',
        kernelModuleName: 'ice',
        inTreeModulesToRemove: ['ice', 'irdma'],
        workerImage: 'w:1',
        firmwareFilesPath: '/fw',
        moduleParameters: ['a=1', 'b=2,3'],
        peerMachineConfigNames: ['p2', 'p1'],
      },
    });
  });

  test('passes values unchanged, even ones validation will reject', () => {
    const command = parseArguments(['--machine-config=', '--machine-config-pool', ' x ', '--image', '-dash', '--kernel-module=a=b']);
    expect(command).toEqual({
      action: 'generate',
      options: { machineConfigName: '', machineConfigPoolRef: ' x ', kernelModuleImage: '-dash', kernelModuleName: 'a=b' },
    });
  });

  test('a final "--" ends the flags', () => {
    expect(parseArguments([...MANDATORY, '--'])).toEqual(parseArguments(MANDATORY));
  });

  test('an empty optional flag is absent from the options, as if not given; an empty list is none', () => {
    const command = parseArguments([...MANDATORY, '--worker-image=', '--firmware-files-path', '', '--in-tree-modules-to-remove=',
      '--module-parameters=', '--peer-machine-configs', '']);
    expect(command).toEqual({
      action: 'generate',
      options: {
        machineConfigName: 'm',
        machineConfigPoolRef: 'worker',
        kernelModuleImage: 'quay.io/a/b',
        kernelModuleName: 'ice',
        inTreeModulesToRemove: [],
        moduleParameters: [],
        peerMachineConfigNames: [],
      },
    });
  });

  test('an empty required flag goes on to validation, which rejects it', () => {
    const command = parseArguments(['--machine-config=', ...MANDATORY.slice(2)]);
    expect(command.action === 'generate' && command.options.machineConfigName).toBe('');
  });

  test('an optional flag not given is absent from the options', () => {
    const command = parseArguments(MANDATORY);
    expect(command.action === 'generate' && Object.keys(command.options).sort()).toEqual(
      ['kernelModuleImage', 'kernelModuleName', 'machineConfigName', 'machineConfigPoolRef']);
  });

  test.each([['-h'], ['--h'], ['-help'], ['--help']])('%s asks for help', (arg) => {
    expect(parseArguments([arg])).toEqual({ action: 'help' });
  });

  test.each([['-version'], ['--version']])('%s asks for the version', (arg) => {
    expect(parseArguments([...MANDATORY, arg])).toEqual({ action: 'version' });
  });

  test.each([
    [['--nope'], 'unknown flag "--nope"'],
    [['--nope=1'], 'unknown flag "--nope"'],
    [['--=x'], 'unknown flag "--=x"'],
    [['-'], 'unexpected argument "-"'],
    [['x'], 'unexpected argument "x"'],
    [['--image'], 'flag --image needs a value'],
    [['--image', '--kernel-module=x'], 'flag --image needs a value'],
    [['--image', '-version'], 'flag --image needs a value'],
    [['--image', 'a', '-image', 'a'], 'flag --image is given more than once'],
    [['--help=1'], 'flag --help does not take a value'],
    [['--', 'x'], 'unexpected argument "x" after "--"'],
    [['--image', 'a'], 'missing required flags --machine-config, --machine-config-pool, --kernel-module'],
    [[...MANDATORY.slice(2)], 'missing required flag --machine-config'],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(() => parseArguments(argv)).toThrow(new UsageError(message));
  });
});

describe('main', () => {
  test('writes the YAML in one piece', () => {
    const result = capture([
      '--machine-config', 'name', '--machine-config-pool', 'mcpRef', '--image', 'quay.io/project/repo',
      '--kernel-module', 'testKernelModuleName', '--firmware-files-path', '/opt/lib/test/firmware', '--in-tree-modules-to-remove', 'it1,it2',
    ]);
    expect(result).toEqual({ status: EXIT_OK, stdout: produceMachineConfig(REFERENCE_OPTIONS), stderr: '', writes: 1 });
  });

  test('help is the usage text', () => {
    expect(capture(['--help'])).toEqual({ status: EXIT_OK, stdout: usage(), stderr: '', writes: 1 });
  });

  test('the version comes from package.json', () => {
    const result = capture(['--version']);
    expect(result.status).toBe(EXIT_OK);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
  });

  test('usage errors exit 2 with a hint', () => {
    expect(capture(['--nope'])).toEqual({
      status: EXIT_USAGE,
      stdout: '',
      stderr: 'day1-utility: unknown flag "--nope"\nRun \'day1-utility --help\' for usage.\n',
      writes: 0,
    });
  });

  test('invalid values exit 1 naming the flag', () => {
    const result = capture([...MANDATORY.slice(0, 4), '--image', 'quay.io/a/b:1', '--kernel-module', 'ice']);
    expect(result.status).toBe(EXIT_INVALID_VALUE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^day1-utility: Invalid --image "quay\.io\/a\/b:1": must not have a tag or digest/);
  });

  test('an unexpected error is reported by its message only, exit 1', () => {
    const result = capture(MANDATORY, () => {
      throw new Error('disk full');
    });
    expect(result.status).toBe(EXIT_INVALID_VALUE);
    expect(result.stderr).toBe('day1-utility: internal error: disk full\n');
  });

  test('a failing standard error does not escape', () => {
    const status = main(['--nope'], {
      stdout: () => {},
      stderr: () => {
        throw new Error('gone');
      },
    });
    expect(status).toBe(EXIT_USAGE);
  });
});

describe('describeProblem', () => {
  const problem = (field: string, value: unknown, rule: string): ValidationProblem => new Day1ValidationError(field, value, rule).problems[0];

  test.each(FLAGS.map((flag) => [flag.field, flag.name]))('%s is reported as --%s', (field, name) => {
    expect(describeProblem(problem(field, 'v', 'is wrong'))).toBe(`Invalid --${name} "v": is wrong`);
  });

  test('list items are counted from 1, also inside the rule', () => {
    expect(describeProblem(problem('moduleParameters[2]', 'a=1', 'duplicates moduleParameters[0]; list each entry once')))
      .toBe('Invalid --module-parameters item 3 "a=1": duplicates --module-parameters item 1; list each entry once');
  });

  test('the shown value is never rewritten', () => {
    expect(describeProblem(problem('kernelModuleName', 'kernelModuleImage', 'is wrong'))).toBe('Invalid --kernel-module "kernelModuleImage": is wrong');
  });

  test('a field without a flag keeps the library line', () => {
    expect(describeProblem(problem('options', null, 'must be an object'))).toBe('Invalid options null: must be an object');
  });
});
