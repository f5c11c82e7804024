import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { argoCdMayDelete, ControllerAccessProps, DeliveredObject, deliveredObjects, deliveryStages, fluxMayDelete } from './delivery';
import { goStringOrder } from '../../machine-config';
import { checkDns1123Label, checkDns1123Subdomain, collectorFor, optional, optionalBoolean } from '../../validation';
import { claimObjectName, registerBootstrap } from '../app/claims';
import { deferProblems, placeholderName } from '../app/deferred';

/** The GitOps controller that applies the app, which decides what "pruning is on" means for an object. */
export enum GitOpsController {
  /**
   * Argo CD (OpenShift GitOps): it may delete an object whose `argocd.argoproj.io/sync-options`
   * lack `Prune=false` (and, with the Application's resources finalizer, `Delete=false`).
   */
  ARGO_CD = 'ARGO_CD',

  /**
   * Flux's kustomize-controller: it may delete an object that is not annotated
   * `kustomize.toolkit.fluxcd.io/prune: disabled`.
   */
  FLUX = 'FLUX',
}

/** The service account of OpenShift GitOps' default Argo CD instance's application controller. */
export const DEFAULT_ARGOCD_CONTROLLER_SERVICE_ACCOUNT = 'openshift-gitops-argocd-application-controller';
/** The namespace of OpenShift GitOps' default Argo CD instance. */
export const DEFAULT_ARGOCD_NAMESPACE = 'openshift-gitops';
/** The service account of Flux's kustomize-controller. */
export const DEFAULT_FLUX_CONTROLLER_SERVICE_ACCOUNT = 'kustomize-controller';
/** The namespace Flux is installed in. */
export const DEFAULT_FLUX_NAMESPACE = 'flux-system';

/** Properties of a `GitOpsControllerAccess`. */
export interface GitOpsControllerAccessProps {
  /** The controller that applies the app's objects. */
  readonly controller: GitOpsController;

  /**
   * `metadata.name` of the ClusterRole and of the ClusterRoleBinding. Cluster-wide: give each
   * app its own.
   */
  readonly name: string;

  /**
   * The controller's service account, which the ClusterRoleBinding binds.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default - `openshift-gitops-argocd-application-controller` for Argo CD, `kustomize-controller` for Flux
   */
  readonly serviceAccountName?: string;

  /**
   * Namespace of that service account.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default - `openshift-gitops` for Argo CD, `flux-system` for Flux
   */
  readonly serviceAccountNamespace?: string;

  /**
   * Argo CD only: whether the Application carries the resources finalizer, so that deleting it
   * deletes its objects. An object then needs `Delete=false` as well as `Prune=false` for the
   * controller to need no right to delete it. (Flux reads one annotation for pruning and for
   * the deletion of a Kustomization.)
   *
   * @default false
   */
  readonly argoCdResourcesFinalizer?: boolean;
}

/** One rule of a ClusterRole, as the API server takes it. */
interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

/** The verbs every delivered kind needs: read and watch it, create it, apply changes to it. */
const APPLY_VERBS = ['get', 'list', 'watch', 'create', 'patch'];
const DELETE_VERB = 'delete';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

/**
 * The rights a GitOps controller needs to apply this app, and no more: a ClusterRole that grants
 * `get`, `list`, `watch`, `create` and `patch` on exactly the resources of the objects the app
 * synthesizes into its stage folders (from their apiVersion and kind), plus `delete` only on the
 * resources of objects the controller may prune (those without prune protection), and a
 * ClusterRoleBinding of it to the controller's service account.
 *
 * The rules are computed at synthesis, from every chart of the app except the bootstrap charts
 * (those holding this construct, an `ArgoCdApplication` or a `FluxDelivery`). This construct
 * belongs in such a chart: it is applied once by an admin, never synced. A kind's resource name
 * follows the Kubernetes default plural ("Policy" → "policies", "Class" → "classes").
 */
export class GitOpsControllerAccess extends Construct {
  /** `metadata.name` of the ClusterRole and the ClusterRoleBinding. */
  public readonly name: string;

  /** The controller whose deletion rules decide where `delete` is granted. */
  public readonly controller: GitOpsController;

  /** The service account bound to the ClusterRole. */
  public readonly serviceAccountName: string;

  /** Namespace of the service account. */
  public readonly serviceAccountNamespace: string;

  /** The ClusterRole object. */
  public readonly clusterRole: ApiObject;

  /** The ClusterRoleBinding object. */
  public readonly clusterRoleBinding: ApiObject;

