// The modules the CLI needs, not the validation index (which also loads the constructs' rules).
import { DEFAULT_WORKER_IMAGE, ProduceMachineConfigOptions } from '../validation/settings';

/*
 * The flags of day1-utility. Names are those of KMM's own utility so existing scripts keep
 * working; `module-parameters` is ours (KMM cannot pass module parameters). This table is the
 * single source for parsing, --help and translating validation errors back to flag names.
 */

export const PROGRAM = 'day1-utility';

/** The one subcommand; its code is loaded only when it runs (src/cli/check-images). */
export const CHECK_IMAGES_SUBCOMMAND = 'check-images';

/** How the text of a flag becomes an option value. */
export type FlagKind = 'string' | 'list' | 'parameters';

export interface FlagSpec {
  /** The flag name without dashes. */
  readonly name: string;
  /** The `produceMachineConfig` option it sets; validation errors name this field. */
  readonly field: keyof ProduceMachineConfigOptions;
  readonly kind: FlagKind;
  readonly required: boolean;
  /** Placeholder for the value in --help. */
  readonly metavar: string;
  /** Lines of explanation in --help. */
  readonly meaning: readonly string[];
  readonly example: string;
}

export const FLAGS: readonly FlagSpec[] = [
  {
    name: 'machine-config',
    field: 'machineConfigName',
    kind: 'string',
    required: true,
    metavar: 'NAME',
    meaning: ['Name of the MachineConfig to create (metadata.name); it also prefixes the names of its two systemd units.'],
    example: '99-worker-ice-day1',
  },
  {
    name: 'machine-config-pool',
    field: 'machineConfigPoolRef',
    kind: 'string',
    required: true,
    metavar: 'POOL',
    meaning: ['MachineConfigPool role the MachineConfig targets (the value of its machineconfiguration.openshift.io/role label).'],
    example: 'worker',
  },
  {
    name: 'image',
    field: 'kernelModuleImage',
    kind: 'string',
    required: true,
    metavar: 'IMAGE',
    meaning: [
      'Container image repository holding the kernel module under /opt/lib/modules/<kernel release>,',
      'without tag or digest: each node pulls IMAGE:$(uname -r), so cluster upgrades need no new MachineConfig.',
    ],
    example: 'quay.io/example/ice-driver',
  },
  {
    name: 'kernel-module',
    field: 'kernelModuleName',
    kind: 'string',
    required: true,
    metavar: 'MODULE',
    meaning: ['Name of the out-of-tree kernel module to load (the .ko file name without .ko).'],
    example: 'ice',
  },
  {
    name: 'in-tree-modules-to-remove',
    field: 'inTreeModulesToRemove',
    kind: 'list',
    required: false,
    metavar: 'LIST',
    meaning: [
      'Comma-separated in-tree kernel modules to unload before the out-of-tree module is loaded',
      '(those not loaded are skipped). Empty or not given: none.',
    ],
    example: 'ice,irdma',
  },
  {
    name: 'worker-image',
    field: 'workerImage',
    kind: 'string',
    required: false,
    metavar: 'IMAGE',
    meaning: [
      'KMM worker image that loads the module, as a full reference (a digest is best for fleets).',
      `Empty or not given: ${DEFAULT_WORKER_IMAGE}`,
    ],
    example: 'registry.example.com/kmm/kernel-module-management-worker:v2.2',
  },
  {
    name: 'firmware-files-path',
    field: 'firmwareFilesPath',
    kind: 'string',
    required: false,
    metavar: 'PATH',
    meaning: [
      "Directory inside the module image whose files are copied to the node's /var/lib/firmware",
      'before the module is loaded. Empty or not given: no firmware.',
    ],
    example: '/opt/lib/firmware/ice',
  },
  {
    name: 'module-parameters',
    field: 'moduleParameters',
    kind: 'parameters',
    required: false,
    metavar: 'LIST',
    meaning: [
      'Comma-separated module parameters passed to modprobe, each name=value. Empty or not given: none.',
      'A value may itself contain commas: a comma-separated piece without "=" continues the previous',
      'parameter, so rss=4,4,debug=1 means the two parameters rss=4,4 and debug=1.',
    ],
    example: 'debug=1,rss=4,4',
  },
  {
    name: 'peer-machine-configs',
    field: 'peerMachineConfigNames',
    kind: 'list',
    required: false,
    metavar: 'LIST',
    meaning: [
      'Comma-separated names of the other Day 1 MachineConfigs whose units run on the same nodes (same pool,',
      'or the role the pool builds on). The replace unit loads after those whose names sort before this one',
      'and before the others, so no two loads of a pool overlap. Duplicates and this MachineConfig\'s own name',
      'are ignored. Empty or not given: none.',
    ],
    example: '99-worker-kmm-day1-ice,99-worker-kmm-day1-sfc',
  },
];

/** Flags that act instead of generating: `-h`/`--help` and `--version`. */
export const HELP_NAMES: readonly string[] = ['h', 'help'];
export const VERSION_NAME = 'version';

const BY_FIELD = new Map<string, FlagSpec>(FLAGS.map((flag) => [flag.field, flag]));

/** The flag that sets an option field, if any. */
export function flagForField(field: string): FlagSpec | undefined {
  return BY_FIELD.get(field);
}

const INDENT = '      ';

export function usage(): string {
  const describe = (flag: FlagSpec) => [
    `  --${flag.name} ${flag.metavar}`,
    ...flag.meaning.map((line) => `${INDENT}${line}`),
    `${INDENT}Example: --${flag.name} ${flag.example}`,
  ];
  const required = FLAGS.filter((flag) => flag.required);
  return [
    `Usage: ${PROGRAM} ${required.map((flag) => `--${flag.name} ${flag.metavar}`).join(' ')} [optional flags]`,
    '',
    'Prints the MachineConfig YAML that loads an out-of-tree kernel module at boot (Day 1) on the nodes',
    "of a MachineConfigPool. The flags are those of KMM's day1-utility. Each flag is given at most once,",
    'as -flag value, -flag=value, --flag value or --flag=value. An optional flag with an empty value is',
    'the same as not giving it (so scripts may pass empty variables); a required one must not be empty.',
    '',
    'Required flags:',
    ...required.flatMap(describe),
    '',
    'Optional flags:',
    ...FLAGS.filter((flag) => !flag.required).flatMap(describe),
    '  -h, --help',
    `${INDENT}Print this help and exit.`,
    '  --version',
    `${INDENT}Print the version of ${PROGRAM} and exit.`,
    '',
    'Example:',
    `  ${PROGRAM} --machine-config name --machine-config-pool mcpRef --image quay.io/project/repo \\`,
    '    --kernel-module testKernelModuleName --firmware-files-path /opt/lib/test/firmware \\',
    '    --in-tree-modules-to-remove it1,it2 > machineconfig.yaml',
    '',
    'Subcommand:',
    `  ${PROGRAM} ${CHECK_IMAGES_SUBCOMMAND} FILE|FOLDER... --kernel-release RELEASE | --nodes FILE ...`,
    `${INDENT}Asks the registries whether every Day 1 module image exists for the given kernel releases`,
    `${INDENT}(before a cluster upgrade). See ${PROGRAM} ${CHECK_IMAGES_SUBCOMMAND} --help.`,
    '',
    'Exit status: 0 on success, 1 when a value is invalid (every invalid value is reported, one line each),',
    '2 when the command line is malformed.',
    '',
  ].join('\n');
}
