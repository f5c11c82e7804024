import { Day1ValidationError, optionalBoolean, ProblemCollector } from '../validation';

/*
 * The GitOps annotations of every object this library emits, in one place: Argo CD sync waves
 * (ordering), prune protection (Argo CD and Flux), and the two Flux per-object policies the
 * KMM hand-over needs. resolveMetadata applies waves and protection as defaults, under the
 * user's own annotations, so that an explicit annotation still wins — except where it would
 * silently switch prune protection off, which is rejected instead.
 */

/** Argo CD orders a sync by this annotation: lower waves are applied (and healthy) first. */
export const ARGOCD_SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';
/** Argo CD per-object sync options, comma-separated. */
export const ARGOCD_SYNC_OPTIONS_ANNOTATION = 'argocd.argoproj.io/sync-options';
/** Flux's kustomize-controller skips objects annotated `disabled` when it garbage-collects. */
export const FLUX_PRUNE_ANNOTATION = 'kustomize.toolkit.fluxcd.io/prune';
/** Flux's server-side apply policy for one object. */
export const FLUX_SSA_ANNOTATION = 'kustomize.toolkit.fluxcd.io/ssa';

/**
 * The Argo CD sync waves (`argocd.argoproj.io/sync-wave`) this library gives its objects.
 * Argo CD applies a wave only once every object of the previous waves is healthy, so the
 * order is: the pool, then the MachineConfigs (one of a new role reaches no node before its
 * pool exists), then the health checks (healthy only once every node of the pool runs the
 * out-of-tree module), then the KMM objects. The last step matters: a KMM `Module` applied
 * while a node still runs the in-tree driver makes KMM unload that driver at run time, which
 * for a NIC takes the node off the network — exactly what loading at boot avoids.
 */
export class SyncWave {
  /** Wave of `KmmMachineConfigPool` objects. */
  public static readonly MACHINE_CONFIG_POOL = -10;

  /** Wave of the MachineConfig of a `Day1KernelModule`. */
  public static readonly MACHINE_CONFIG = -5;

  /** Wave of a `KernelModuleHealthCheck` (its DaemonSet and the namespace it creates). */
  public static readonly HEALTH_CHECK = 0;

  /** Wave of `BootModuleConfig` and `KmmModule` objects, including those of `handOverToKmm`. */
  public static readonly KMM = 5;

  private constructor() {
  }
}

/** Which kind of object, hence which wave. Not part of the public API. */
export enum GitOpsStage {
  MACHINE_CONFIG_POOL = 'MACHINE_CONFIG_POOL',
  MACHINE_CONFIG = 'MACHINE_CONFIG',
  HEALTH_CHECK = 'HEALTH_CHECK',
  KMM = 'KMM',
}

const STAGE_WAVES: Record<GitOpsStage, number> = {
  [GitOpsStage.MACHINE_CONFIG_POOL]: SyncWave.MACHINE_CONFIG_POOL,
  [GitOpsStage.MACHINE_CONFIG]: SyncWave.MACHINE_CONFIG,
  [GitOpsStage.HEALTH_CHECK]: SyncWave.HEALTH_CHECK,
  [GitOpsStage.KMM]: SyncWave.KMM,
};

/** The Argo CD sync wave annotation of the objects of `stage`. */
export function syncWaveAnnotation(stage: GitOpsStage): { [key: string]: string } {
  return { [ARGOCD_SYNC_WAVE_ANNOTATION]: String(STAGE_WAVES[stage]) };
}

/** What a construct decided about the GitOps annotations of its object. */
export interface GitOpsPolicy {
  readonly stage: GitOpsStage;
  /** Whether the object carries the sync wave of its stage. */
  readonly syncWaves: boolean;
  /** Whether Argo CD and Flux are told never to delete the object. */
  readonly pruneProtection: boolean;
}

/** The GitOps switches a construct's props may carry. */
export interface GitOpsSwitches {
  readonly syncWaves?: unknown;
  readonly pruneProtection?: unknown;
}

/**
 * The policy of one object from its construct's props; `pruneProtection` defaults to
 * `protectByDefault` (objects whose deletion is harmless are not protected).
 *
 * @throws Day1ValidationError naming each switch that is not a boolean
 */
