import { App, Chart, Testing } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { loadAll } from 'js-yaml';
import { AppValidation, Day1KernelModule, Day1KernelModuleProps, IMachineConfigPool, KmmMachineConfigPool } from '../../src';
import { Day1ValidationError, problemLine, ValidationProblem } from '../../src/validation';
import { crdViolations, schemaFor } from '../util/crd';

/** A synthesized Kubernetes object, as it lands in dist/. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: any;
}

/**
 * The cluster's pool `name` by name (`KmmMachineConfigPool.fromPoolName`), in `scope`'s chart
 * (or app): one reference per chart and name, so that several modules of a test share it.
 */
export function clusterPool(scope: IConstruct, name = 'worker'): IMachineConfigPool {
  const home = scope.node.scopes.slice().reverse().find((s) => Chart.isChart(s)) ?? scope.node.root;
  const id = `cluster-pool-${name}`;
  return (home.node.tryFindChild(id) as IMachineConfigPool | undefined) ?? KmmMachineConfigPool.fromPoolName(home as Chart, id, name);
}

/** A Day1KernelModule on the cluster's `worker` pool (see clusterPool). */
export function onWorker(scope: IConstruct, id: string, props: Omit<Day1KernelModuleProps, 'pool'>): Day1KernelModule {
  return new Day1KernelModule(scope as Chart, id, { pool: clusterPool(scope), ...props });
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

/** The API groups whose kinds come from the CRDs in crds/; everything else is a core Kubernetes kind. */
const CRD_GROUPS = ['machineconfiguration.openshift.io', 'kmm.sigs.x-k8s.io', 'argoproj.io', 'kustomize.toolkit.fluxcd.io', 'source.toolkit.fluxcd.io'];

/**
 * Whether `manifest` is of a kind defined by a CRD in crds/. A kind of those groups
 * without a CRD there is an error, not a skip.
 */
export function hasCrd(manifest: { apiVersion: string; kind: string }): boolean {
  if (!CRD_GROUPS.includes(manifest.apiVersion.split('/')[0])) return false;
  schemaFor(manifest.apiVersion, manifest.kind);
  return true;
}

/**
 * The synthesized objects. Each object of a CRD kind is also checked against its CRD, so no test
 * synthesizes an object that the API server would reject or prune.
 */
export function synthManifests(app: App): Manifest[] {
  const manifests = loadAll(synthYaml(app)) as Manifest[];
  for (const manifest of manifests.filter(hasCrd)) {
    expect({ object: `${manifest.kind} ${manifest.metadata.name}`, violations: crdViolations(manifest) })
      .toEqual({ object: `${manifest.kind} ${manifest.metadata.name}`, violations: [] });
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

/**
 * The error of `fn`: what it throws, or, for constructs with invalid props (which do not throw),
 * the props problems of the app of the construct `fn` returns, as one Day1ValidationError (lines
 * `<path>: Invalid <field> <value>: <rule>`), after checking that the app's synthesis fails with
 * exactly these problems, each on a line of cdk8s's "Validation failed" error. Fails the test
 * when there is neither.
 */
export function errorOf(fn: () => unknown): Error {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    return e as Error;
  }
  const construct = constructIn(result);
  const problems = construct === undefined ? [] : AppValidation.problemsOf(construct);
  if (problems.length === 0) throw new Error('expected an error, none was thrown');
  expect(synthesisErrorLines(construct!)).toEqual(problems.map(synthesisLine));
  return Day1ValidationError.of(problems);
}

/** A problem as cdk8s's validation error shows it: `[<construct path>] Invalid <field> <value>: <rule>`. */
export function synthesisLine(problem: ValidationProblem): string {
  return `[${problem.path}] ${problemLine({ ...problem, path: undefined })}`;
}

/** The problem lines of the error the synthesis of `scope`'s app fails with. */
export function synthesisErrorLines(scope: IConstruct): string[] {
  const app = scope.node.root as App;
  let message: string | undefined;
  try {
    app.synthYaml();
  } catch (e) {
    message = (e as Error).message;
  }
  const [head, ...lines] = (message ?? 'the synthesis did not fail').split('\n');
  expect(head).toBe('Validation failed with the following errors:');
  return lines.map((line) => line.replace(/^ {2}/, ''));
}

function constructIn(result: unknown): IConstruct | undefined {
  if (Construct.isConstruct(result)) return result;
  const module = (result as { module?: unknown } | undefined)?.module;
  return Construct.isConstruct(module) ? module : undefined;
}

/** How often `needle` occurs in `haystack`. */
export function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/**
 * The GitOps annotations the constructs add by default, spelled out rather than imported, so
 * that a changed default fails the tests.
 */
export const PRUNE_PROTECTION = {
  'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
  'kustomize.toolkit.fluxcd.io/prune': 'disabled',
};

export function syncWave(wave: string): Record<string, string> {
  return { 'argocd.argoproj.io/sync-wave': wave };
}

/** The MachineConfig's annotations by default, and after `handOverToKmm`. */
export const MACHINE_CONFIG_ANNOTATIONS = { ...syncWave('-5'), ...PRUNE_PROTECTION };
export const HANDED_OVER_MACHINE_CONFIG_ANNOTATIONS = { ...MACHINE_CONFIG_ANNOTATIONS, 'kustomize.toolkit.fluxcd.io/ssa': 'IfNotPresent' };

/** On every KMM Module: Flux must not substitute KMM's `${KERNEL_FULL_VERSION}`. */
export const NO_FLUX_SUBSTITUTION = { 'kustomize.toolkit.fluxcd.io/substitute': 'disabled' };
export const MODULE_ANNOTATIONS = { ...NO_FLUX_SUBSTITUTION, ...syncWave('5'), ...PRUNE_PROTECTION };

/** The message `app.synthYaml()` fails with, or '' when it synthesizes. */
export function synthesisError(app: App): string {
  try {
    app.synthYaml();
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}
