import { resolveMachineConfigOptions, ResolvedMachineConfigOptions } from './options';
import { MACHINE_CONFIGURATION_GROUP, ROLE_LABEL } from './topology';
import { toYamlWithDataUrls } from './yaml';
import { bootPayload, bootScripts, NodeFile, SCRIPT_MODE } from '../boot';
import { IgnitionConfig, ignitionConfig, IgnitionFile, rootOwnedFile } from '../ignition';
import { ProduceMachineConfigOptions } from '../validation';

/*
 * The Day 1 MachineConfig, assembled: what boot/ says the node runs, encoded as Ignition, in a
 * MachineConfig object. Nothing here needs cdk8s (the CLI loads this module).
 */

/** apiVersion and kind of a MachineConfig. */
export const MACHINE_CONFIG_API_VERSION = `${MACHINE_CONFIGURATION_GROUP}/v1`;
export const MACHINE_CONFIG_KIND = 'MachineConfig';

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
 * The boot files as Ignition files, by path. Their base64 data URLs (some 13 kB, the same in
 * every MachineConfig) are encoded once per process: encoding them again for each of a
 * thousand modules cost 40 ms of synthesis.
 */
const encoded = new Map<string, { readonly contents: string; readonly file: IgnitionFile }>();

/** `file` as an Ignition file: a fresh object each time, because callers (and cdk8s) may keep or change it. */
function ignitionFile(file: NodeFile): IgnitionFile {
  let cached = encoded.get(file.path);
  if (cached === undefined || cached.contents !== file.contents || cached.file.mode !== file.mode) {
    cached = { contents: file.contents, file: rootOwnedFile(file.path, file.contents, file.mode) };
    encoded.set(file.path, cached);
  }
  const { user, group, contents } = cached.file;
  return { ...cached.file, user: { ...user }, group: { ...group }, contents: { ...contents } };
}

/** A boot script of this release as every Day 1 MachineConfig carries it. */
export interface BootScriptFile {
  readonly path: string;
  /** The data URL of `contents.source`, byte for byte what the MachineConfigs carry. */
  readonly source: string;
  readonly contents: string;
}

/** This release's scripts with their data URLs (encoded once per process). */
export function bootScriptFiles(): readonly BootScriptFile[] {
  return bootScripts().map((script) => ({ ...script, source: ignitionFile({ ...script, mode: SCRIPT_MODE }).contents.source }));
}

/** The Ignition config of one Day 1 module. */
export function ignitionFromResolved(options: ResolvedMachineConfigOptions): IgnitionConfig {
  const payload = bootPayload(options);
  return ignitionConfig(payload.files.map(ignitionFile), payload.units.map((unit) => ({ ...unit })));
}

/** The MachineConfig object of one Day 1 module. */
export function machineConfigFromResolved(options: ResolvedMachineConfigOptions): MachineConfigManifest {
  return {
    apiVersion: MACHINE_CONFIG_API_VERSION,
    kind: MACHINE_CONFIG_KIND,
    metadata: {
      name: options.machineConfigName,
      labels: { [ROLE_LABEL]: options.machineConfigPoolRef },
    },
    spec: { config: ignitionFromResolved(options) },
  };
}

/**
 * The Ignition config (spec 3.2.0) that a Day 1 MachineConfig carries in `spec.config`.
 *
 * @throws Day1ValidationError listing every invalid option, one line each (see `produceMachineConfig`)
 */
export function renderDay1Ignition(options: ProduceMachineConfigOptions): IgnitionConfig {
  return ignitionFromResolved(resolveMachineConfigOptions(options));
}

/** The MachineConfig as YAML, with the scripts' data URLs spliced in (see toYamlWithDataUrls). */
export function machineConfigYaml(manifest: MachineConfigManifest): string {
  const files = manifest.spec.config.storage.files;
  return toYamlWithDataUrls(manifest, files.map((file) => file.contents.source), (standIn) => ({
    ...manifest,
    spec: {
      config: {
        ...manifest.spec.config,
        storage: { ...manifest.spec.config.storage, files: files.map((file, i) => ({ ...file, contents: { source: standIn(i) } })) },
      },
    },
  }));
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
  return machineConfigYaml(machineConfigFromResolved(resolveMachineConfigOptions(options)));
}
