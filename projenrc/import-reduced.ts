import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { basename, join } from 'path';
import { dump, load } from 'js-yaml';

/*
 * `cdk8s import` of a CRD reduced to what the library writes. The generated bindings are loaded
 * on every `require` of the package, and a CRD's schema is mostly what the library never sets:
 * KMM's Module spends 11,500 of its 13,000 generated lines on `devicePlugin` and `dra`.
 *
 * Two reductions, in every version's schema, before the import:
 * - the top-level properties other than apiVersion, kind, metadata and spec are dropped. cdk8s
 *   leaves out `status` by itself, but not the rest: Argo CD's Application also has `operation`
 *   (the imperative "sync now" request that the controller clears once done), which is never part
 *   of a manifest kept in Git;
 * - each property path given after the output dir is dropped. A path names properties from the
 *   object's root, separated by dots; `[]` steps into the items of an array:
 *   `spec.devicePlugin`, `spec.moduleLoader.container.kernelMappings[].build`. A path that does
 *   not exist in a version, or names a required property, is an error: after an upgrade of the
 *   vendored CRD, a renamed field must not be kept silently, and a required one cannot be left out.
 *
 * The bindings then type only what is kept: the compiler refuses an object literal that sets a
 * dropped field, until its path is removed from the list in .projenrc.ts. The reduced CRD is a
 * temporary file, removed afterwards: the vendored CRD in crds/ stays the one source, unchanged
 * from upstream, and the tests validate the synthesized objects against it, in full.
 *
 * Usage: ts-node projenrc/import-reduced.ts <module name> <CRD file> <output dir> [<property path>...]
 */

const KEPT = ['apiVersion', 'kind', 'metadata', 'spec'];

export interface Schema {
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
}

export interface CrdVersion {
  readonly name: string;
  readonly schema?: { openAPIV3Schema?: Schema };
}

/** `spec.a[].b` as steps: each a property name, followed by `[]` when it steps into the items. */
function parsePath(path: string): Array<{ name: string; items: boolean }> {
  const segments = path.split('.');
  if (segments.some((segment) => !/^[A-Za-z0-9_$-]+(\[\])?$/.test(segment)) || segments[segments.length - 1].endsWith('[]')) {
    throw new Error(`property path "${path}": expected names separated by dots, "[]" after a name for its array items, ending with a name`);
  }
  return segments.map((segment) => ({ name: segment.replace(/\[\]$/, ''), items: segment.endsWith('[]') }));
}

function dropPath(root: Schema, path: string, where: string): void {
  const steps = parsePath(path);
  let schema: Schema | undefined = root;
  for (const [index, step] of steps.entries()) {
    const property: Schema | undefined = schema?.properties?.[step.name];
    if (property === undefined) throw new Error(`${where}: property path "${path}" does not exist (no "${step.name}")`);
    if (index === steps.length - 1) {
      if (schema!.required?.includes(step.name)) throw new Error(`${where}: property path "${path}" is required by the schema; it cannot be dropped`);
      delete schema!.properties![step.name];
      return;
    }
    schema = step.items ? property.items : property;
    if (step.items && schema === undefined) throw new Error(`${where}: property path "${path}": "${step.name}" is not an array`);
  }
}

/** The part of a CRD that is reduced. */
export interface Crd {
  readonly spec: { readonly versions: CrdVersion[] };
}

/**
 * Reduces `crd` in place: every version keeps apiVersion, kind, metadata and spec, without the
 * property paths in `drops`.
 *
 * @param name names the CRD in errors (its file)
 * @throws Error when a version has no spec, or a path is malformed, missing or required
 */
export function reduceCrd(crd: Crd, drops: readonly string[], name: string): void {
  for (const version of crd.spec.versions) {
    const root = version.schema?.openAPIV3Schema;
    const properties = root?.properties;
    if (properties === undefined || properties.spec === undefined) {
      throw new Error(`${name}: version ${version.name} has no spec in its schema; nothing to import`);
    }
    for (const key of Object.keys(properties)) {
      if (!KEPT.includes(key)) delete properties[key];
    }
    for (const path of drops) dropPath(root!, path, `${name}, version ${version.name}`);
  }
}

function main(args: string[]): number {
  if (args.length < 3) {
    process.stderr.write('usage: import-reduced.ts <module name> <CRD file> <output dir> [<property path>...]\n');
    return 2;
  }
  const [moduleName, crdFile, outdir, ...drops] = args;
  const crd = load(readFileSync(crdFile, 'utf8')) as Crd;
  reduceCrd(crd, drops, crdFile);
  const dir = mkdtempSync(join(tmpdir(), 'import-reduced-'));
  try {
    const reduced = join(dir, basename(crdFile));
    writeFileSync(reduced, dump(crd, { lineWidth: -1, noRefs: true }));
    const result = spawnSync('cdk8s', [
      'import', `${moduleName}:=${reduced}`,
      '--language', 'typescript', '--output', outdir, '--no-save', '--no-check-upgrade',
    ], { stdio: 'inherit' });
    if (result.error) throw result.error;
    return result.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
