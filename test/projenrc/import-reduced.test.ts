import { readFileSync } from 'fs';
import { join } from 'path';
import { load } from 'js-yaml';
import { Crd, reduceCrd, Schema } from '../../projenrc/import-reduced';
import { CRD_DIR, schemaFor } from '../util/crd';

/*
 * The reduction `npx projen import-crds` applies before `cdk8s import` (projenrc/import-reduced.ts),
 * on the vendored CRDs themselves: what it drops, what it keeps, and what it refuses.
 */

function vendored(file: string): Crd {
  return load(readFileSync(join(CRD_DIR, file), 'utf8')) as Crd;
}

function at(crd: Crd, ...path: string[]): Schema | undefined {
  let schema: Schema | undefined = crd.spec.versions[0].schema!.openAPIV3Schema;
  for (const step of path) schema = step === '[]' ? schema?.items : schema?.properties?.[step];
  return schema;
}

describe('reduceCrd', () => {
  test('drops the top level other than apiVersion, kind, metadata and spec, and the given paths, array items included', () => {
    const crd = vendored('modules.crd.yaml');
    expect(at(crd, 'status')).toBeDefined();
    reduceCrd(crd, ['spec.devicePlugin', 'spec.moduleLoader.container.kernelMappings[].build'], 'modules');
    expect(Object.keys(at(crd)!.properties!).sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(at(crd, 'spec', 'devicePlugin')).toBeUndefined();
    expect(at(crd, 'spec', 'moduleLoader', 'container', 'kernelMappings', '[]', 'build')).toBeUndefined();
    // Siblings of a dropped property, and the same name elsewhere, stay.
    expect(at(crd, 'spec', 'dra')).toBeDefined();
    expect(at(crd, 'spec', 'moduleLoader', 'container', 'kernelMappings', '[]', 'containerImage')).toBeDefined();
    expect(at(crd, 'spec', 'moduleLoader', 'container', 'build')).toBeDefined();
  });

  test('reduces every version of a CRD', () => {
    const crd = vendored('machineconfigpools.crd.yaml');
    const twice: Crd = { spec: { versions: [crd.spec.versions[0], JSON.parse(JSON.stringify(crd.spec.versions[0]))] } };
    reduceCrd(twice, ['spec.paused'], 'machineconfigpools');
    for (const version of twice.spec.versions) {
      expect(version.schema!.openAPIV3Schema!.properties!.spec.properties!.paused).toBeUndefined();
      expect(version.schema!.openAPIV3Schema!.properties!.status).toBeUndefined();
    }
  });

  test('refuses a path that does not exist, naming the CRD, the version and the missing property', () => {
    expect(() => reduceCrd(vendored('modules.crd.yaml'), ['spec.moduleLoader.nothingHere'], 'modules.crd.yaml'))
      .toThrow('modules.crd.yaml, version v1beta1: property path "spec.moduleLoader.nothingHere" does not exist (no "nothingHere")');
  });

  test('refuses to drop a required property', () => {
    // Flux requires interval, prune and sourceRef in a Kustomization's spec.
    expect(() => reduceCrd(vendored('kustomizations.fluxcd.crd.yaml'), ['spec.sourceRef'], 'kustomizations'))
      .toThrow('kustomizations, version v1: property path "spec.sourceRef" is required by the schema; it cannot be dropped');
  });

  test('refuses "[]" after a property that is not an array, and a malformed path', () => {
    expect(() => reduceCrd(vendored('modules.crd.yaml'), ['spec.moduleLoader[].container'], 'modules'))
      .toThrow('property path "spec.moduleLoader[].container": "moduleLoader" is not an array');
    for (const path of ['spec..dra', 'spec.selector[]', 'spec/dra', '']) {
      expect(() => reduceCrd(vendored('modules.crd.yaml'), [path], 'modules')).toThrow(`property path "${path}": expected names separated by dots`);
    }
  });
});

test('the tests validate synthesized objects against the full vendored CRDs, not the reduced imports', () => {
  expect(schemaFor('kmm.sigs.x-k8s.io/v1beta1', 'Module').properties!.spec.properties!.devicePlugin).toBeDefined();
  expect(schemaFor('argoproj.io/v1alpha1', 'Application').properties!.spec.properties!.sources).toBeDefined();
  expect(schemaFor('kustomize.toolkit.fluxcd.io/v1', 'Kustomization').properties!.spec.properties!.patches).toBeDefined();
});
