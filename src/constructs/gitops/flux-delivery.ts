import { ApiObject, Chart, Lazy, Names } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { ChartOutput, chartOutputs, checkControllerAccess, deliveryStages, holdsHealthCheck } from './delivery';
import {
  controllerAccessOf,
  DEFAULT_FLUX_CONTROLLER_SERVICE_ACCOUNT,
  DEFAULT_FLUX_NAMESPACE,
  GitOpsController,
  GitOpsControllerAccess,
} from './gitops-controller-access';
import { GitRepository } from '../../imports/gitrepository-source.toolkit.fluxcd.io';
import { Kustomization, KustomizationSpecSourceRefKind } from '../../imports/kustomization-kustomize.toolkit.fluxcd.io';
import {
  checkDns1123Label,
  checkDns1123Subdomain,
  checkDuration,
  checkGitUrl,
  checkRepositoryPath,
  checkSecretName,
  checkToken,
  collectorFor,
  optional,
  problemLine,
  ProblemCollector,
} from '../../validation';
import { claimObjectName, registerBootstrap } from '../app/claims';
import { appHasInvalidProps, deferProblems, placeholderName } from '../app/deferred';
import { chartOf } from '../ordering';

/** Properties of a `FluxDelivery`. */
export interface FluxDeliveryProps {
  /**
   * Prefix of the Kustomizations' names (`<name>-<chart>`), and the name of the GitRepository.
   *
   * @example 'ice-nic-driver'
   */
  readonly name: string;

  /**
   * URL of the Git repository that holds the synthesized output (`http://`, `https://` or
   * `ssh://`).
   *
   * @example 'https://git.example.com/platform/cluster-config.git'
   */
  readonly url: string;

  /**
   * The app's output folder in that repository, relative to its root.
   *
   * Each Kustomization applies one stage folder below it.
   *
   * @example 'clusters/prod/dist'
   */
  readonly path: string;

  /**
   * The stage charts to deliver, in order: one Kustomization each, which depends on the one of
   * the chart before it.
   *
   * Listed, the charts may still be empty when the FluxDelivery is created (it may even be
   * created first): what depends on their content (the folder each Kustomization applies,
   * numbered or not, and the `rolloutTimeout` of a stage that holds a health check) is computed
   * at synthesis, so the output does not depend on the order of construction. List every chart
   * of this app that holds objects, except the GitOps bootstrap charts, each once, and each
   * after the charts it depends on (`addDependency`).
   *
   * @default - the app's charts that hold objects when the FluxDelivery is created (bootstrap
   * charts left out), in cdk8s's chart order: create it last
   */
  readonly stages?: Chart[];

  /**
   * Branch that Flux syncs.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'main'
   */
  readonly branch?: string;

  /**
   * Name of a Secret in `namespace` with the credentials of the repository.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default - a public repository
   */
  readonly secretName?: string;

  /**
   * Namespace of the GitRepository and the Kustomizations.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'flux-system'
   */
  readonly namespace?: string;

  /**
   * How often Flux fetches the repository.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default '5m'
   */
  readonly sourceInterval?: string;

  /**
   * How often each Kustomization re-applies its folder (and so reverts drift).
   * An empty string is rejected: leave the property out for the default.
   *
   * @default '10m'
   */
  readonly interval?: string;

  /**
   * How long a Kustomization waits for its objects to be ready, for stages without a health check.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default '10m'
   */
  readonly timeout?: string;

  /**
   * How long the Kustomization of a stage that holds a `KernelModuleHealthCheck` waits: its
   * DaemonSets are ready only once every node of the pool has rebooted into the module, one
   * node (or `maxUnavailable` nodes) at a time. A longer rollout is not an error: Flux reports
   * the stage not ready and tries again at the next interval.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default '3h'
   */
  readonly rolloutTimeout?: string;

  /**
   * Whether to add a `GitOpsControllerAccess`: the ClusterRole and ClusterRoleBinding that let
   * the kustomize-controller apply exactly this app's objects.
   *
   * @default true
   */
  readonly controllerAccess?: boolean;

