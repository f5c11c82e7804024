import { App, Chart, Testing } from 'cdk8s';
import { loadAll } from 'js-yaml';
import { crdViolations } from '../util/crd';
import { crdsAvailable } from '../util/oracles';

/** A synthesized Kubernetes object, as it lands in dist/. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: any;
}

/** An app with one chart `test`, as `Testing.chart()` makes it. */
export function testApp(): { app: App; chart: Chart } {
  const chart = Testing.chart();
  return { app: chart.node.root as App, chart };
}

/**
 * The YAML `cdk8s synth` writes: unlike `Testing.synth`, `App.synthYaml` runs the app's
 * validations first, which is where duplicates are detected.
 */
export function synthYaml(app: App): string {
  return app.synthYaml();
}

/**
 * The synthesized objects. Each is also checked against its CRD whenever the CRDs are there,
 * so no test synthesizes an object that the API server would reject or prune; the
 * conformance suite, through `withCrds()`, is what skips loudly or fails in CI without them.
 */
export function synthManifests(app: App): Manifest[] {
  const manifests = loadAll(synthYaml(app)) as Manifest[];
  if (crdsAvailable()) {
    for (const manifest of manifests) {
      expect({ object: `${manifest.kind} ${manifest.metadata.name}`, violations: crdViolations(manifest) })
        .toEqual({ object: `${manifest.kind} ${manifest.metadata.name}`, violations: [] });
    }
  }
  return manifests;
}

export function byKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

export function only(manifests: Manifest[], kind: string): Manifest {
  const found = byKind(manifests, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
}

/** The error `fn` throws (fails the test when it throws none). */
export function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** How often `needle` occurs in `haystack`. */
export function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}
