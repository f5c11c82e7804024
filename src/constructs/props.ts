import { ApiObjectMetadata } from 'cdk8s';

/*
 * The props every construct of this library shares, in one place: the GitOps switches and the
 * object's metadata. Each construct's own docs say which wave its objects get and why deleting
 * them would hurt; the defaults are applied in gitops.ts.
 */

/** Props of a construct whose objects are ordered by Argo CD sync waves. */
export interface SyncWaveProps {
  /**
   * Whether the construct's objects carry their Argo CD sync wave (`argocd.argoproj.io/sync-wave`).
   *
   * The waves (see `SyncWave`) are: the pool -10, the MachineConfigs -5, the health checks 0,
   * the KMM objects 5. Argo CD applies a wave once every object of the waves before it is
   * healthy.
   *
   * @default true
   */
  readonly syncWaves?: boolean;
}

/** Props of a construct that emits one object whose metadata the user may extend. */
export interface GitOpsObjectProps extends SyncWaveProps {
  /**
   * Extra labels and annotations of the object (name and namespace where its construct says so).
   *
   * An `argocd.argoproj.io/sync-wave` annotation here overrides the default wave. Labels and
   * annotations that the construct derives from its other props cannot be changed here.
   *
   * @default - the metadata the construct derives from its props, and the GitOps annotations
   */
  readonly metadata?: ApiObjectMetadata;
}

/** Props of a construct whose object must not be deleted by a GitOps tool by accident. */
export interface ProtectedObjectProps extends GitOpsObjectProps {
  /**
   * Whether Argo CD and Flux are told never to delete the construct's objects.
   *
   * The annotations are `argocd.argoproj.io/sync-options: Prune=false,Delete=false` and
   * `kustomize.toolkit.fluxcd.io/prune: disabled`. With protection, removing an object from Git
   * leaves it in place (Argo CD shows it as out of sync) until someone deletes it on purpose;
   * each construct says what its deletion would do to the nodes.
   *
   * @default true
   */
  readonly pruneProtection?: boolean;
}

/** The fields of ProtectedObjectProps in the order in which every construct reports their problems. */
export const PROTECTED_OBJECT_FIELDS: readonly string[] = ['metadata', 'syncWaves', 'pruneProtection'];