  /**
   * The kustomize-controller's service account, bound by the `GitOpsControllerAccess`.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'kustomize-controller'
   */
  readonly controllerServiceAccountName?: string;

  /**
   * Namespace of the kustomize-controller's service account.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'flux-system'
   */
  readonly controllerServiceAccountNamespace?: string;
}

/**
 * Flux delivery of the app: a `GitRepository`, and one `Kustomization` per stage folder of the
 * app's output.
 *
 * Each Kustomization depends on the one before it (`dependsOn`, in the order of `stages`, by
 * default the order cdk8s gives the charts and numbers their folders), with `wait: true`
 * (ready only once all its objects are) and `prune: true` (the objects whose deletion disrupts the nodes carry
 * `kustomize.toolkit.fluxcd.io/prune: disabled`). Flux has no sync waves; this chain is its
 * ordering.
 *
 * Without `stages`, the stages are read from the app when this construct is created, so create
 * it once every stage chart holds its objects (a later stage is reported at synthesis); with
 * `stages`, create it whenever. The folder paths and the timeouts are resolved at synthesis.
 * These are bootstrap objects, applied once by an admin: create this
 * construct in a chart of its own, which no Kustomization applies.
 */
export class FluxDelivery extends Construct {
  /** Name of the GitRepository, the prefix of the Kustomizations' names. */
  public readonly name: string;

  /** Namespace of the GitRepository and the Kustomizations. */
  public readonly namespace: string;

  /** The GitRepository object. */
  public readonly gitRepository: ApiObject;

  /** The Kustomization objects, one per stage, in stage order. */
  public readonly kustomizations: ApiObject[];

  /** The stage charts delivered, in order: `stages`, or the app's stages when this was created. */
  public readonly stages: Chart[];

  /**
   * The ClusterRole and ClusterRoleBinding of the kustomize-controller, unless
   * `controllerAccess` is false.
   *
   * @default - no controller access
   */
  public readonly controllerAccess?: GitOpsControllerAccess;

  /**
   * Invalid props do not throw here: `app.synth()` fails with the problems of every construct of
   * the app, one line each (`[<path>] Invalid <field> <value>: <rule>`).
   *
   * @throws Error when `stages` is left out and the app has no stage to deliver yet
   */
  constructor(scope: Construct, id: string, props: FluxDeliveryProps) {
    super(scope, id);
    const prefix = `FluxDelivery "${this.node.path}": `;
    const problems = collectorFor(this.node.path, props, FLUX_DELIVERY_FIELDS);
    const checked = checkFluxDelivery(problems, props);
    // This construct's own chart is a bootstrap chart from here on, so it is no stage.
    registerBootstrap(this, prefix);
    const explicit = props.stages !== undefined;
    const charts = explicit ? checkStages(this, problems, props.stages) : currentStages(this, prefix);
    const kustomizationNames = charts.map((chart) => (checked.name === undefined ? undefined : problems.checkDerived(
      `the name of the Kustomization of the stage chart ${JSON.stringify(chart.node.path)}, <name>-<chart>; shorten name`,
      () => checkDns1123Subdomain('name', `${checked.name}-${Names.toDnsLabel(chart)}`))));
    // Invalid props fail the app's synthesis with every construct's problems (see deferred.ts).
    const placeholder = deferProblems(this, problems) ? placeholderName(this) : undefined;
    this.name = placeholder ?? checked.name!;
    this.namespace = checked.namespace;
    this.stages = charts;
    if (placeholder !== undefined) {
      this.gitRepository = new ApiObject(this, 'Resource', { apiVersion: GitRepository.GVK.apiVersion, kind: GitRepository.GVK.kind, metadata: { name: placeholder } });
      this.kustomizations = [];
      return;
    }
    const valid = checked as CheckedFluxDelivery;
    this.gitRepository = new GitRepository(this, 'Resource', {
      metadata: { name: this.name, namespace: this.namespace },
      spec: {
        url: valid.url,
        interval: valid.sourceInterval,
        ref: { branch: valid.branch },
        ...(valid.secretName === undefined ? {} : { secretRef: { name: valid.secretName } }),
      },
    });
    claimObjectName(this, 'GitRepository', this.namespace, this.name, 'Give each FluxDelivery its own name.');
    this.kustomizations = charts.map((chart, index) =>
      this.kustomization(index, kustomizationNames[index]!, kustomizationNames[index - 1], chart, valid));
    this.node.addValidation({ validate: () => (explicit ? stagesProblems(this, charts) : stagesChanged(this, charts, prefix)) });
    this.controllerAccess = controllerAccessOf(this, valid.controllerAccess, GitOpsController.FLUX, `${this.name}-flux`, props);
  }

