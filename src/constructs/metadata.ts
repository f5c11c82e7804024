import { ApiObjectMetadata } from 'cdk8s';
import { GitOpsPolicy, withGitOpsAnnotations } from './gitops';
import { checkDns1123Label, checkDns1123Subdomain, checkLabelKey, checkLabelValue, Day1ValidationError, ProblemCollector } from '../validation';

/*
 * The one place where object metadata is assembled, so that the GitOps defaults (sync waves,
 * prune protection; see gitops.ts) apply to every construct of this library in the same way.
 * Not part of the public API.
 */

/** What a construct decides about its object's metadata; the user's metadata is merged into it. */
export interface MetadataPlan {
  /**
   * `metadata.name`, already decided (and validated) by the construct; `undefined` when the
   * fields it derives from are invalid (their problems are reported, so no check here
   * compares against it).
   */
  readonly name: string | undefined;
  /** Field that sets the name, for the error when `metadata.name` disagrees with it. */
  readonly nameField: string;
  /** Namespace used when the user sets none; `undefined` for a cluster-scoped object. */
  readonly defaultNamespace?: string;
  /** Labels the user may override (defaults). */
  readonly defaultLabels?: { [key: string]: string };
  /** Annotations the user may override (defaults). */
  readonly defaultAnnotations?: { [key: string]: string };
  /**
   * Labels a consumer relies on (e.g. the MachineConfigPool role): the user may not change
   * them. A label whose value is `undefined` (derived from an invalid field) is not compared.
   */
  readonly requiredLabels?: { [key: string]: string | undefined };
  /**
   * The GitOps annotations of the object, added underneath the user's annotations;
   * `undefined` when the switches are invalid (the annotations are then not checked against them).
   */
  readonly gitOps?: GitOpsPolicy;
}

/**
 * `GitOps defaults < defaults < user metadata < required labels`, with the conflicts that would
 * silently break the object (or its prune protection) rejected instead of overridden.
 *
 * @param prefix prepended to field names in errors
 * @throws Day1ValidationError with every problem of the metadata
 */
export function resolveMetadata(prefix: string, user: ApiObjectMetadata | undefined, plan: MetadataPlan): ApiObjectMetadata {
  const problems = new ProblemCollector();
  const given: ApiObjectMetadata = user ?? {};
  if (given.name !== undefined) {
    const name = problems.check(() => checkDns1123Subdomain(`${prefix}metadata.name`, given.name));
    if (name !== undefined && plan.name !== undefined && name !== plan.name) {
      problems.add(`${prefix}metadata.name`, given.name, `must not differ from ${plan.nameField} (${JSON.stringify(plan.name)}); set ${plan.nameField} instead`);
    }
  }
  let namespace: string | undefined;
  if (plan.defaultNamespace === undefined) {
    if (given.namespace !== undefined) {
      problems.add(`${prefix}metadata.namespace`, given.namespace, 'must not be set: the object is cluster-scoped');
    }
  } else {
    namespace = problems.check(() => checkDns1123Label(`${prefix}metadata.namespace`, given.namespace ?? plan.defaultNamespace));
  }
  const required: { [key: string]: string } = {};
  for (const [key, value] of Object.entries(plan.requiredLabels ?? {})) {
    if (value === undefined) continue;
    required[key] = value;
    const wanted = given.labels?.[key];
    if (wanted !== undefined && wanted !== value) {
      problems.add(`${prefix}metadata.labels[${JSON.stringify(key)}]`, wanted,
        `must not be set to another value than ${JSON.stringify(value)}: this label is derived from the construct's properties`);
    }
  }
  const { name: _name, namespace: _namespace, labels: userLabels, annotations: userAnnotations, ...rest } = given;
  const labels = { ...plan.defaultLabels, ...userLabels, ...required };
  const merged = { ...plan.defaultAnnotations, ...userAnnotations };
  const annotations = plan.gitOps === undefined ? merged : problems.check(() => withGitOpsAnnotations(prefix, merged, plan.gitOps!));
  problems.throwIfAny();
  return {
    ...rest,
    name: plan.name,
    ...(namespace === undefined ? {} : { namespace }),
    ...(Object.keys(labels).length === 0 ? {} : { labels }),
    ...(Object.keys(annotations!).length === 0 ? {} : { annotations }),
  };
}

/**
 * A label selector given as a map (`nodeSelector`, the KMM `Module` selector). An empty map
 * selects every node of the cluster, which is never what a kernel module hand-over or a
 * custom pool means, so it is rejected.
 *
 * @throws Day1ValidationError naming every bad selector entry
 */
export function checkSelector(field: string, value: unknown): { [key: string]: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Day1ValidationError(field, value, 'must be a map of node label keys to values');
  }
  const entries = Object.entries(value as { [key: string]: unknown });
  if (entries.length === 0) {
    throw new Day1ValidationError(field, value, 'must not be empty: an empty selector matches every node of the cluster');
  }
  const problems = new ProblemCollector();
  const selector: { [key: string]: string } = {};
  for (const [key, v] of entries) {
    const keyOk = problems.check(() => checkLabelKey(`${field}[${JSON.stringify(key)}]`, key)) !== undefined;
    // Role labels such as node-role.kubernetes.io/<role> carry the empty value, which is valid.
    // A bad key is the root cause: its value is not judged as well.
    if (keyOk) {
      const checked = v === '' ? '' : problems.check(() => checkLabelValue(`${field}[${JSON.stringify(key)}]`, v));
      if (checked !== undefined) selector[key] = checked;
    }
  }
  problems.throwIfAny();
  return selector;
}

/**
 * A Kubernetes name derived from a kernel module name: modprobe treats "-" and "_" alike, but
 * Kubernetes names allow only "-" and lowercase letters.
 */
export function dnsNameFromModuleName(kernelModuleName: string): string {
  return kernelModuleName.toLowerCase().replace(/_/g, '-').replace(/^-+|-+$/g, '');
}

/** The KMM operator's Module webhook refuses a Module whose name plus namespace is longer. */
export const MAX_MODULE_NAME_AND_NAMESPACE_LENGTH = 41;

/**
 * @throws Day1ValidationError naming `field` (the Module name) when name plus namespace is too long for KMM's webhook
 */
export function checkModuleNameLength(field: string, name: string, namespace: string): void {
  const length = name.length + namespace.length;
  if (length > MAX_MODULE_NAME_AND_NAMESPACE_LENGTH) {
    throw new Day1ValidationError(field, name,
      `together with namespace ${JSON.stringify(namespace)} it has ${length} characters (${name.length} + ${namespace.length}); `
      + `the KMM operator's Module webhook refuses a name plus namespace longer than ${MAX_MODULE_NAME_AND_NAMESPACE_LENGTH} characters: `
      + 'shorten the name or the namespace');
  }
}
