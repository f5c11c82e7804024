import { flagToken, quote, UsageError } from '../arguments';
import { CHECK_IMAGES_SUBCOMMAND, PROGRAM } from '../flags';

/*
 * The command line of `day1-utility check-images`: the same flag conventions as the top-level
 * command (one or two dashes, `=value` or the next argument, `--` ends the flags), plus
 * positional files and folders. Repeatable flags collect their values in order.
 */

export const SUBCOMMAND = CHECK_IMAGES_SUBCOMMAND;

/** Bound on one registry request when --timeout is not given. */
export const DEFAULT_TIMEOUT_SECONDS = 10;
const MAX_TIMEOUT_SECONDS = 3600;

export interface CheckImagesOptions {
  /** Files and folders with MachineConfigs and BootModuleConfigs. */
  readonly paths: readonly string[];
  readonly kernelReleases: readonly string[];
  readonly nodesFiles: readonly string[];
  readonly authfile?: string;
  readonly caFiles: readonly string[];
  readonly insecureRegistries: readonly string[];
  readonly timeoutSeconds: number;
  readonly output: 'table' | 'json';
}

export type CheckImagesCommand = { readonly action: 'help' } | { readonly action: 'check'; readonly options: CheckImagesOptions };

interface SubFlag {
  readonly name: string;
  readonly metavar: string;
  readonly repeatable: boolean;
  readonly meaning: readonly string[];
}

export const CHECK_IMAGES_FLAGS: readonly SubFlag[] = [
  {
    name: 'kernel-release',
    metavar: 'RELEASE',
    repeatable: true,
    meaning: ['A kernel release (uname -r) the nodes will boot, e.g. the next OpenShift release\'s. Repeatable.'],
  },
  {
    name: 'nodes',
    metavar: 'FILE',
    repeatable: true,
    meaning: ['Output of `oc get nodes -o json` (or YAML): every status.nodeInfo.kernelVersion in it is checked. Repeatable.'],
  },
  {
    name: 'authfile',
    metavar: 'FILE',
    repeatable: false,
    meaning: [
      'Registry credentials as docker config JSON, the format of the cluster\'s pull secret and of podman\'s',
      'auth.json (auths.<registry>.auth = base64 of user:password, or username and password). Not given: anonymous.',
    ],
  },
  {
    name: 'ca-file',
    metavar: 'FILE',
    repeatable: true,
    meaning: ['PEM certificates to trust for TLS, besides Node\'s and the system\'s CAs. Repeatable.'],
  },
  {
    name: 'insecure-registry',
    metavar: 'HOST[:PORT]',
    repeatable: true,
    meaning: ['Speak plain http to this registry (without a port: on every port). Repeatable.'],
  },
  {
    name: 'timeout',
    metavar: 'SECONDS',
    repeatable: false,
    meaning: [`Bound on each registry request, connection included (default ${DEFAULT_TIMEOUT_SECONDS}).`],
  },
  {
    name: 'output',
    metavar: 'FORMAT',
    repeatable: false,
    meaning: ['table (default) or json.'],
  },
];

const BY_NAME = new Map(CHECK_IMAGES_FLAGS.map((flag) => [flag.name, flag]));
const HELP = ['h', 'help'];

function isFlag(arg: string): boolean {
  const token = flagToken(arg);
  return token !== undefined && (BY_NAME.has(token.name) || HELP.includes(token.name));
}

/** Collects flag values by name and the positional arguments; help wins as soon as it is reached. */
function scan(argv: readonly string[]): { values: Map<string, string[]>; paths: string[] } | undefined {
  const values = new Map<string, string[]>();
  const paths: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i++];
    if (arg === '--') {
      paths.push(...argv.slice(i));
      break;
    }
    const token = arg.length > 1 && arg.startsWith('-') ? flagToken(arg) : undefined;
    if (token === undefined) {
      if (arg.length > 1 && arg.startsWith('-')) throw new UsageError(`unknown flag ${quote(arg)}`);
      paths.push(arg);
      continue;
    }
    if (HELP.includes(token.name)) {
      if (token.value !== undefined) throw new UsageError(`flag --${token.name} does not take a value`);
      return undefined;
    }
    const flag = BY_NAME.get(token.name);
    if (flag === undefined) throw new UsageError(`unknown flag ${quote(arg.split('=')[0])}`);
    let value = token.value;
    if (value === undefined) {
      if (i >= argv.length || argv[i] === '--' || isFlag(argv[i])) throw new UsageError(`flag --${flag.name} needs a value`);
      value = argv[i++];
    }
    const list = values.get(flag.name) ?? [];
    if (!flag.repeatable && list.length > 0) throw new UsageError(`flag --${flag.name} is given more than once`);
    if (value === '') throw new UsageError(`flag --${flag.name} needs a non-empty value`);
    values.set(flag.name, [...list, value]);
  }
  return { values, paths };
}

function timeoutOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_SECONDS;
  const seconds = Number(text);
  if (!/^\d+(?:\.\d+)?$/.test(text) || !(seconds > 0) || seconds > MAX_TIMEOUT_SECONDS) {
    throw new UsageError(`invalid --timeout ${quote(text)}: must be a number of seconds above 0 and at most ${MAX_TIMEOUT_SECONDS}`);
  }
  return seconds;
}

/**
 * Reads the arguments after `check-images`.
 *
 * @throws UsageError for an unknown, repeated or value-less flag, a bad --timeout or --output,
 * no file or folder, or no kernel release source
 */
export function parseCheckImagesArguments(argv: readonly string[]): CheckImagesCommand {
  const scanned = scan(argv);
  if (scanned === undefined) return { action: 'help' };
  const { values, paths } = scanned;
  const output = values.get('output')?.[0] ?? 'table';
  if (output !== 'table' && output !== 'json') {
    throw new UsageError(`invalid --output ${quote(output)}: must be table or json`);
  }
  const timeoutSeconds = timeoutOf(values.get('timeout')?.[0]);
  if (paths.length === 0) {
    throw new UsageError('no MachineConfig or BootModuleConfig file or folder given');
  }
  if (!values.has('kernel-release') && !values.has('nodes')) {
    throw new UsageError('no kernel release: give --kernel-release or --nodes');
  }
  return {
    action: 'check',
    options: {
      paths,
      kernelReleases: values.get('kernel-release') ?? [],
      nodesFiles: values.get('nodes') ?? [],
      authfile: values.get('authfile')?.[0],
      caFiles: values.get('ca-file') ?? [],
      insecureRegistries: values.get('insecure-registry') ?? [],
      timeoutSeconds,
      output,
    },
  };
}

const INDENT = '      ';

/** `day1-utility check-images --help`. */
export function checkImagesUsage(): string {
  return [
    `Usage: ${PROGRAM} ${SUBCOMMAND} [flags] FILE|FOLDER... (--kernel-release RELEASE | --nodes FILE)...`,
    '',
    'Asks the registries whether every Day 1 module image exists for the given kernel releases, and',
    'whether every worker image exists, before a cluster upgrade makes the nodes boot those kernels.',
    '',
    'FILE|FOLDER: MachineConfigs and BootModuleConfigs, as YAML (one or more documents) or JSON, single',
    'objects or `oc get -o yaml|json` lists. Folders are read recursively (*.yaml, *.yml, *.json). Read:',
    'this library\'s MachineConfigs of every release, KMM\'s day1-utility output, the MachineConfig the KMM',
    'operator rewrites after a hand-over (images from the units\' KERNEL_MODULE_IMAGE and WORKER_IMAGE),',
    'and BootModuleConfigs (spec.kernelModuleImage, spec.workerImage). Other objects are skipped.',
    '',
    'The tag of a module image is the kernel release by KMM\'s rule: one trailing "+" dropped, every',
    'character outside [A-Za-z0-9._-] replaced by "_" (5.14.0-427.el9.aarch64+64k -> 5.14.0-427.el9.aarch64_64k).',
    '',
    'Flags:',
    ...CHECK_IMAGES_FLAGS.flatMap((flag) => [`  --${flag.name} ${flag.metavar}`, ...flag.meaning.map((line) => `${INDENT}${line}`)]),
    '  -h, --help',
    `${INDENT}Print this help and exit.`,
    '',
    'Example:',
    `  ${PROGRAM} ${SUBCOMMAND} --nodes nodes.json --kernel-release 5.14.0-570.el9.x86_64 \\`,
    '    --authfile pull-secret.json dist/',
    '',
    'Exit status: 0 when every image exists, 1 when one is missing (each missing image is named on',
    'standard error), 2 on a usage error or unreadable input, 3 when none is missing but a registry could',
    'not answer (unreachable, timeout, TLS, access denied, server error).',
    '',
  ].join('\n');
}