  /**
   * Invalid props do not throw here: `app.synth()` fails with the problems of every construct of
   * the app, one line each (`[<path>] Invalid <field> <value>: <rule>`).
   */
  constructor(scope: Construct, id: string, props: GitOpsControllerAccessProps) {
    super(scope, id);
    const problems = collectorFor(this.node.path, props, CONTROLLER_ACCESS_FIELDS);
    const known = props.controller === GitOpsController.ARGO_CD || props.controller === GitOpsController.FLUX;
    if (!known) {
      problems.add('controller', props.controller, 'must be GitOpsController.ARGO_CD or GitOpsController.FLUX');
    }
    const argoCd = props.controller === GitOpsController.ARGO_CD;
    const name = problems.check(() => checkDns1123Subdomain('name', props.name));
    // The defaults depend on the controller: without a valid one, only the given values are judged.
    const serviceAccountName = problems.check(() => optional('serviceAccountName', props.serviceAccountName, 'the controller\'s default service account', checkDns1123Subdomain));
    const serviceAccountNamespace = problems.check(() => optional('serviceAccountNamespace', props.serviceAccountNamespace, 'the controller\'s default namespace', checkDns1123Label));
    const finalizer = problems.check(() => optionalBoolean('argoCdResourcesFinalizer', props.argoCdResourcesFinalizer) ?? false);
    if (finalizer && known && !argoCd) {
      problems.add('argoCdResourcesFinalizer', finalizer, 'applies to GitOpsController.ARGO_CD only');
    }
    // Invalid props fail the app's synthesis with every construct's problems (see deferred.ts).
    const placeholder = deferProblems(this, problems) ? placeholderName(this) : undefined;
    this.controller = props.controller;
    this.name = placeholder ?? name!;
    this.serviceAccountName = serviceAccountName ?? (argoCd ? DEFAULT_ARGOCD_CONTROLLER_SERVICE_ACCOUNT : DEFAULT_FLUX_CONTROLLER_SERVICE_ACCOUNT);
    this.serviceAccountNamespace = serviceAccountNamespace ?? (argoCd ? DEFAULT_ARGOCD_NAMESPACE : DEFAULT_FLUX_NAMESPACE);
    if (placeholder !== undefined) {
      this.clusterRole = new ApiObject(this, 'ClusterRole', { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata: { name: placeholder } });
      this.clusterRoleBinding = new ApiObject(this, 'ClusterRoleBinding', { apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRoleBinding', metadata: { name: placeholder } });
      registerBootstrap(this, prefix(this));
      return;
    }
    const mayDelete = argoCd ? (object: DeliveredObject) => argoCdMayDelete(object, finalizer!) : fluxMayDelete;

    this.clusterRole = new ApiObject(this, 'ClusterRole', {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'ClusterRole',
      metadata: { name: this.name },
      rules: Lazy.any({ produce: () => policyRules(deliveredObjects(deliveryStages(this)), mayDelete) }),
    });
    this.clusterRoleBinding = new ApiObject(this, 'ClusterRoleBinding', {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: this.name },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: this.name },
      subjects: [{ kind: 'ServiceAccount', name: this.serviceAccountName, namespace: this.serviceAccountNamespace }],
    });
    registerBootstrap(this, prefix(this));
    claimObjectName(this, 'ClusterRole', undefined, this.name, 'Give each GitOpsControllerAccess (each app) its own name.');
  }
}

/** What the synthesis checks of a GitOpsControllerAccess start their messages with. */
function prefix(access: GitOpsControllerAccess): string {
  return `GitOpsControllerAccess "${access.node.path}": `;
}

/**
 * The GitOpsControllerAccess of a delivery construct (`ArgoCdApplication`, `FluxDelivery`),
 * made from its `controllerServiceAccount*` props when `enabled`.
 */
export function controllerAccessOf(
  delivery: Construct,
  enabled: boolean,
  controller: GitOpsController,
  name: string,
  props: ControllerAccessProps,
  argoCdResourcesFinalizer?: boolean,
): GitOpsControllerAccess | undefined {
  if (!enabled) return undefined;
  return new GitOpsControllerAccess(delivery, 'ControllerAccess', {
    controller,
    name,
    serviceAccountName: props.controllerServiceAccountName,
    serviceAccountNamespace: props.controllerServiceAccountNamespace,
    ...(argoCdResourcesFinalizer === undefined ? {} : { argoCdResourcesFinalizer }),
  });
}

/**
 * One rule per API group and verb set, resources sorted: what `oc describe clusterrole` shows
 * reads as "these kinds, these verbs". Deterministic whatever the order of the objects.
 */
function policyRules(objects: DeliveredObject[], mayDelete: (object: DeliveredObject) => boolean): PolicyRule[] {
  const resources = new Map<string, { group: string; resource: string; delete: boolean }>();
  for (const object of objects) {
    const key = `${object.group}\0${object.resource}`;
    const entry = resources.get(key) ?? { group: object.group, resource: object.resource, delete: false };
    entry.delete = entry.delete || mayDelete(object);
    resources.set(key, entry);
  }
  const rules = new Map<string, { apiGroups: string[]; resources: string[]; verbs: string[] }>();
  const sorted = [...resources.values()]
    .sort((a, b) => goStringOrder(a.group, b.group) || Number(a.delete) - Number(b.delete) || goStringOrder(a.resource, b.resource));
  for (const { group, resource, delete: del } of sorted) {
    const key = `${group}\0${del}`;
    const rule = rules.get(key) ?? { apiGroups: [group], resources: [], verbs: del ? [...APPLY_VERBS, DELETE_VERB] : [...APPLY_VERBS] };
    rule.resources.push(resource);
    rules.set(key, rule);
  }
  return [...rules.values()];
}

/** The fields of GitOpsControllerAccessProps in the order of the interface. */
const CONTROLLER_ACCESS_FIELDS: readonly string[] = ['controller', 'name', 'serviceAccountName', 'serviceAccountNamespace', 'argoCdResourcesFinalizer'];
