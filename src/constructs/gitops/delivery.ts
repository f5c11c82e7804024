import { ApiObject, App, Chart, Names } from 'cdk8s';
import { IConstruct } from 'constructs';
import { checkDns1123Label, checkDns1123Subdomain, optional, optionalBoolean, ProblemCollector } from '../../validation';
import { registryOf } from '../app/claims';
import { AppRegistry, BootstrapClaim } from '../app/registry';
import { ARGOCD_SYNC_OPTIONS_ANNOTATION, FLUX_PRUNE_ANNOTATION } from '../gitops-policy';
import { chartOf } from '../ordering';

/*
 * What the GitOps bootstrap constructs (ArgoCdApplication, FluxDelivery, GitOpsControllerAccess)
 * read from the app they deliver. Their own objects are applied once, by an admin: they live in
 * charts of their own ("bootstrap charts"), which no Application or Kustomization syncs. Every
 * other chart that holds objects is a stage, synthesized by cdk8s into a folder of its own.
 * Not part of the public API.
 */

/** One synthesized output folder that a GitOps tool syncs. */
export interface Stage {
  readonly chart: Chart;
  /** The folder cdk8s writes the chart to, relative to the app's outdir. */
  readonly folder: string;
  /** The chart's own objects (those of nested charts belong to those charts). */
  readonly objects: ApiObject[];
}

/** One chart's output folder, as `YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE` writes it. */
export interface ChartOutput extends Stage {
  /** Whether the chart holds GitOps bootstrap constructs (applied once by an admin, never synced). */
  readonly bootstrap: boolean;
}

/**
 * The app's stages in cdk8s's chart order: the charts that hold objects, bootstrap charts left
 * out (see `chartOutputs`).
 */
export function deliveryStages(scope: IConstruct): Stage[] {
  return chartOutputs(scope).filter((output) => !output.bootstrap && output.objects.length > 0);
}

/**
 * Every chart of the app in cdk8s's chart order, with the folder name that
 * `YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE` gives it: cdk8s numbers every chart
 * (bootstrap and empty ones included) `0000-`, `0001-`, … when any chart depends on another
 * or is nested in another, and otherwise names the folder after the chart alone.
 */
export function chartOutputs(scope: IConstruct): ChartOutput[] {
  const app = scope.node.root as App;
  // Duck-typed: the App of another copy of cdk8s fails `instanceof`.
  if (!Array.isArray((app as Partial<App>).charts)) {
    throw new Error(`${scope.node.path}: the construct tree's root is not a cdk8s App, so there are no charts to deliver`);
  }
  const { objects, indexed } = objectsByChart(app);
  const bootstrap = bootstrapCharts(registryOf(scope));
  return app.charts.map((chart, index) => ({
    chart,
    folder: indexed ? `${index.toString().padStart(4, '0')}-${Names.toDnsLabel(chart)}` : Names.toDnsLabel(chart),
    objects: objects.get(chart) ?? [],
    bootstrap: bootstrap.has(chart),
  }));
}

/** Each chart's own objects, and whether cdk8s numbers the chart folders (as its IndexedChartFolderNamer does). */
function objectsByChart(app: App): { objects: Map<Chart, ApiObject[]>; indexed: boolean } {
  const objects = new Map<Chart, ApiObject[]>();
  let indexed = false;
  for (const construct of app.node.findAll()) {
    const chart = chartOf(construct);
    if (Chart.isChart(construct) && construct.node.scope !== undefined && Chart.isChart(construct.node.scope)) {
      indexed = true;
    }
    for (const dependency of construct.node.dependencies) {
      if (chart !== undefined && chartOf(dependency) !== chart) indexed = true;
    }
    if (chart !== undefined && ApiObject.isApiObject(construct)) {
      const list = objects.get(chart);
      if (list) list.push(construct);
      else objects.set(chart, [construct]);
    }
  }
  return { objects, indexed };
}

/** The names of the MachineConfigs of the stages whose modules were handed over to KMM by handOverToKmm, sorted. */
export function handedOverMachineConfigs(stages: Stage[]): string[] {
  if (stages.length === 0) return [];
  const registry = registryOf(stages[0].chart);
  const charts = new Set<IConstruct | undefined>(stages.map((stage) => stage.chart));
  const handedOver = new Set(registry.handOvers.filter((claim) => claim.requireArgoCdIgnoreRule).map((claim) => claim.machineConfigName));
  const names = registry.day1.filter((claim) => handedOver.has(claim.name) && charts.has(chartOf(claim.apiObject))).map((claim) => claim.name);
  return [...new Set(names)].sort();
}

/** Whether the stage holds a health check, whose DaemonSet turns ready only as the pool's nodes reboot. */
export function holdsHealthCheck(stage: Stage): boolean {
  return registryOf(stage.chart).healthChecks.some((check) => chartOf(check.daemonSet) === stage.chart);
}

/** An object a GitOps controller applies, as RBAC sees it. */
export interface DeliveredObject {
  readonly group: string;
  readonly kind: string;
  readonly resource: string;
  readonly name: string;
  readonly annotations: { [key: string]: string };
  readonly labels: { [key: string]: string };
}

