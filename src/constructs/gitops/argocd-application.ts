import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { checkControllerAccess, deliveryStages, handedOverMachineConfigs } from './delivery';
import {
  controllerAccessOf,
  DEFAULT_ARGOCD_CONTROLLER_SERVICE_ACCOUNT,
  DEFAULT_ARGOCD_NAMESPACE,
  GitOpsController,
  GitOpsControllerAccess,
} from './gitops-controller-access';
import { Application } from '../../imports/application-argoproj.io';
import {
  checkDns1123Label,
  checkDns1123Subdomain,
  checkRepositoryPath,
  checkServerUrl,
  checkToken,
  collectorFor,
  optional,
  optionalBoolean,
} from '../../validation';
import { ignoreEntryFor, RESPECT_IGNORE_DIFFERENCES } from '../app/argocd-ignore-differences';
import { claimObjectName, registerBootstrap } from '../app/claims';
import { deferProblems, placeholderName } from '../app/deferred';

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
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'HEAD'
   */
  readonly targetRevision?: string;

  /**
   * Namespace of the Application: that of the Argo CD instance.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'openshift-gitops'
   */
  readonly namespace?: string;

  /**
   * Argo CD project of the Application.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'default'
   */
  readonly project?: string;

  /**
   * API server URL of the cluster the objects are applied to.
   * An empty string is rejected: leave the property out for the default.
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
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'openshift-gitops-argocd-application-controller'
   */
  readonly controllerServiceAccountName?: string;

  /**
   * Namespace of the application controller's service account.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'openshift-gitops'
   */
  readonly controllerServiceAccountNamespace?: string;
}

/**
 * One Argo CD `Application` that delivers the app: it syncs the app's output folder with
 * automated prune and self-heal.
 *
 * The folder's `kustomization.yaml` lists the stage folders, and the sync waves order the objects.
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
   * Invalid props do not throw here: `app.synth()` fails with the problems of every construct of
   * the app, one line each (`[<path>] Invalid <field> <value>: <rule>`).
   */
  constructor(scope: Construct, id: string, props: ArgoCdApplicationProps) {
    super(scope, id);
    const problems = collectorFor(this.node.path, props, ARGOCD_APPLICATION_FIELDS);
    const name = problems.check(() => checkDns1123Label('name', props.name));
    const repoUrl = problems.check(() => checkToken('repoUrl', props.repoUrl));
    const path = problems.check(() => checkRepositoryPath('path', props.path));
    const targetRevision = problems.check(() => optional('targetRevision', props.targetRevision, 'HEAD', checkToken));
    const namespace = problems.check(() => optional('namespace', props.namespace, `the default namespace (${DEFAULT_ARGOCD_NAMESPACE})`, checkDns1123Label));
    const project = problems.check(() => optional('project', props.project, 'the default project', checkDns1123Subdomain));
    const server = problems.check(() => optional('destinationServer', props.destinationServer, `the cluster Argo CD runs in (${IN_CLUSTER})`, checkServerUrl));
    const finalizer = problems.check(() => optionalBoolean('resourcesFinalizer', props.resourcesFinalizer));
    const access = checkControllerAccess(problems, props, DEFAULT_ARGOCD_CONTROLLER_SERVICE_ACCOUNT, DEFAULT_ARGOCD_NAMESPACE);
    // Invalid props fail the app's synthesis with every construct's problems (see deferred.ts).
    const placeholder = deferProblems(this, problems) ? placeholderName(this) : undefined;
    this.name = placeholder ?? name!;
    this.namespace = namespace ?? DEFAULT_ARGOCD_NAMESPACE;
    if (placeholder !== undefined) {
      this.apiObject = new ApiObject(this, 'Resource', { apiVersion: Application.GVK.apiVersion, kind: Application.GVK.kind, metadata: { name: placeholder } });
      registerBootstrap(this, `ArgoCdApplication "${this.node.path}": `);
      return;
    }
    this.apiObject = new Application(this, 'Resource', {
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(finalizer ? { finalizers: [RESOURCES_FINALIZER] } : {}),
      },
      spec: {
        project: project ?? 'default',
        source: { repoUrl: repoUrl!, targetRevision: targetRevision ?? 'HEAD', path: path! },
        destination: { server: server ?? IN_CLUSTER },
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
    registerBootstrap(this, `ArgoCdApplication "${this.node.path}": `);
    claimObjectName(this, 'Application', this.namespace, this.name, 'Give each ArgoCdApplication its own name.');
    this.controllerAccess = controllerAccessOf(this, access!, GitOpsController.ARGO_CD, `${this.name}-argocd`, props, finalizer ?? false);
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

/** The fields of ArgoCdApplicationProps in the order of the interface. */
const ARGOCD_APPLICATION_FIELDS: readonly string[] = [
  'name', 'repoUrl', 'path', 'targetRevision', 'namespace', 'project', 'destinationServer', 'resourcesFinalizer',
  'controllerAccess', 'controllerServiceAccountName', 'controllerServiceAccountNamespace',
];
