import { ApiObject, Lazy, Names } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { checkControllerAccess, deliveryStages, holdsHealthCheck, Stage } from './delivery';
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
  ProblemCollector,
} from '../../validation';
import { claimObjectName, registerBootstrap } from '../app/claims';
import { appHasInvalidProps, deferProblems, placeholderName } from '../app/deferred';

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
 * Each Kustomization depends on the one before it (`dependsOn`, in the order cdk8s gives the
 * charts and numbers their folders), with `wait: true` (ready only once all its objects are)
 * and `prune: true` (the objects whose deletion disrupts the nodes carry
 * `kustomize.toolkit.fluxcd.io/prune: disabled`). Flux has no sync waves; this chain is its
 * ordering.
 *
 * The stages are read from the app when this construct is created, so create it once every
 * stage chart holds its objects (a later stage is reported at synthesis); the folder paths are
 * resolved at synthesis. These are bootstrap objects, applied once by an admin: create this
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
   * @throws Error when the app has no stage to deliver yet
   */
  constructor(scope: Construct, id: string, props: FluxDeliveryProps) {
    super(scope, id);
    const prefix = `FluxDelivery "${this.node.path}": `;
    const problems = collectorFor(this.node.path, props, FLUX_DELIVERY_FIELDS);
    const checked = checkFluxDelivery(problems, props);
    // This construct's own chart is a bootstrap chart from here on, so it is no stage.
    registerBootstrap(this, prefix);
    const stages = deliveryStages(this);
    if (stages.length === 0) {
      throw new Error(`${prefix}the app has no chart with objects yet besides the GitOps bootstrap charts: `
        + 'create FluxDelivery once the stage charts hold their objects (one Kustomization is made per stage)');
    }
    const plan = stages.map((stage) => ({ chart: stage.chart, healthCheck: holdsHealthCheck(stage) }));
    const kustomizationNames = plan.map(({ chart }) => (checked.name === undefined ? undefined : problems.checkDerived(
      `the name of the Kustomization of the stage chart ${JSON.stringify(chart.node.path)}, <name>-<chart>; shorten name`,
      () => checkDns1123Subdomain('name', `${checked.name}-${Names.toDnsLabel(chart)}`))));
    // Invalid props fail the app's synthesis with every construct's problems (see deferred.ts).
    const placeholder = deferProblems(this, problems) ? placeholderName(this) : undefined;
    this.name = placeholder ?? checked.name!;
    this.namespace = checked.namespace;
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
    this.kustomizations = plan.map(({ chart, healthCheck }, index) => this.kustomization(index, kustomizationNames[index]!,
      kustomizationNames[index - 1], chart.node.path, healthCheck ? valid.rolloutTimeout : valid.timeout, valid));
    this.node.addValidation({ validate: () => stagesChanged(this, plan, prefix) });
    this.controllerAccess = controllerAccessOf(this, valid.controllerAccess, GitOpsController.FLUX, `${this.name}-flux`, props);
  }

  /**
   * The output folders the Kustomizations apply, in stage order, relative to the app's outdir,
   * named as cdk8s names them (`0000-pool`, …).
   */
  public stageFolders(): string[] {
    return deliveryStages(this).map((stage) => stage.folder);
  }

  private folderOf(chartPath: string): string {
    const stage = deliveryStages(this).find((candidate: Stage) => candidate.chart.node.path === chartPath);
    // The validation above reports a stage that disappeared; this only keeps synthesis going until then.
    return stage === undefined ? chartPath : stage.folder;
  }

  /** The Kustomization of stage `index`, after the one of the stage before. */
  private kustomization(
    index: number, name: string, previous: string | undefined, chartPath: string, timeout: string, checked: CheckedFluxDelivery,
  ): ApiObject {
    const kustomization = new Kustomization(this, `Stage${index}`, {
      metadata: { name, namespace: this.namespace },
      spec: {
        ...(previous === undefined ? {} : { dependsOn: [{ name: previous }] }),
        interval: checked.interval,
        sourceRef: { kind: KustomizationSpecSourceRefKind.GIT_REPOSITORY, name: this.name },
        path: Lazy.any({ produce: () => `./${joinPath(checked.path, this.folderOf(chartPath))}` }),
        prune: true,
        wait: true,
        timeout,
      },
    });
    claimObjectName(this, 'Kustomization', this.namespace, name, 'Give each FluxDelivery its own name.');
    return kustomization;
  }
}

/** A stage of the app as the FluxDelivery planned it. */
interface PlannedStage {
  readonly chart: IConstruct;
  readonly healthCheck: boolean;
}

/** The problem of stages that changed after the FluxDelivery was created (one Kustomization each was made then). */
function stagesChanged(delivery: FluxDelivery, plan: readonly PlannedStage[], prefix: string): string[] {
  if (appHasInvalidProps(delivery)) return [];
  const now = deliveryStages(delivery).map((stage) => ({ chart: stage.chart, healthCheck: holdsHealthCheck(stage) }));
  const show = (p: readonly PlannedStage[]) => p.map((s) => `${s.chart.node.path}${s.healthCheck ? ' (health check)' : ''}`).join(', ');
  return show(now) === show(plan) ? [] : [`${prefix}the app's stages changed after the FluxDelivery was created `
    + `(then: ${show(plan)}; now: ${show(now)}): create it once every stage chart holds its objects`];
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
  'name', 'url', 'path', 'branch', 'secretName', 'namespace', 'sourceInterval', 'interval', 'timeout', 'rolloutTimeout',
  'controllerAccess', 'controllerServiceAccountName', 'controllerServiceAccountNamespace',
];