/** The synthesized objects of the stages (resolved, as they are written). */
export function deliveredObjects(stages: Stage[]): DeliveredObject[] {
  return stages.flatMap((stage) => stage.objects.map((object) => {
    const json = object.toJson();
    const apiVersion: string = json.apiVersion;
    const kind: string = json.kind;
    return {
      group: apiVersion.includes('/') ? apiVersion.split('/')[0] : '',
      kind,
      resource: resourceOfKind(kind),
      name: json.metadata?.name,
      annotations: json.metadata?.annotations ?? {},
      labels: json.metadata?.labels ?? {},
    };
  }));
}

/**
 * The resource (plural) of a kind, by the rule the Kubernetes API machinery uses when it guesses
 * one and that the built-in kinds and CRD generators follow: lowercase, then "-s" gets "-ses",
 * "-y" gets "-ies", "-endpoints" stays, anything else gets "-s".
 */
export function resourceOfKind(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith('endpoints')) return lower;
  if (lower.endsWith('s')) return `${lower}es`;
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

/**
 * Whether Argo CD may delete the object: when it prunes (the object lacks `Prune=false`), and,
 * with the Application's resources finalizer, when the Application is deleted (unless `Delete=false`).
 */
export function argoCdMayDelete(object: DeliveredObject, resourcesFinalizer: boolean): boolean {
  const options = (object.annotations[ARGOCD_SYNC_OPTIONS_ANNOTATION] ?? '').split(',').map((option) => option.replace(/\s/g, ''));
  return !options.includes('Prune=false') || (resourcesFinalizer && !options.includes('Delete=false'));
}

/** Whether Flux may delete the object: the prune annotation (or label) governs pruning and Kustomization deletion alike. */
export function fluxMayDelete(object: DeliveredObject): boolean {
  return object.annotations[FLUX_PRUNE_ANNOTATION] !== 'disabled' && object.labels[FLUX_PRUNE_ANNOTATION] !== 'disabled';
}

function bootstrapCharts(registry: AppRegistry): Set<Chart> {
  const charts = new Set<Chart>();
  for (const claim of registry.bootstrap) {
    const chart = chartOf(claim.construct);
    if (chart !== undefined) charts.add(chart);
  }
  return charts;
}

/** What is wrong with the chart of a GitOps bootstrap construct (one of the app's checks, app/checks.ts). */
export function bootstrapProblems(registry: AppRegistry, claim: BootstrapClaim): string[] {
  const { construct, prefix } = claim;
  const chart = chartOf(construct);
  if (chart === undefined) {
    return [`${prefix}must be in a Chart (a chart of its own, which no GitOps tool syncs)`];
  }
  const registered = new Set(registry.bootstrap.map((c) => c.construct));
  const strangers = chart.node.findAll()
    .filter((c) => ApiObject.isApiObject(c) && chartOf(c) === chart && !c.node.scopes.some((scope) => registered.has(scope)))
    .map((c) => c.node.path);
  const problems: string[] = [];
  if (strangers.length > 0) {
    problems.push(`${prefix}chart "${chart.node.path}" also holds objects of the app (${strangers.join(', ')}): the GitOps bootstrap objects `
      + 'are applied once by an admin and must have a chart (and so an output folder) of their own, which no Application or Kustomization syncs. '
      + 'Create the bootstrap constructs in a chart of their own.');
  }
  if (deliveryStages(construct).length === 0) {
    problems.push(`${prefix}the app has no chart with objects besides the GitOps bootstrap charts: there is nothing to deliver`);
  }
  return problems;
}

/** The controller access props of ArgoCdApplication and FluxDelivery, passed on to their GitOpsControllerAccess. */
export interface ControllerAccessProps {
  readonly controllerAccess?: boolean;
  readonly controllerServiceAccountName?: string;
  readonly controllerServiceAccountNamespace?: string;
}

/**
 * Checks the controller access props into `problems`: the switch, and the service account
 * props, which are set only with controller access (nothing is judged when the switch itself
 * is invalid). Returns the switch with its default (true); `undefined` when it is invalid.
 */
export function checkControllerAccess(
  problems: ProblemCollector, props: ControllerAccessProps, defaultName: string, defaultNamespace: string,
): boolean | undefined {
  const access = problems.check(() => optionalBoolean('controllerAccess', props.controllerAccess) ?? true);
  if (access === undefined) return undefined;
  if (!access) {
    for (const [field, value] of [['controllerServiceAccountName', props.controllerServiceAccountName], ['controllerServiceAccountNamespace', props.controllerServiceAccountNamespace]]) {
      if (value !== undefined) {
        problems.add(field!, value, 'has no effect with controllerAccess: false; remove it or set controllerAccess: true');
      }
    }
    return access;
  }
  problems.check(() => optional('controllerServiceAccountName', props.controllerServiceAccountName,
    `the default service account (${defaultName})`, checkDns1123Subdomain));
  problems.check(() => optional('controllerServiceAccountNamespace', props.controllerServiceAccountNamespace,
    `the default namespace (${defaultNamespace})`, checkDns1123Label));
  return access;
}
