import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import {
  isDay1MachineConfig,
  MACHINE_CONFIG_KIND,
  MachineConfigConflict,
  MachineConfigConflictKind,
  MachineConfigManifest,
  mergeMachineConfigs,
  ROLE_LABEL,
} from '../../machine-config';
import { modprobeName } from '../../validation';
import { appHasInvalidProps } from './deferred';

/*
 * Conflicts that only show once the whole app is built: two objects with one name (the
 * second silently replaces the first when applied), one kernel module loaded twice on the
 * same nodes (two boot units race to load it), or a MachineConfig the user added (ApiObject,
 * Include) that breaks a Day 1 MachineConfig of its pool once the Machine Config Operator has
 * merged them. Each construct registers what it emits with the registry of its app at
 * construction time; the analysis runs once per synthesis and every conflict is reported by
 * exactly one construct, the first one registered, naming all. The same registry knows which
 * Day 1 MachineConfigs share nodes, which is what orders their replace units (peers).
 */

interface UniqueClaim {
  readonly owner: IConstruct;
  readonly key: string;
  /** The error, given the paths of all claimants (joined) and their number. */
  readonly describe: (owners: string, count: number) => string;
}

interface ModuleClaim {
  readonly owner: IConstruct;
  readonly kernelModuleName: string;
  /** The `machineconfiguration.openshift.io/role` of the MachineConfig that loads it. */
  readonly role: string;
}

interface PoolRoles {
  readonly name: string;
  /** The base role first (the one the MCO merges first), then the pool's own. */
  readonly roles: string[];
}

/** A Day 1 MachineConfig made by a construct of this library. */
interface Day1Claim {
  readonly owner: IConstruct;
  readonly name: string;
  readonly role: string;
  /** The MachineConfig with the given peers, as produceMachineConfig makes it. */
  readonly render: (peers: string[]) => MachineConfigManifest;
}

/** A MachineConfig of the app that no construct of this library made (a user's ApiObject, an Include). */
interface PlainMachineConfig {
  readonly path: string;
  readonly name: string;
  readonly role: string;
  readonly json: any;
  readonly day1: boolean;
}

/** What the construct tree holds besides this library's constructs, read once per validation pass. */
interface Scan {
  readonly machineConfigs: PlainMachineConfig[];
  readonly pools: PoolRoles[];
  readonly fingerprint: string;
}

/** The nodes of one pool: the roles whose MachineConfigs they receive, the base role first. */
interface NodeSet {
  readonly pool: string;
  readonly roles: string[];
}

const MACHINE_CONFIG_GROUP = 'machineconfiguration.openshift.io/';
/** The pools every cluster has; they apply their own role only. */
export const BUILT_IN_ROLES: readonly string[] = ['master', 'worker'];
/** The role every custom pool builds on. */
export const WORKER_ROLE = 'worker';

/**
 * The roles a pool that the app has no object of applies, the base role first: `worker` and
 * `master` their own only; any other pool is taken to be a custom pool built on `worker`, as
 * OpenShift requires of custom pools.
 */
function rolesOfClusterPool(name: string): string[] {
  return BUILT_IN_ROLES.includes(name) ? [name] : [WORKER_ROLE, name];
}

class AppRegistry {
  public readonly unique: UniqueClaim[] = [];
  public readonly modules: ModuleClaim[] = [];
  public readonly pools: PoolRoles[] = [];
  /** Pools of the cluster that the app refers to by name (KmmMachineConfigPool.fromPoolName). */
  public readonly clusterPools: string[] = [];
  public readonly day1: Day1Claim[] = [];
  /** ApiObjects of this library's constructs, which the scan of plain objects skips. */
  public readonly own = new WeakSet<IConstruct>();
  private readonly validated = new WeakSet<IConstruct>();
  private readonly rendered = new Map<Day1Claim, { readonly key: string; readonly manifest: MachineConfigManifest }>();
  private problems?: Map<IConstruct, string[]>;
  private scanned?: Scan;
  private peersByRole?: Map<string, string[]>;

  constructor(private readonly root: IConstruct) {
    // cdk8s validates the app once per synthesis and once more per chart it writes, always
    // the root first. Each pass re-reads the plain MachineConfigs a user may have added or
    // changed since; the analysis runs again only when they did.
    root.node.addValidation({
      validate: () => {
        // Invalid props (deferred.ts) are the problems to fix first; placeholders have no conflicts worth naming.
        if (appHasInvalidProps(root)) return [];
        const before = this.scanned?.fingerprint;
        this.scanned = undefined;
        if (this.scan().fingerprint !== before) this.invalidate();
        return this.analyse().get(root) ?? [];
      },
    });
  }

