import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { ignoreEntryFor, RESPECT_IGNORE_DIFFERENCES } from './argocd-ignore-differences';
import { claimObjectName } from './conflicts';
import { checkRepositoryPath, checkToken, deliveryStages, handedOverMachineConfigs, optionalBooleanProp, registerBootstrap } from './delivery';
import { DEFAULT_ARGOCD_NAMESPACE, GitOpsController, GitOpsControllerAccess } from './gitops-controller-access';
import { Application } from '../imports/application-argoproj.io';
import { checkDns1123Label, checkDns1123Subdomain, Day1ValidationError } from '../validation';

/** Argo CD deletes an Application's objects with it only when the Application carries this finalizer. */
const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';
/** The cluster Argo CD itself runs in. */
const IN_CLUSTER = 'https://kubernetes.default.svc';

/** Properties of an `ArgoCdApplication`. */
export interface ArgoCdApplicationProps {
  /**
   * `metadata.name` of the Application (Argo CD also writes it into a label of every object it
   * applies, hence at most 63 characters).
   *
   * @example 'ice-nic-driver'
   */
  readonly name: string;

  /**
   * URL of the Git repository that holds the synthesized output (CI commits it there after
   * `cdk8s synth`).
   *
   * @example 'https://git.example.com/platform/cluster-config.git'
   */
  readonly repoUrl: string;

  /**
   * The app's output folder in that repository, relative to its root: the folder whose
   * `kustomization.yaml` lists the stage folders (see `stageFolders()`).
   *
   * @example 'clusters/prod/dist'
   */
  readonly path: string;

  /**
   * Branch, tag or commit that Argo CD syncs.
   *
   * @default 'HEAD'
   */
  readonly targetRevision?: string;

  /**
   * Namespace of the Application: that of the Argo CD instance.
   *
   * @default 'openshift-gitops'
   */
  readonly namespace?: string;

  /**
   * Argo CD project of the Application.
   *
   * @default 'default'
   */
  readonly project?: string;

  /**
   * API server URL of the cluster the objects are applied to.
   *
   * @default 'https://kubernetes.default.svc' (the cluster Argo CD runs in)
   */
  readonly destinationServer?: string;

  /**
   * Whether the Application carries Argo CD's resources finalizer, so that deleting the
   * Application deletes the objects it applied (except those with `Delete=false`, which the
   * library's prune protection sets). Without it, deleting the Application leaves the cluster
   * as it is.
   *
   * @default false
   */
  readonly resourcesFinalizer?: boolean;

  /**
   * Whether to add a `GitOpsControllerAccess`: the ClusterRole and ClusterRoleBinding that let
   * the application controller apply exactly this app's objects.
   *
   * @default true
   */
  readonly controllerAccess?: boolean;

  /**
   * The application controller's service account, bound by the `GitOpsControllerAccess`.
   *
   * @default 'openshift-gitops-argocd-application-controller'
   */
  readonly controllerServiceAccountName?: string;

  /**
   * Namespace of the application controller's service account.
   *
   * @default 'openshift-gitops'
   */
  readonly controllerServiceAccountNamespace?: string;
}

/**
 * One Argo CD `Application` that delivers the app: it syncs the app's output folder (whose
 * `kustomization.yaml` lists the stage folders; the sync waves order the objects) with
 * automated prune and self-heal.
 *
 * What it reads from the app, at synthesis: the MachineConfigs of the `Day1KernelModule`s that
 * were handed over to KMM. The operator rewrites their `spec.config`, so the Application
 * ignores exactly that field of exactly those MachineConfigs (`ignoreDifferences`), and syncs
 * with `RespectIgnoreDifferences=true`, so that neither a sync nor self-heal writes it back.
 * Everything else stays compared and healed.
 *
 * The Application, and by default the `GitOpsControllerAccess` for its controller, are
 * bootstrap objects, applied once by an admin: create this construct in a chart of its own,
 * which the app's output folder then holds but its `kustomization.yaml` does not list.
 */
export class ArgoCdApplication extends Construct {
  /** `metadata.name` of the Application. */
  public readonly name: string;

