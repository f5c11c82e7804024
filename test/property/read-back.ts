import { deepStrictEqual } from 'assert';
import * as fc from 'fast-check';
import {
  dns1123Label, dns1123Subdomain, FIELD_VALUES, fieldValue, firmwarePath, imageReference, imageRepository, kernelModuleName, labelValue,
  listValue, moduleParameter,
} from './arbitraries';
import { SEED } from './settings';
import { plainScalarDisagreement } from './yaml-dialects';
import { DEFAULT_WORKER_IMAGE, Day1ValidationError, ProduceMachineConfigOptions } from '../../src/validation';
import { directives, expandSpecifiers, parseUnitFile, serviceEnvironment } from '../util/systemd';

/*
 * What the node gets from a MachineConfig, read back the way the node reads it (systemd's
 * unquoting of the unit files), and what it should get, worked out from the raw inputs alone.
 */

/** The raw inputs of one Day 1 module, as a caller passed them (validated only by the code under test). */
export interface ModuleInputs {
  readonly machineConfigName: string;
  readonly machineConfigPoolRef: string;
  readonly kernelModuleImage: string;
  readonly kernelModuleName: string;
  readonly inTreeModulesToRemove?: unknown;
  readonly firmwareFilesPath?: unknown;
  readonly workerImage?: unknown;
  readonly moduleParameters?: unknown;
}

export interface NodeView {
  readonly name: string;
  readonly role: string;
  readonly unitNames: string[];
  readonly replaceEnvironment: Record<string, string>;
  readonly pullEnvironment: Record<string, string>;
  /** The list variables as bash's `read -r -a` splits them in the replace script. */
  readonly inTreeModules: string[];
  readonly parameters: string[];
  /** Description= after specifier expansion (systemd expands % there too). */
  readonly descriptions: string[];
}

/** How `read -r -a words <<<"$value"` splits with the default IFS: one line, blank-separated. */
export function bashReadArray(value: string | undefined): string[] {
  if (value === undefined) return [];
  const line = value.split('\n')[0];
  return line.split(/[ \t]+/).filter((word) => word !== '');
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function listOf(value: unknown): string[] {
  return Array.isArray(value) ? (value as string[]) : [];
}

/** The node view the inputs must produce, if they are accepted. */
export function expectedNodeView(inputs: ModuleInputs): NodeView {
  const worker = isSet(inputs.workerImage) ? inputs.workerImage as string : DEFAULT_WORKER_IMAGE;
  const inTree = listOf(inputs.inTreeModulesToRemove);
  const parameters = listOf(inputs.moduleParameters);
  const replaceEnvironment: Record<string, string> = {
    KMM_DAY1_INTERFACE: '3',
    MACHINE_CONFIG_NAME: inputs.machineConfigName,
    KERNEL_MODULE_IMAGE: inputs.kernelModuleImage,
    KERNEL_MODULE_NAME: inputs.kernelModuleName,
    KERNEL_MODULE: inputs.kernelModuleName,
    WORKER_IMAGE: worker,
    IN_TREE_MODULES_TO_REMOVE: inTree.join(' '),
    FIRMWARE_FILES_PATH: isSet(inputs.firmwareFilesPath) ? inputs.firmwareFilesPath as string : '',
    WORKER_CONFIG_FILEPATH: `/var/lib/kmm-day1-${inputs.machineConfigName}.worker-config.yaml`,
  };
  if (parameters.length > 0) replaceEnvironment.MODULE_PARAMETERS = parameters.join(' ');
  return {
    name: inputs.machineConfigName,
    role: inputs.machineConfigPoolRef,
    unitNames: [
      `${inputs.machineConfigName}-replace-kernel-module.service`,
      `${inputs.machineConfigName}-pull-kernel-module-image.service`,
      'crio-wipe.service',
    ],
    replaceEnvironment,
    pullEnvironment: {
      KMM_DAY1_INTERFACE: '3',
      MACHINE_CONFIG_NAME: inputs.machineConfigName,
      KERNEL_MODULE_IMAGE: inputs.kernelModuleImage,
      WORKER_IMAGE: worker,
      KERNEL_MODULE_IMAGE_FILEPATH: `/var/lib/kmm-day1-${inputs.machineConfigName}.image.tar`,
    },
    inTreeModules: inTree,
    parameters,
    descriptions: [],
  };
}

interface UnitLike { name: string; contents?: string }

/** The node view of a loaded MachineConfig object (from produceMachineConfig or cdk8s synth). */
export function nodeViewOf(machineConfig: any): NodeView {
  const units: UnitLike[] = machineConfig.spec.config.systemd.units;
  const unitNames = units.map((unit) => unit.name);
  const parsed = units.filter((unit) => unit.contents !== undefined).map((unit) => parseUnitFile(unit.contents!));
  const [replace, pull] = parsed;
  if (parsed.length !== 2) throw new Error(`expected two units with contents, found ${parsed.length}`);
  const replaceEnvironment = serviceEnvironment(replace);
  return {
    name: machineConfig.metadata.name,
    role: machineConfig.metadata.labels['machineconfiguration.openshift.io/role'],
    unitNames,
    replaceEnvironment,
    pullEnvironment: serviceEnvironment(pull),
    inTreeModules: bashReadArray(replaceEnvironment.IN_TREE_MODULES_TO_REMOVE),
    parameters: bashReadArray(replaceEnvironment.MODULE_PARAMETERS),
    // Description= is one word list to systemd only in the sense of specifiers: expand them.
    descriptions: parsed.flatMap((unit) => directives(unit, 'Unit', 'Description')).map(expandSpecifiers),
  };
}

/** Fails unless the node gets exactly what the inputs say. */
export function expectIntact(inputs: ModuleInputs, machineConfig: any): void {
  const actual = nodeViewOf(machineConfig);
  const expected = expectedNodeView(inputs);
  expectEqual({ ...actual, descriptions: [] }, expected);
  for (const description of actual.descriptions) {
    if (!description.includes(inputs.kernelModuleName) || !description.includes(inputs.machineConfigName)) {
      throw new Error(`Description= ${JSON.stringify(description)} lost the module or MachineConfig name`);
    }
  }
}

/**
 * Equal as JSON (what a manifest can express): no prototypes, no undefined members. Compares
 * the serialisations first, because this runs for every accepted value; key order only
 * matters to that fast path.
 */
export function expectEqual(actual: unknown, expected: unknown): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) {
    deepStrictEqual(a === undefined ? a : JSON.parse(a), e === undefined ? e : JSON.parse(e));
  }
}