  /** Makes `owner` report its share of the conflicts at synthesis (once per construct). */
  public watch(owner: IConstruct): void {
    this.invalidate();
    this.scanned = undefined;
    if (this.validated.has(owner)) return;
    this.validated.add(owner);
    owner.node.addValidation({ validate: () => (appHasInvalidProps(owner) ? [] : this.analyse().get(owner) ?? []) });
  }

  /**
   * The other Day 1 MachineConfigs of the app whose units run on the nodes `claim` reaches,
   * sorted; computed once for all modules (per role), again after any registration.
   */
  public peersOf(claim: Day1Claim): string[] {
    if (this.peersByRole === undefined) {
      const scan = this.scan();
      const namesByRole = groupInto([...this.day1, ...scan.machineConfigs.filter((mc) => mc.day1)], (mc) => mc.role, (mc) => mc.name);
      const setsByRole = groupInto(this.nodeSets(scan).flatMap((set) => set.roles.map((role) => ({ role, set }))), (e) => e.role, (e) => e.set);
      this.peersByRole = new Map();
      for (const role of new Set(this.day1.map((c) => c.role))) {
        const names = new Set<string>();
        // Only roles that reach every node this role reaches: a custom pool's MachineConfigs
        // order themselves against their base role's, never the other way round, because
        // changing a `worker` MachineConfig would reboot the whole worker pool.
        for (const set of setsByRole.get(role) ?? []) {
          for (const other of set.roles.slice(0, set.roles.indexOf(role) + 1)) {
            for (const name of namesByRole.get(other) ?? []) names.add(name);
          }
        }
        this.peersByRole.set(role, [...names].sort(byteOrder));
      }
    }
    return (this.peersByRole.get(claim.role) ?? []).filter((name) => name !== claim.name);
  }

  /** The MachineConfig of `claim` with its current peers; rendered once per set of peers. */
  public manifestOf(claim: Day1Claim): MachineConfigManifest {
    const peers = this.peersOf(claim);
    const key = peers.join(',');
    const cached = this.rendered.get(claim);
    if (cached !== undefined && cached.key === key) return cached.manifest;
    const manifest = claim.render(peers);
    this.rendered.set(claim, { key, manifest });
    return manifest;
  }

  private invalidate(): void {
    this.problems = undefined;
    this.peersByRole = undefined;
  }

  /**
   * The MachineConfigs and MachineConfigPools of the app that no construct of this library
   * made, found by apiVersion and kind: one walk of the tree.
   */
  private scan(): Scan {
    if (this.scanned !== undefined) return this.scanned;
    const machineConfigs: PlainMachineConfig[] = [];
    const pools: PoolRoles[] = [];
    for (const construct of this.root.node.findAll()) {
      if (!ApiObject.isApiObject(construct) || this.own.has(construct) || !construct.apiVersion.startsWith(MACHINE_CONFIG_GROUP)) continue;
      if (construct.kind === MACHINE_CONFIG_KIND) {
        const json = construct.toJson();
        const role = json?.metadata?.labels?.[ROLE_LABEL];
        if (typeof role !== 'string') continue;
        machineConfigs.push({ path: construct.node.path, name: construct.name, role, json, day1: isDay1MachineConfig(json) });
      } else if (construct.kind === 'MachineConfigPool') {
        // The pool's own role last: the roles before it reach all of its nodes (peersOf).
        const selected = selectedRoles(construct.toJson()?.spec?.machineConfigSelector);
        const roles = [...selected.filter((role) => role !== construct.name), ...selected.filter((role) => role === construct.name)];
        if (roles.length > 0) pools.push({ name: construct.name, roles });
      }
    }
    const fingerprint = JSON.stringify([machineConfigs.map((mc) => [mc.path, mc.json]), pools]);
    this.scanned = { machineConfigs, pools, fingerprint };
    return this.scanned;
  }

  /**
   * The node sets of the app: every pool construct, every MachineConfigPool object, and for
   * each pool referred to by name and each role without a pool of that name, the pool the
   * cluster has for it (see rolesOfClusterPool).
   */
  private nodeSets(scan: Scan): NodeSet[] {
    const sets = new Map<string, NodeSet>();
    for (const pool of [...this.pools, ...scan.pools]) {
      if (!sets.has(pool.name)) sets.set(pool.name, { pool: pool.name, roles: pool.roles });
    }
    for (const role of [...this.clusterPools, ...this.day1.map((c) => c.role), ...scan.machineConfigs.map((mc) => mc.role)]) {
      if (!sets.has(role)) sets.set(role, { pool: role, roles: rolesOfClusterPool(role) });
    }
    return [...sets.values()];
  }

