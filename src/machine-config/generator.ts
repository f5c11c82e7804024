import { existsSync } from 'fs';
import { dirname, join } from 'path';
import { bootScripts, CRIO_WIPE_UNIT, pullUnit, replaceUnit } from '../boot';
import { IgnitionConfig, ignitionConfig, IgnitionFile, IgnitionUnit, rootOwnedFile } from '../ignition';
import { ProduceMachineConfigOptions, validateMachineConfigOptions, ValidatedMachineConfigOptions, yamlReadsAsNumberOrDate } from '../validation';

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

/**
 * The scripts as Ignition files. Their base64 data URLs (some 13 kB, the same in every
 * MachineConfig) are encoded once per process: encoding them again for each of a thousand
 * modules cost 40 ms of synthesis.
 */
let scriptFiles: IgnitionFile[] | undefined;
function bootFiles(): IgnitionFile[] {
  scriptFiles ??= bootScripts().map((script) => rootOwnedFile(script.path, script.contents, SCRIPT_MODE));
  // Fresh objects for each config: callers, and cdk8s, may keep or change what they are given.
  return scriptFiles.map((file) => ({ ...file, user: { ...file.user }, group: { ...file.group }, contents: { ...file.contents } }));
}

/** A boot script of this release as every Day 1 MachineConfig carries it. */
export interface BootScriptFile {
  readonly path: string;
  /** The data URL of `contents.source`, byte for byte what the MachineConfigs carry. */
  readonly source: string;
  readonly contents: string;
}

/** This release's scripts with their data URLs (encoded once per process, see bootFiles). */
export function bootScriptFiles(): readonly BootScriptFile[] {
  bootFiles();
  const scripts = bootScripts();
  return scriptFiles!.map((file, i) => ({ path: file.path, source: file.contents.source, contents: scripts[i].contents }));
}

/** The Ignition config of one Day 1 module, from options that are already validated. */
export function ignitionFromValidated(options: ValidatedMachineConfigOptions): IgnitionConfig {
  const files = bootFiles();
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
 * @throws Day1ValidationError listing every invalid option, one line each (see `produceMachineConfig`)
 */
export function renderDay1Ignition(options: ProduceMachineConfigOptions): IgnitionConfig {
  return ignitionFromValidated(validateMachineConfigOptions(options));
}

type JsYaml = typeof import('js-yaml');

/**
 * Where the single-file build is: looked up along this module's node_modules paths, as
 * `require` would, which takes a fraction of a millisecond; resolving `js-yaml/package.json`
 * through the package's exports map took two (the CLI's start-up is counted in milliseconds).
 */
function jsYamlBundlePath(): string {
  for (const dir of module.paths) {
    const candidate = join(dir, 'js-yaml', 'dist', 'js-yaml.js');
    if (existsSync(candidate)) return candidate;
  }
  return join(dirname(require.resolve('js-yaml/package.json')), 'dist', 'js-yaml.js');
}
let yamlDump: ((value: unknown) => string) | undefined;

/**
 * js-yaml, loaded on first use from its single-file build: its package entry point pulls in
 * some 25 modules, which is most of the CLI's start-up time. The exports map hides the build,
 * so it is found by path (see jsYamlBundlePath).
 *
 * js-yaml quotes a string only when js-yaml would read it as something else, but YAML 1.1
 * readers (cdk8s's `Include`) and go-yaml (kubectl, oc, Argo CD, Flux) read `1_0` as 10 and
 * `2001-1-1` as a date. An extra implicit type that "resolves" those strings makes js-yaml
 * quote them; it is never used to load anything.
 */
function loadYamlDump(): (value: unknown) => string {
  if (yamlDump === undefined) {
    // Loaded lazily (see above): an import would load it, and its 25 modules, at start-up.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle: JsYaml = require(jsYamlBundlePath());
    const misreadElsewhere = new bundle.Type('tag:cdk8s-kmm-day1,2024:misread-elsewhere', {
      kind: 'scalar',
      resolve: (data: unknown) => typeof data === 'string'
        && (yamlReadsAsNumberOrDate(data, 'yaml-1.1') || yamlReadsAsNumberOrDate(data, 'go-yaml')),
    });
    const schema = bundle.DEFAULT_SCHEMA.extend({ implicit: [misreadElsewhere] });
    yamlDump = (value) => bundle.dump(value, { lineWidth: -1, noRefs: true, quotingType: '"', schema });
  }
  return yamlDump;
}

/** Serialises a manifest as one YAML document with a trailing newline, byte-stable. */
export function toYaml(manifest: object): string {
  return loadYamlDump()(manifest);
}

/** What js-yaml writes unquoted wherever it stands: no indicator first, no ": ", " #", space or quote. */
const PLAIN_DATA_URL_RE = /^data:[a-z]+\/[a-z]+;charset=utf-8;base64,[A-Za-z0-9+/]*={0,2}$/;

/**
 * The MachineConfig as YAML. The three data URLs are 13 kB of base64 that js-yaml scans
 * character by character to choose a quoting style: a third of the CLI's own run time (the
 * code is never optimised in a process that dumps one document) and of `produceMachineConfig`'s
 * in a long-running one. They are dumped as short stand-ins and put in afterwards: a base64
 * data URL is written unquoted wherever it stands, and lineWidth -1 never folds it, so the text
 * is exactly that of dumping the whole object (test/machine-config's golden file and
 * test/property check it).
 */
function machineConfigYaml(manifest: MachineConfigManifest): string {
  const files = manifest.spec.config.storage.files;
  const sources = files.map((file) => file.contents.source);
  const standIns = files.map((_, i) => `kmm-day1-script-${i}`);
  if (!sources.every((source) => PLAIN_DATA_URL_RE.test(source))) {
    return toYaml(manifest);
  }
  const withStandIns: MachineConfigManifest = {
    ...manifest,
    spec: {
      config: {
        ...manifest.spec.config,
        storage: { ...manifest.spec.config.storage, files: files.map((file, i) => ({ ...file, contents: { source: standIns[i] } })) },
      },
    },
  };
  let text = toYaml(withStandIns);
  for (let i = 0; i < files.length; i++) {
    const needle = `source: ${standIns[i]}\n`;
    const at = text.indexOf(needle);
    // Anywhere else (a unit cannot hold it, but a later change might) the plain dump is the truth.
    if (at < 0 || text.indexOf(needle, at + 1) >= 0) {
      return toYaml(manifest);
    }
    text = `${text.slice(0, at)}source: ${sources[i]}\n${text.slice(at + needle.length)}`;
  }
  return text;
}

/**
 * The MachineConfig YAML that loads one out-of-tree kernel module at boot: the TypeScript
 * counterpart of KMM's `mcproducer.ProduceMachineConfig`. One document, trailing newline,
 * the same bytes for the same options.
 *
 * Invalid options are all reported in one `Day1ValidationError`, one line per problem in the
 * order of `ProduceMachineConfigOptions` (then list index), each `Invalid <field> <value>: <rule>`
 * without a path prefix: the options of a call have no construct path.
 *
 * @throws Day1ValidationError listing every invalid option, one line each
 */
export function produceMachineConfig(options: ProduceMachineConfigOptions): string {
  return machineConfigYaml(machineConfigFromValidated(validateMachineConfigOptions(options)));
}