  /**
   * The output folders the Kustomizations apply, in stage order, relative to the app's outdir,
   * named as cdk8s names them (`0000-pool`, …). Call it once the app is built.
   */
  public stageFolders(): string[] {
    const outputs = chartOutputs(this);
    return this.stages.map((chart) => outputs.find((output) => output.chart === chart)?.folder ?? chart.node.path);
  }

  /**
   * The Kustomization of stage `index`, after the one of the stage before. Its folder and
   * timeout depend on what the app holds, so they are resolved at synthesis.
   */
  private kustomization(index: number, name: string, previous: string | undefined, chart: Chart, checked: CheckedFluxDelivery): ApiObject {
    // A chart that is not a stage any more is reported by the validation; this only keeps synthesis going until then.
    const output = () => chartOutputs(this).find((candidate) => candidate.chart === chart);
    const kustomization = new Kustomization(this, `Stage${index}`, {
      metadata: { name, namespace: this.namespace },
      spec: {
        ...(previous === undefined ? {} : { dependsOn: [{ name: previous }] }),
        interval: checked.interval,
        sourceRef: { kind: KustomizationSpecSourceRefKind.GIT_REPOSITORY, name: this.name },
        path: Lazy.any({ produce: () => `./${joinPath(checked.path, output()?.folder ?? chart.node.path)}` }),
        prune: true,
        wait: true,
        timeout: Lazy.any({ produce: () => (holdsHealthCheckNow(output()) ? checked.rolloutTimeout : checked.timeout) }),
      },
    });
    claimObjectName(this, 'Kustomization', this.namespace, name, 'Give each FluxDelivery its own name.');
    return kustomization;
  }
}

function holdsHealthCheckNow(output: ChartOutput | undefined): boolean {
  return output !== undefined && holdsHealthCheck(output);
}

/** Without `stages`: the app's stages now, which must not change any more. */
function currentStages(delivery: FluxDelivery, prefix: string): Chart[] {
  const stages = deliveryStages(delivery);
  if (stages.length === 0) {
    throw new Error(`${prefix}the app has no chart with objects yet besides the GitOps bootstrap charts: `
      + 'create FluxDelivery once the stage charts hold their objects (one Kustomization is made per stage), or list them in stages');
  }
  return stages.map((stage) => stage.chart);
}

/**
 * `stages`, checked into `problems` as far as it can be when the FluxDelivery is created: a
 * list of distinct charts of this app, none of them the FluxDelivery's own. Returns the valid ones.
 */
