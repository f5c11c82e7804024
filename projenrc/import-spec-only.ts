import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { basename, join } from 'path';
import { dump, load } from 'js-yaml';

/*
 * `cdk8s import` of a CRD reduced to what users write: in every version's schema, the top-level
 * properties other than apiVersion, kind, metadata and spec are dropped before the import.
 * cdk8s leaves out `status` by itself, but not the rest: Argo CD's Application also has
 * `operation` (the imperative "sync now" request that the controller clears once done), which
 * doubles the generated file and is never part of a manifest kept in Git.
 *
 * The reduced CRD is a temporary file, removed afterwards: the vendored CRD in crds/ stays the one
 * source, unchanged from upstream.
 *
 * Usage: ts-node projenrc/import-spec-only.ts <module name> <CRD file> <output dir>
 */

const KEPT = ['apiVersion', 'kind', 'metadata', 'spec'];

interface CrdVersion {
  readonly name: string;
  readonly schema?: { openAPIV3Schema?: { properties?: Record<string, unknown> } };
}

function main(args: string[]): number {
  if (args.length !== 3) {
    process.stderr.write('usage: import-spec-only.ts <module name> <CRD file> <output dir>\n');
    return 2;
  }
  const [moduleName, crdFile, outdir] = args;
  const crd = load(readFileSync(crdFile, 'utf8')) as { spec: { versions: CrdVersion[] } };
  for (const version of crd.spec.versions) {
    const properties = version.schema?.openAPIV3Schema?.properties;
    if (properties === undefined || properties.spec === undefined) {
      throw new Error(`${crdFile}: version ${version.name} has no spec in its schema; nothing to import`);
    }
    for (const key of Object.keys(properties)) {
      if (!KEPT.includes(key)) delete properties[key];
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'import-spec-only-'));
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

process.exitCode = main(process.argv.slice(2));