  private analyse(): Map<IConstruct, string[]> {
    if (this.problems) return this.problems;
    const problems = new Map<IConstruct, string[]>();
    const report = (owner: IConstruct, message: string) => {
      const messages = problems.get(owner);
      if (messages) messages.push(message);
      else problems.set(owner, [message]);
    };

    for (const group of groupBy(this.unique, (c) => c.key)) {
      if (group.length < 2) continue;
      report(group[0].owner, group[0].describe(group.map((c) => c.owner.node.path).join(' and '), group.length));
    }

    // A MachineConfig of role r reaches the nodes of pool r and of every pool that selects r
    // (a custom pool selects its base role too), so a module is duplicated when two
    // MachineConfigs of roles that one pool selects both load it.
    const nodeSets = new Map<string, { pool: string; roles: string[] }>();
    for (const claim of this.modules) nodeSets.set(claim.role, { pool: claim.role, roles: [claim.role] });
    for (const pool of this.pools) nodeSets.set(pool.name, { pool: pool.name, roles: pool.roles });
    const reported = new Set<string>();
    for (const { pool, roles } of nodeSets.values()) {
      const loaded = this.modules.filter((claim) => roles.includes(claim.role));
      for (const group of groupBy(loaded, (c) => modprobeName(c.kernelModuleName))) {
        if (group.length < 2) continue;
        const key = group.map((c) => c.owner.node.path).join('\0');
        if (reported.has(key)) continue;
        reported.add(key);
        const sameRole = group.every((c) => c.role === group[0].role);
        const [first, ...aliases] = [...new Set(group.map((c) => JSON.stringify(c.kernelModuleName)))];
        const names = aliases.length === 0 ? first : `${first} (also written ${aliases.join(' and ')})`;
        const why = sameRole
          ? `in MachineConfigPool "${pool}"`
          : `on the nodes of MachineConfigPool "${pool}", which applies the MachineConfigs of roles ${roles.map((r) => `"${r}"`).join(' and ')}`;
        report(group[0].owner, `kernel module ${names} is loaded ${times(group.length)} ${why}, by `
          + `${group.map((c) => `${c.owner.node.path} (role "${c.role}")`).join(', ')}: `
          + 'their boot units would race to replace the same module ("-" and "_" are the same character to modprobe). Keep one.');
      }
    }
    this.checkPools(report);
    this.problems = problems;
    return problems;
  }

  /**
   * Merges every pool as the MCO does and reports each conflict once, on the construct of the
   * Day 1 side (or on the root when that side is a plain object too), naming both paths.
   */
  private checkPools(report: (owner: IConstruct, message: string) => void): void {
    const scan = this.scan();
    const claims = new Map<string, Day1Claim>();
    for (const claim of this.day1) if (!claims.has(claim.name)) claims.set(claim.name, claim);
    const plain = new Map<string, PlainMachineConfig>();
    for (const mc of scan.machineConfigs) if (!plain.has(mc.name) && !claims.has(mc.name)) plain.set(mc.name, mc);
    const reported = new Set<string>();
    const day1ByRole = groupInto(this.day1, (c) => c.role, (c) => c);
    const plainByRole = groupInto(scan.machineConfigs, (mc) => mc.role, (mc) => mc.json);
    for (const set of this.nodeSets(scan)) {
      const members = set.roles.flatMap((role) => [
        ...(day1ByRole.get(role) ?? []).map((c) => this.manifestOf(c)),
        ...(plainByRole.get(role) ?? []),
      ]);
      for (const conflict of mergeMachineConfigs(members).conflicts) {
        const key = [conflict.kind, conflict.machineConfigName, conflict.foreignMachineConfigName, conflict.subject].join('\0');
        if (reported.has(key)) continue;
        reported.add(key);
        const ours = claims.get(conflict.machineConfigName);
        const oursPath = ours?.owner.node.path ?? plain.get(conflict.machineConfigName)?.path ?? '?';
        const foreignPath = plain.get(conflict.foreignMachineConfigName)?.path ?? '?';
        report(ours?.owner ?? this.root, `${conflict.message}. Both reach the nodes of MachineConfigPool "${set.pool}": `
          + `"${conflict.foreignMachineConfigName}" is ${foreignPath}, "${conflict.machineConfigName}" is ${oursPath}. ${advice(conflict)}`);
      }
    }
  }
}