function checkStages(delivery: FluxDelivery, problems: ProblemCollector, stages: unknown): Chart[] {
  if (!Array.isArray(stages)) {
    problems.add('stages', shown(stages), 'must be a list of Charts (leave it out for the app\'s stages when the FluxDelivery is created)');
    return [];
  }
  if (stages.length === 0) {
    problems.add('stages', stages, 'must list at least one chart (leave it out for the app\'s stages when the FluxDelivery is created)');
  }
  const valid: Chart[] = [];
  stages.forEach((chart: unknown, index) => {
    const field = `stages[${index}]`;
    if (!Chart.isChart(chart)) {
      problems.add(field, shown(chart), 'must be a Chart');
    } else if (chart.node.root !== delivery.node.root) {
      problems.add(field, chart.node.path, 'is a chart of another App: list the charts of the app this FluxDelivery is in');
    } else if (chart === chartOf(delivery)) {
      problems.add(field, chart.node.path, 'is the chart of this FluxDelivery, a GitOps bootstrap chart that no Kustomization applies: '
        + 'create the FluxDelivery in a chart of its own, and list the stage charts only');
    } else if (valid.includes(chart)) {
      problems.add(field, chart.node.path, `is listed twice (also stages[${stages.indexOf(chart)}]): list each stage chart once`);
    } else {
      valid.push(chart);
    }
  });
  return valid;
}

/** A value of `stages` as the message shows it: a construct by its path (constructs are not JSON). */
function shown(value: unknown): unknown {
  return typeof value === 'object' && value !== null && 'node' in value && typeof (value as IConstruct).node?.path === 'string'
    ? (value as IConstruct).node.path
    : value;
}

/**
 * With `stages`, at synthesis, when the app is complete: each listed chart is a stage (it holds
 * objects and no bootstrap construct), comes after the charts it depends on, and no stage of
 * the app is left out.
 */
function stagesProblems(delivery: FluxDelivery, charts: readonly Chart[]): string[] {
  if (appHasInvalidProps(delivery)) return [];
  const outputs = chartOutputs(delivery);
  const dependencies = chartDependencies(delivery.node.root);
  const line = (field: string, value: unknown, rule: string) => problemLine({ field, value: JSON.stringify(value), rule });
  const problems: string[] = [];
  charts.forEach((chart, index) => {
    const output = outputs.find((candidate) => candidate.chart === chart);
    const field = `stages[${index}]`;
    if (output?.bootstrap) {
      problems.push(line(field, chart.node.path, 'is a GitOps bootstrap chart (it holds an ArgoCdApplication, FluxDelivery or '
        + 'GitOpsControllerAccess), applied once by an admin: no Kustomization applies it; list the stage charts only'));
    } else if (output === undefined || output.objects.length === 0) {
      problems.push(line(field, chart.node.path, 'holds no objects, so cdk8s writes no folder for Flux to apply: add its objects, or leave it out'));
    }
    const later = charts.slice(index + 1).filter((other) => dependsOn(dependencies, chart, other));
    for (const other of later) {
      problems.push(line(field, chart.node.path, `comes before chart ${JSON.stringify(other.node.path)}, which it depends on: `
        + 'list each chart after the charts it depends on (Flux applies a stage only once the one before it is ready)'));
    }
  });
  const missing = deliveryStages(delivery).filter((stage) => !charts.includes(stage.chart)).map((stage) => stage.chart.node.path);
  if (missing.length > 0) {
    problems.push(line('stages', charts.map((chart) => chart.node.path), `leaves out the app's stage chart${missing.length > 1 ? 's' : ''} `
      + `${missing.map((path) => JSON.stringify(path)).join(', ')}, which no Kustomization would apply: list every chart of the app that holds objects, `
      + 'except the GitOps bootstrap charts'));
  }
  return problems;
}

/** Which charts each chart depends on directly: its own dependencies, and those of everything in it, on other charts. */
function chartDependencies(root: IConstruct): Map<IConstruct, Set<IConstruct>> {
  const dependencies = new Map<IConstruct, Set<IConstruct>>();
  for (const construct of root.node.findAll()) {
    const from = chartOf(construct);
    for (const dependency of construct.node.dependencies) {
      const to = chartOf(dependency);
      if (from === undefined || to === undefined || to === from) continue;
      const set = dependencies.get(from) ?? new Set();
      set.add(to);
      dependencies.set(from, set);
    }
  }
  return dependencies;
}

