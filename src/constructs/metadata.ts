import { ApiObjectMetadata } from 'cdk8s';
import { GitOpsPolicy, withGitOpsAnnotations } from './gitops-policy';
import { checkDns1123Label, checkDns1123Subdomain, dnsNameFromModuleName, optional, ProblemCollector } from '../validation';

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


/** What leaving out a name derived from the kernel module name gives, for the message that rejects `''`. */
const DERIVED_NAME_UNSET = 'the default name (the kernel module name, lowercase, "_" as "-")';

/**
 * An object name that defaults to the kernel module's (lowercase, "_" as "-"), a DNS-1123
 * label either way, checked into `problems`. The given one is checked as given; the default is
 * checked with a note that says where it came from, and only when the module name is valid
 * (otherwise that is the root cause, reported on its own).
 *
 * @param given the name as given, `undefined` for the default
 * @param kernelModuleName the checked module name, `undefined` when it is invalid
 */
export function nameFromModule(problems: ProblemCollector, field: string, given: unknown, kernelModuleName: string | undefined): string | undefined {
  if (given !== undefined) {
    return problems.check(() => optional(field, given, DERIVED_NAME_UNSET, checkDns1123Label));
  }
  if (kernelModuleName === undefined) {
    return undefined;
  }
  return problems.checkDerived(derivedNameNote(field, kernelModuleName), () => checkDns1123Label(field, dnsNameFromModuleName(kernelModuleName)));
}

/** Where a default name came from, and what to set instead: the note of its problems. */
export function derivedNameNote(field: string, kernelModuleName: string | undefined): string {
  return `the default name, derived from kernelModuleName ${JSON.stringify(kernelModuleName)}; set ${field} explicitly`;
}