export function gitOpsPolicy(prefix: string, stage: GitOpsStage, props: GitOpsSwitches, protectByDefault: boolean): GitOpsPolicy {
  const problems = new ProblemCollector();
  const syncWaves = problems.check(() => optionalBoolean(`${prefix}syncWaves`, props.syncWaves) ?? true);
  const pruneProtection = problems.check(() => optionalBoolean(`${prefix}pruneProtection`, props.pruneProtection) ?? protectByDefault);
  problems.throwIfAny();
  return { stage, syncWaves: syncWaves!, pruneProtection: pruneProtection! };
}

/**
 * `annotations` (the construct's defaults and the user's annotations, already merged) with
 * the policy's annotations added underneath. A user's sync wave wins (that is how a wave is
 * overridden); the user's Argo CD sync options are kept and `Prune=false,Delete=false`
 * appended; a user annotation that would re-enable pruning while `pruneProtection` is on is
 * rejected, because it would silently undo the protection.
 *
 * @throws Day1ValidationError naming each annotation that would undo the protection
 */
export function withGitOpsAnnotations(prefix: string, annotations: { [key: string]: string }, policy: GitOpsPolicy): { [key: string]: string } {
  const defaults: { [key: string]: string } = policy.syncWaves ? syncWaveAnnotation(policy.stage) : {};
  if (!policy.pruneProtection) {
    return { ...defaults, ...annotations };
  }
  const field = (key: string) => `${prefix}metadata.annotations[${JSON.stringify(key)}]`;
  const problems = new ProblemCollector();
  const syncOptions = problems.check(() => protectedSyncOptions(field(ARGOCD_SYNC_OPTIONS_ANNOTATION), annotations[ARGOCD_SYNC_OPTIONS_ANNOTATION]));
  const flux = annotations[FLUX_PRUNE_ANNOTATION];
  if (flux !== undefined && flux !== 'disabled') {
    problems.add(field(FLUX_PRUNE_ANNOTATION), flux,
      'must be "disabled" while pruneProtection is on (deleting this object reboots or disrupts the nodes); set pruneProtection: false to let Flux delete it');
  }
  problems.throwIfAny();
  defaults[ARGOCD_SYNC_OPTIONS_ANNOTATION] = syncOptions!;
  defaults[FLUX_PRUNE_ANNOTATION] = 'disabled';
  return { ...defaults, ...annotations, [ARGOCD_SYNC_OPTIONS_ANNOTATION]: defaults[ARGOCD_SYNC_OPTIONS_ANNOTATION] };
}

/**
 * `Prune=false` keeps an automated sync from deleting the object once it is gone from Git;
 * `Delete=false` keeps it when the Application itself is deleted with cascade, which would
 * otherwise take the MachineConfigs (and so the driver) with it.
 */
const PROTECTING_SYNC_OPTIONS: Array<[string, string]> = [['Prune', 'false'], ['Delete', 'false']];

function protectedSyncOptions(field: string, given: string | undefined): string {
  const options = given === undefined ? [] : given.split(',').map((option) => option.trim()).filter((option) => option !== '');
  for (const [name, value] of PROTECTING_SYNC_OPTIONS) {
    const existing = options.find((option) => option.split('=')[0].trim() === name);
    if (existing === undefined) {
      options.push(`${name}=${value}`);
    } else if (existing.replace(/\s/g, '') !== `${name}=${value}`) {
      throw new Day1ValidationError(field, given,
        `must not contain ${existing} while pruneProtection is on (it keeps ${name}=${value}); set pruneProtection: false to let Argo CD delete the object`);
    }
  }
  return options.join(',');
}

/**
 * What Flux needs on a MachineConfig whose `spec.config` the KMM operator rewrites after a
 * hand-over: create it, but never re-apply it (Argo CD is told the same in its Application,
 * with ignoreDifferences, because it has no per-object equivalent). It covers the whole
 * object: Flux skips every later Git edit of it and leaves it out of the Kustomization's wait.
 */
export const FLUX_APPLY_IF_NOT_PRESENT = { [FLUX_SSA_ANNOTATION]: 'IfNotPresent' } as const;

/**
 * On every KMM `Module`: its image tag `${KERNEL_FULL_VERSION}` is KMM's placeholder, which
 * Flux's post-build variable substitution (once enabled on a Kustomization for anything else)
 * would replace with an empty string.
 */
export const FLUX_SUBSTITUTE_DISABLED = { 'kustomize.toolkit.fluxcd.io/substitute': 'disabled' } as const;