function advice(conflict: MachineConfigConflict): string {
  const foreign = `MachineConfig "${conflict.foreignMachineConfigName}"`;
  switch (conflict.kind) {
    case MachineConfigConflictKind.SCRIPT_CONTENTS:
      return `Remove ${conflict.subject} from ${foreign} (the three script paths belong to the Day 1 MachineConfigs of this library), `
        + 'make it with this library (Day1KernelModule or produceMachineConfig), or keep the two on different pools.';
    case MachineConfigConflictKind.CRIO_WIPE_ENABLED:
      return `Remove crio-wipe.service from ${foreign} (or leave it enabled: false, mask: true), or keep the two on different pools.`;
    default:
      return `Rename the unit in ${foreign}, or give the Day1KernelModule another machineConfigName.`;
  }
}

function groupInto<T, V>(items: readonly T[], key: (item: T) => string, value: (item: T) => V): Map<string, V[]> {
  const groups = new Map<string, V[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(value(item));
    else groups.set(k, [value(item)]);
  }
  return groups;
}

/** Go's string order, which the MCO sorts names by; for Kubernetes names, UTF-16 order. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The roles a MachineConfigPool's machineConfigSelector selects by the role label (`matchLabels`, `In`). */
function selectedRoles(selector: any): string[] {
  const roles: string[] = [];
  const label = selector?.matchLabels?.[ROLE_LABEL];
  if (typeof label === 'string') roles.push(label);
  for (const expression of Array.isArray(selector?.matchExpressions) ? selector.matchExpressions : []) {
    if (expression?.key === ROLE_LABEL && expression?.operator === 'In' && Array.isArray(expression.values)) {
      roles.push(...expression.values.filter((value: unknown): value is string => typeof value === 'string'));
    }
  }
  // The base role first, as the MCO merges it first.
  return [...new Set(roles)].sort((a, b) => (a === WORKER_ROLE ? -1 : b === WORKER_ROLE ? 1 : 0));
}

const registries = new WeakMap<IConstruct, AppRegistry>();

function registryOf(scope: IConstruct): AppRegistry {
  const root = scope.node.root;
  let registry = registries.get(root);
  if (!registry) {
    registry = new AppRegistry(root);
    registries.set(root, registry);
  }
  return registry;
}

/**
 * `owner` holds `key`, which no other construct of the app may hold; `describe` words the error
 * from the paths of all holders.
 */
export function claimUnique(owner: IConstruct, key: string, describe: (owners: string, count: number) => string): void {
  const registry = registryOf(owner);
  registry.unique.push({ owner, key, describe });
  registry.watch(owner);
}

/** `owner` emits the object `kind` `namespace`/`name`; no other construct of the app may. */
export function claimObjectName(owner: IConstruct, kind: string, namespace: string | undefined, name: string, renameHint: string): void {
  const where = namespace === undefined ? '' : ` in namespace "${namespace}"`;
  claimUnique(owner, `object\0${kind}\0${namespace ?? ''}\0${name}`, (owners, count) =>
    `${kind} "${name}"${where} is defined ${times(count)}, by ${owners}: `
    + `when they are applied, the last one silently replaces the others. ${renameHint}`);
}

/** `owner` loads `kernelModuleName` on the nodes of MachineConfigs of role `role`. */
export function claimKernelModule(owner: IConstruct, kernelModuleName: string, role: string): void {
  const registry = registryOf(owner);
  registry.modules.push({ owner, kernelModuleName, role });
  registry.watch(owner);
}

/**
 * A pool of the app and the MachineConfig roles it applies to its nodes, the base role first;
 * `apiObject` is its MachineConfigPool object.
 */
export function registerPool(scope: IConstruct, name: string, roles: string[], apiObject: IConstruct): void {
  const registry = registryOf(scope);
  registry.pools.push({ name, roles: [...roles] });
  registry.own.add(apiObject);
  registry.watch(scope);
}

/** `scope` refers to the cluster's pool `name`, which the app has no object of. */
export function registerImportedPool(scope: IConstruct, name: string): void {
  const registry = registryOf(scope);
  registry.clusterPools.push(name);
  registry.watch(scope);
}

/**
 * `owner` makes the Day 1 MachineConfig `name` of role `role` (its ApiObject `apiObject`).
 * Returns what the MachineConfig is at synthesis: rendered with every other Day 1
 * MachineConfig of the app whose units run on the same nodes as its peers.
 */
export function registerDay1MachineConfig(owner: IConstruct, apiObject: IConstruct, name: string, role: string,
  render: (peers: string[]) => MachineConfigManifest): () => MachineConfigManifest {
  const registry = registryOf(owner);
  const claim: Day1Claim = { owner, name, role, render };
  registry.day1.push(claim);
  registry.own.add(apiObject);
  registry.watch(owner);
  return () => registry.manifestOf(claim);
}

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

/** "twice", "3 times": how often something is claimed, in words. */
export function times(count: number): string {
  return count === 2 ? 'twice' : `${count} times`;
}
