/*
 * Which MachineConfigs reach which nodes, and in which order the Machine Config Operator merges
 * them: the one model that every check of this library, the peer ordering of the boot units and
 * the pool merge read. No cdk8s here: the constructs feed it what the app holds.
 *
 * Facts it encodes (OpenShift's MachineConfigPool semantics):
 * - A MachineConfig is labelled with one role (`machineconfiguration.openshift.io/role`); a pool
 *   applies every MachineConfig whose role its `machineConfigSelector` selects, to every node its
 *   `nodeSelector` selects.
 * - The cluster's `worker` and `master` pools select their own role only. A custom pool selects
 *   `worker` too (OpenShift requires it of custom pools), so `worker` MachineConfigs reach it.
 * - The MCO merges a pool's MachineConfigs `worker` role first, then all the others; each group in
 *   Go's string order of `metadata.name` (bytes; for Kubernetes names the same as UTF-16 order).
 */

/** The API group of MachineConfigs and MachineConfigPools. */
export const MACHINE_CONFIGURATION_GROUP = 'machineconfiguration.openshift.io';

/** The label that gives a MachineConfig its role. */
export const ROLE_LABEL = `${MACHINE_CONFIGURATION_GROUP}/role`;

/** The role every custom pool builds on, and whose MachineConfigs the MCO merges first. */
export const WORKER_ROLE = 'worker';

/** The pools every cluster has; each applies its own role only. */
export const BUILT_IN_POOLS: readonly string[] = ['master', WORKER_ROLE];

/** Go's `sort.Strings` order, which the MCO sorts MachineConfig names by: never locale order. */
export function goStringOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One set of nodes: a pool, and the roles whose MachineConfigs its nodes receive. */
export interface NodeSet {
  /** The pool's name. */
  readonly pool: string;
  /** The roles the pool applies, `worker` first when it is one of them, the others in Go's order. */
  readonly roles: readonly string[];
}

/**
 * The roles a pool of the cluster applies when the app knows only its name: its own, plus
 * `worker` for a custom pool unless `appliesWorker` is false.
 */
export function rolesOfClusterPool(name: string, appliesWorker: boolean = true): string[] {
  return BUILT_IN_POOLS.includes(name) || !appliesWorker ? [name] : [WORKER_ROLE, name];
}

/** `roles` without repeats, `worker` first, the others in Go's order: the order the MCO merges them in. */
export function inMergeOrder(roles: readonly string[]): string[] {
  const unique = [...new Set(roles)];
  return [...unique.filter((role) => role === WORKER_ROLE), ...unique.filter((role) => role !== WORKER_ROLE).sort(goStringOrder)];
}

/**
 * The roles a `machineConfigSelector` selects by the role label (`matchLabels`, and
 * `matchExpressions` with `In`), in merge order. Other selectors select no role this model knows.
 */
export function rolesOfSelector(selector: any): string[] {
  const roles: string[] = [];
  const label = selector?.matchLabels?.[ROLE_LABEL];
  if (typeof label === 'string') roles.push(label);
  for (const expression of Array.isArray(selector?.matchExpressions) ? selector.matchExpressions : []) {
    if (expression?.key === ROLE_LABEL && expression?.operator === 'In' && Array.isArray(expression.values)) {
      roles.push(...expression.values.filter((value: unknown): value is string => typeof value === 'string'));
    }
  }
  return inMergeOrder(roles);
}

/**
 * Sorts MachineConfigs into the MCO's merge order: those of `baseRole` first, then the rest,
 * each group by name in Go's order. Stable for equal names.
 */
export function sortInMergeOrder<T>(machineConfigs: readonly T[], name: (mc: T) => string, role: (mc: T) => string | undefined,
  baseRole: string = WORKER_ROLE): T[] {
  const byName = (a: T, b: T) => goStringOrder(name(a), name(b));
  return [
    ...machineConfigs.filter((mc) => role(mc) === baseRole).sort(byName),
    ...machineConfigs.filter((mc) => role(mc) !== baseRole).sort(byName),
  ];
}

/**
 * The node sets of an app or a cluster: each pool once (the first definition of a name wins),
 * plus, for every role that has MachineConfigs but no pool of its name, the pool the cluster
 * has for it (see `rolesOfClusterPool`).
 */
export class Topology {
  /** Every node set, in the order the pools were given, then the implied ones. */
  public readonly nodeSets: readonly NodeSet[];
  private readonly setsOfRole = new Map<string, NodeSet[]>();

  /**
   * @param pools the pools the app declares or refers to, in the order they are known
   * @param rolesInUse the roles of every MachineConfig of the app
   */
  constructor(pools: readonly NodeSet[], rolesInUse: readonly string[]) {
    const sets = new Map<string, NodeSet>();
    for (const pool of pools) {
      if (!sets.has(pool.pool)) sets.set(pool.pool, { pool: pool.pool, roles: inMergeOrder(pool.roles) });
    }
    for (const role of rolesInUse) {
      if (!sets.has(role)) sets.set(role, { pool: role, roles: rolesOfClusterPool(role) });
    }
    this.nodeSets = [...sets.values()];
    for (const set of this.nodeSets) {
      for (const role of set.roles) {
        const list = this.setsOfRole.get(role);
        if (list) list.push(set);
        else this.setsOfRole.set(role, [set]);
      }
    }
  }

  /** The node sets that MachineConfigs of `role` reach. */
  public nodeSetsOf(role: string): readonly NodeSet[] {
    return this.setsOfRole.get(role) ?? [];
  }

  /** Whether `role`'s MachineConfigs reach every node that `other`'s reach. */
  public covers(role: string, other: string): boolean {
    return this.nodeSetsOf(other).every((set) => set.roles.includes(role));
  }

  /**
   * Whether the Day 1 MachineConfigs of `role` order their replace units against those of
   * `other` (list them as peers). Two roles that share nodes must be ordered on one side at
   * least, and a MachineConfig lists only what it must: every change of a peer changes it,
   * which reboots every node it reaches. A `worker` MachineConfig lists no other role (it
   * reaches every worker node; listing a custom role would reboot the whole worker pool for a
   * change of that role), and every role that shares nodes with `worker` lists it. Otherwise
   * `role` lists `other` when `other` reaches all of `role`'s nodes; when neither reaches all
   * nodes of the other, the role later in Go's order lists the earlier one.
   */
  public ordersAgainst(role: string, other: string): boolean {
    if (role === other) return true;
    const shared = this.nodeSetsOf(role).some((set) => set.roles.includes(other));
    if (!shared) return false;
    if (role === WORKER_ROLE || other === WORKER_ROLE) return other === WORKER_ROLE;
    if (this.covers(other, role)) return true;
    return !this.covers(role, other) && goStringOrder(other, role) < 0;
  }
}