/**
 * The error must be ours, and each of its problems (one line of the message each) must name
 * the field: only the fuzzed field is invalid, so nothing else may be reported. `fields` are
 * the accepted `.field` values; an entry ending in `[` also accepts list entries
 * (`moduleParameters[3]`).
 */
export function expectRejectionNaming(error: unknown, ...fields: string[]): void {
  if (!(error instanceof Day1ValidationError)) {
    throw new Error(`expected a Day1ValidationError, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
  const lines = error.message.split('\n');
  if (error.problems.length === 0 || lines.length !== error.problems.length) {
    throw new Error(`expected one message line per problem, got ${error.problems.length} problems: ${error.message}`);
  }
  error.problems.forEach((problem, i) => {
    const named = fields.some((field) =>
      field.endsWith('[') ? problem.field.startsWith(field) && /\[\d+\]$/.test(problem.field) : problem.field === field);
    if (!named || lines[i] !== `Invalid ${problem.field} ${problem.value}: ${problem.rule}`) {
      throw new Error(`the error names ${JSON.stringify(problem.field)}, expected one of ${fields.join(', ')}: ${error.message}`);
    }
  });
}

/** Values every YAML reader agrees are strings: the non-fuzzed context must not trip the YAML rule. */
export function plainSafe(value: string): boolean {
  return plainScalarDisagreement(value, 'string') === undefined;
}

const identity = (name: string) => name.replace(/-/g, '_');

/**
 * A fixed sample of `arbitrary`: contexts for the fuzzed field are drawn from it, which costs
 * nothing per run (generating and filtering fresh valid contexts cost as much as the check).
 */
export function pooled<T>(arbitrary: fc.Arbitrary<T>, size = 400): fc.Arbitrary<T> {
  return fc.constantFrom(...fc.sample(arbitrary, { numRuns: size, seed: SEED }));
}

/** Valid values of every module field: the context in which one field at a time is fuzzed. */
export const validModule = pooled(fc.record({
  machineConfigName: dns1123Subdomain.filter(plainSafe),
  machineConfigPoolRef: labelValue.filter(plainSafe),
  kernelModuleImage: imageRepository.filter(plainSafe),
  kernelModuleName: kernelModuleName.filter(plainSafe),
  inTreeModulesToRemove: fc.option(fc.uniqueArray(kernelModuleName.filter(plainSafe), { maxLength: 3, selector: identity }), { nil: undefined }),
  firmwareFilesPath: fc.option(firmwarePath, { nil: undefined }),
  workerImage: fc.option(imageReference.filter(plainSafe), { nil: undefined }),
  moduleParameters: fc.option(fc.uniqueArray(moduleParameter, { maxLength: 3, selector: (p) => identity(p.slice(0, p.indexOf('='))) }), { nil: undefined }),
}, { requiredKeys: ['machineConfigName', 'machineConfigPoolRef', 'kernelModuleImage', 'kernelModuleName'] }));

export const validPoolName = pooled(dns1123Label.filter((name) => plainSafe(name) && name !== 'worker' && name !== 'master'), 200);

export interface ModuleField {
  readonly name: keyof ProduceMachineConfigOptions;
  readonly value: fc.Arbitrary<unknown>;
  /** Errors name the entry: `moduleParameters[2]`. */
  readonly list?: boolean;
}

export const MODULE_FIELDS: readonly ModuleField[] = [
  { name: 'machineConfigName', value: fieldValue(FIELD_VALUES.dns1123Subdomain) },
  { name: 'machineConfigPoolRef', value: fieldValue(FIELD_VALUES.labelValue) },
  { name: 'kernelModuleImage', value: fieldValue(FIELD_VALUES.imageRepository) },
  { name: 'kernelModuleName', value: fieldValue(FIELD_VALUES.kernelModuleName) },
  { name: 'inTreeModulesToRemove', value: listValue(FIELD_VALUES.kernelModuleName), list: true },
  { name: 'firmwareFilesPath', value: fieldValue(FIELD_VALUES.firmwarePath, true) },
  { name: 'workerImage', value: fieldValue(FIELD_VALUES.imageReference, true) },
  { name: 'moduleParameters', value: listValue(FIELD_VALUES.moduleParameter), list: true },
];