/** Whether `chart` depends on `other`, directly or through other charts. */
function dependsOn(dependencies: Map<IConstruct, Set<IConstruct>>, chart: IConstruct, other: IConstruct): boolean {
  const seen = new Set<IConstruct>();
  const pending = [chart];
  while (pending.length > 0) {
    for (const next of dependencies.get(pending.pop()!) ?? []) {
      if (next === other) return true;
      if (!seen.has(next)) {
        seen.add(next);
        pending.push(next);
      }
    }
  }
  return false;
}

/**
 * Without `stages`: the problem of stages that changed after the FluxDelivery was created (one
 * Kustomization each was made then). Whether a stage holds a health check is read at synthesis.
 */
function stagesChanged(delivery: FluxDelivery, planned: readonly Chart[], prefix: string): string[] {
  if (appHasInvalidProps(delivery)) return [];
  const show = (charts: readonly IConstruct[]) => charts.map((chart) => chart.node.path).join(', ');
  const now = deliveryStages(delivery).map((stage) => stage.chart);
  return show(now) === show(planned) ? [] : [`${prefix}the app's stages changed after the FluxDelivery was created `
    + `(then: ${show(planned)}; now: ${show(now)}): create it once every stage chart holds its objects, or list the stage charts in stages`];
}

/** FluxDeliveryProps, checked, with the defaults applied. */
interface CheckedFluxDelivery {
  readonly name: string;
  readonly url: string;
  readonly path: string;
  readonly branch: string;
  readonly secretName?: string;
  readonly namespace: string;
  readonly sourceInterval: string;
  readonly interval: string;
  readonly timeout: string;
  readonly rolloutTimeout: string;
  readonly controllerAccess: boolean;
}

/** FluxDeliveryProps, checked into `problems`, with the defaults applied; a field is `undefined` where invalid. */
function checkFluxDelivery(problems: ProblemCollector, props: FluxDeliveryProps): Partial<CheckedFluxDelivery> & { namespace: string } {
  const name = problems.check(() => checkDns1123Label('name', props.name));
  const url = problems.check(() => checkGitUrl('url', props.url));
  const repositoryPath = problems.check(() => checkRepositoryPath('path', props.path));
  const branch = problems.check(() => optional('branch', props.branch, 'the default branch (main)', checkToken));
  const secretName = problems.check(() => optional('secretName', props.secretName, 'no credentials (a public repository)', checkSecretName));
  const namespace = problems.check(() => optional('namespace', props.namespace, `the default namespace (${DEFAULT_FLUX_NAMESPACE})`, checkDns1123Label));
  const duration = (field: string, value: string | undefined, fallback: string) =>
    problems.check(() => optional(field, value, `the default (${fallback})`, checkDuration) ?? fallback);
  const sourceInterval = duration('sourceInterval', props.sourceInterval, '5m');
  const interval = duration('interval', props.interval, '10m');
  const timeout = duration('timeout', props.timeout, '10m');
  const rolloutTimeout = duration('rolloutTimeout', props.rolloutTimeout, '3h');
  const controllerAccess = checkControllerAccess(problems, props, DEFAULT_FLUX_CONTROLLER_SERVICE_ACCOUNT, DEFAULT_FLUX_NAMESPACE);
  return {
    name,
    url,
    path: repositoryPath,
    branch: branch ?? 'main',
    secretName,
    namespace: namespace ?? DEFAULT_FLUX_NAMESPACE,
    sourceInterval,
    interval,
    timeout,
    rolloutTimeout,
    controllerAccess,
  };
}

function joinPath(base: string, folder: string): string {
  return base === '.' ? folder : `${base}/${folder}`;
}

/** The fields of FluxDeliveryProps in the order of the interface. */
const FLUX_DELIVERY_FIELDS: readonly string[] = [
  'name', 'url', 'path', 'stages', 'branch', 'secretName', 'namespace', 'sourceInterval', 'interval', 'timeout', 'rolloutTimeout',
  'controllerAccess', 'controllerServiceAccountName', 'controllerServiceAccountNamespace',
];
