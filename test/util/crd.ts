import { readFileSync } from 'fs';
import { join, resolve } from 'path';
import { load } from 'js-yaml';

/*
 * Structural-schema validation of a manifest against a CRD's openAPIV3Schema, as the API
 * server would do it, including pruning: a field the schema does not know, outside
 * x-kubernetes-preserve-unknown-fields, would be silently dropped, so it is an error here.
 * CEL rules (x-kubernetes-validations) are not evaluated.
 */

export interface Schema {
  'type'?: string;
  'properties'?: Record<string, Schema>;
  'additionalProperties'?: boolean | Schema;
  'items'?: Schema;
  'required'?: string[];
  'enum'?: unknown[];
  'pattern'?: string;
  'maxLength'?: number;
  'minLength'?: number;
  'minimum'?: number;
  'maximum'?: number;
  'maxItems'?: number;
  'minItems'?: number;
  'nullable'?: boolean;
  'anyOf'?: Schema[];
  'oneOf'?: Schema[];
  'allOf'?: Schema[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

interface Crd {
  spec: { group: string; names: { kind: string }; versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }> };
}

/** The vendored CRDs (crds/ of the repository; their sources are in crds/README.md). */
export const CRD_DIR = resolve(__dirname, '..', '..', 'crds');

const cache = new Map<string, Crd>();

function loadCrd(file: string): Crd {
  let crd = cache.get(file);
  if (!crd) {
    crd = load(readFileSync(join(CRD_DIR, file), 'utf8')) as Crd;
    cache.set(file, crd);
  }
  return crd;
}

const CRD_FILES = [
  'machineconfigs.crd.yaml',
  'machineconfigpools.crd.yaml',
  'machineconfigurations.crd.yaml',
  'bootmoduleconfigs.crd.yaml',
  'modules.crd.yaml',
  'applications.argoproj.crd.yaml',
  'kustomizations.fluxcd.crd.yaml',
  'gitrepositories.fluxcd.crd.yaml',
];

/** The schema for apiVersion/kind, from whichever CRD in crds/ defines it. */
export function schemaFor(apiVersion: string, kind: string): Schema {
  const [group, version] = apiVersion.split('/');
  for (const file of CRD_FILES) {
    const crd = loadCrd(file);
    if (crd.spec.group === group && crd.spec.names.kind === kind) {
      const v = crd.spec.versions.find((candidate) => candidate.name === version);
      if (!v) throw new Error(`${file} has no version ${version}`);
      return v.schema.openAPIV3Schema;
    }
  }
  throw new Error(`no CRD in ${CRD_DIR} for ${apiVersion} ${kind}`);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function check(value: unknown, schema: Schema, path: string, errors: string[]): void {
  if (value === null) {
    if (!schema.nullable) errors.push(`${path}: null is not allowed`);
    return;
  }
  const actual = typeOf(value);
  if (schema['x-kubernetes-int-or-string']) {
    if (actual !== 'integer' && actual !== 'string') errors.push(`${path}: must be an integer or a string, got ${actual}`);
  } else if (schema.type) {
    const ok = schema.type === actual || (schema.type === 'number' && actual === 'integer');
    if (!ok) {
      errors.push(`${path}: must be ${schema.type}, got ${actual}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${path}: longer than ${schema.maxLength}`);
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${path}: shorter than ${schema.minLength}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: above ${schema.maximum}`);
  }
  for (const sub of schema.allOf ?? []) check(value, sub, path, errors);
  for (const alternatives of [schema.anyOf, schema.oneOf]) {
    if (alternatives && !alternatives.some((alt) => {
      const altErrors: string[] = [];
      check(value, { ...alt, 'x-kubernetes-preserve-unknown-fields': true }, path, altErrors);
      return altErrors.length === 0;
    })) {
      errors.push(`${path}: matches none of the allowed alternatives`);
    }
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.items) value.forEach((item, i) => check(item, schema.items!, `${path}[${i}]`, errors));
    return;
  }
  if (actual === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (!(key in obj)) errors.push(`${path}.${key}: required`);
    }
    for (const [key, child] of Object.entries(obj)) {
      const childSchema = schema.properties?.[key];
      if (childSchema) {
        check(child, childSchema, `${path}.${key}`, errors);
      } else if (typeof schema.additionalProperties === 'object') {
        check(child, schema.additionalProperties, `${path}.${key}`, errors);
      } else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true) {
        errors.push(`${path}.${key}: unknown field, would be pruned`);
      }
    }
  }
}

/** Every schema violation and would-be-pruned field of a manifest; empty when it conforms. */
export function crdViolations(manifest: { apiVersion: string; kind: string; metadata?: unknown }): string[] {
  const schema = schemaFor(manifest.apiVersion, manifest.kind);
  const errors: string[] = [];
  // metadata is ObjectMeta, validated by the API server itself rather than by the CRD schema.
  const { metadata, ...rest } = manifest as Record<string, unknown>;
  if (typeof metadata !== 'object' || metadata === null) errors.push('.metadata: required object');
  // (Argo CD's Application lists metadata as required; its presence is checked above.)
  const required = schema.required?.filter((key) => key !== 'metadata');
  check(rest, { ...schema, required, properties: { ...schema.properties, metadata: { 'type': 'object', 'x-kubernetes-preserve-unknown-fields': true } } }, '', errors);
  return errors;
}