  /** `metadata.namespace` of the Application. */
  public readonly namespace: string;

  /** The Application object. */
  public readonly apiObject: ApiObject;

  /**
   * The ClusterRole and ClusterRoleBinding of the application controller, unless
   * `controllerAccess` is false.
   *
   * @default - no controller access
   */
  public readonly controllerAccess?: GitOpsControllerAccess;

  /**
   * @throws Error naming the property when a property is invalid
   */
  constructor(scope: Construct, id: string, props: ArgoCdApplicationProps) {
    super(scope, id);
    const prefix = `ArgoCdApplication "${this.node.path}": `;
    if (props === null || typeof props !== 'object') {
      throw new Day1ValidationError(`${prefix}props`, props, 'must be an object');
    }
    this.name = checkDns1123Label(`${prefix}name`, props.name);
    this.namespace = checkDns1123Label(`${prefix}namespace`, props.namespace ?? DEFAULT_ARGOCD_NAMESPACE);
    const repoUrl = checkToken(`${prefix}repoUrl`, props.repoUrl);
    const path = checkRepositoryPath(`${prefix}path`, props.path);
    const targetRevision = checkToken(`${prefix}targetRevision`, props.targetRevision ?? 'HEAD');
    const project = checkDns1123Subdomain(`${prefix}project`, props.project ?? 'default');
    const server = checkToken(`${prefix}destinationServer`, props.destinationServer ?? IN_CLUSTER);
    if (!/^https?:\/\//.test(server)) {
      throw new Day1ValidationError(`${prefix}destinationServer`, server, 'must be the URL of a Kubernetes API server, such as "https://kubernetes.default.svc"');
    }
    const finalizer = optionalBooleanProp(`${prefix}resourcesFinalizer`, props.resourcesFinalizer, false);
    const access = optionalBooleanProp(`${prefix}controllerAccess`, props.controllerAccess, true);
    if (!access) {
      for (const [field, value] of [['controllerServiceAccountName', props.controllerServiceAccountName], ['controllerServiceAccountNamespace', props.controllerServiceAccountNamespace]]) {
        if (value !== undefined) {
          throw new Day1ValidationError(`${prefix}${field}`, value, 'has no effect with controllerAccess: false; remove it or set controllerAccess: true');
        }
      }
    }

    this.apiObject = new Application(this, 'Resource', {
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(finalizer ? { finalizers: [RESOURCES_FINALIZER] } : {}),
      },
      spec: {
        project,
        source: { repoUrl, targetRevision, path },
        destination: { server },
        ignoreDifferences: Lazy.any({
          produce: () => {
            const names = handedOverMachineConfigs(deliveryStages(this));
            return names.length === 0 ? undefined : names.map(ignoreEntryFor);
          },
        }),
        syncPolicy: {
          // Safe with prune: the objects whose deletion disrupts the nodes carry Prune=false.
          automated: { prune: true, selfHeal: true },
          syncOptions: [RESPECT_IGNORE_DIFFERENCES],
        },
      },
    });
    registerBootstrap(this, prefix);
    claimObjectName(this, 'Application', this.namespace, this.name, 'Give each ArgoCdApplication its own name.');
    if (access) {
      this.controllerAccess = new GitOpsControllerAccess(this, 'ControllerAccess', {
        controller: GitOpsController.ARGO_CD,
        name: `${this.name}-argocd`,
        serviceAccountName: props.controllerServiceAccountName,
        serviceAccountNamespace: props.controllerServiceAccountNamespace,
        argoCdResourcesFinalizer: finalizer,
      });
    }
  }

  /**
   * The output folders the Application syncs, in stage order, relative to the app's outdir:
   * every chart of the app that holds objects, except the bootstrap charts, named as cdk8s
   * names them (`0000-pool`, …). The app's `kustomization.yaml` must list exactly these.
   * Call it once the app is built (after synthesis, the layout is the one written).
   */
  public stageFolders(): string[] {
    return deliveryStages(this).map((stage) => stage.folder);
  }
}
