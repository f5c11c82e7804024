import { dirname, join } from 'path';
import { bootScripts, CRIO_WIPE_UNIT, pullUnit, replaceUnit } from '../boot';
import { IgnitionConfig, ignitionConfig, IgnitionUnit, rootOwnedFile } from '../ignition';
import { ProduceMachineConfigOptions, validateMachineConfigOptions, ValidatedMachineConfigOptions } from '../validation';

export const MACHINE_CONFIG_API_VERSION = 'machineconfiguration.openshift.io/v1';
export const MACHINE_CONFIG_KIND = 'MachineConfig';
/** The label a MachineConfigPool's machineConfigSelector matches. */
export const ROLE_LABEL = 'machineconfiguration.openshift.io/role';
/** Scripts run as root at boot: writable by root only. */
export const SCRIPT_MODE = 0o755;

/** A MachineConfig manifest as a plain object (what gets serialised). */
export interface MachineConfigManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly labels: Record<string, string>;
  };
  readonly spec: {
    readonly config: IgnitionConfig;
  };
}

/** The Ignition config of one Day 1 module, from options that are already validated. */
export function ignitionFromValidated(options: ValidatedMachineConfigOptions): IgnitionConfig {
  const files = bootScripts().map((script) => rootOwnedFile(script.path, script.contents, SCRIPT_MODE));
  const units: IgnitionUnit[] = [
    ...[replaceUnit(options), pullUnit(options)].map((unit) => ({ name: unit.name, enabled: true, contents: unit.contents })),
    { name: CRIO_WIPE_UNIT, enabled: false, mask: true },
  ];
  return ignitionConfig(files, units);
}

/** The MachineConfig object of one Day 1 module, from options that are already validated. */
export function machineConfigFromValidated(options: ValidatedMachineConfigOptions): MachineConfigManifest {
  return {
    apiVersion: MACHINE_CONFIG_API_VERSION,
    kind: MACHINE_CONFIG_KIND,
    metadata: {
      name: options.machineConfigName,
      labels: { [ROLE_LABEL]: options.machineConfigPoolRef },
    },
    spec: { config: ignitionFromValidated(options) },
  };
}

/**
 * The Ignition config (spec 3.2.0) that a Day 1 MachineConfig carries in `spec.config`.
 *
 * @throws Error naming the field when an option is invalid
 */
export function renderDay1Ignition(options: ProduceMachineConfigOptions): IgnitionConfig {
  return ignitionFromValidated(validateMachineConfigOptions(options));
}

type YamlDump = typeof import('js-yaml').dump;
let yamlDump: YamlDump | undefined;

/**
 * js-yaml, loaded on first use from its single-file build: its package entry point pulls in
 * some 25 modules, which is most of the CLI's start-up time. The exports map hides the build,
 * so it is found next to the package.json.
 */
function loadYamlDump(): YamlDump {
  if (yamlDump === undefined) {
    const bundle: { dump: YamlDump } = require(join(dirname(require.resolve('js-yaml/package.json')), 'dist', 'js-yaml.js'));
    yamlDump = bundle.dump;
  }
  return yamlDump;
}

/** Serialises a manifest as one YAML document with a trailing newline, byte-stable. */
export function toYaml(manifest: object): string {
  return loadYamlDump()(manifest, { lineWidth: -1, noRefs: true, quotingType: '"' });
}

/**
 * The MachineConfig YAML that loads one out-of-tree kernel module at boot: the TypeScript
 * counterpart of KMM's `mcproducer.ProduceMachineConfig`. One document, trailing newline,
 * the same bytes for the same options.
 *
 * @throws Error naming the field, the value and the rule when an option is invalid
 */
export function produceMachineConfig(options: ProduceMachineConfigOptions): string {
  return toYaml(machineConfigFromValidated(validateMachineConfigOptions(options)));
}
