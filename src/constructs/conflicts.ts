import { IConstruct } from 'constructs';

/*
 * Conflicts that only show once the whole app is built: two objects with one name (the
 * second silently replaces the first when applied), or one kernel module loaded twice on the
 * same nodes (two boot units race to load it). Each construct registers what it emits with the
 * registry of its app at construction time; the analysis runs once per synthesis and every
 * conflict is reported by exactly one construct, the first one registered, naming all.
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
  readonly roles: string[];
}

class AppRegistry {
  public readonly unique: UniqueClaim[] = [];
  public readonly modules: ModuleClaim[] = [];
  public readonly pools: PoolRoles[] = [];
  private readonly validated = new WeakSet<IConstruct>();
  private problems?: Map<IConstruct, string[]>;

  /** Makes `owner` report its share of the conflicts at synthesis (once per construct). */
  public watch(owner: IConstruct): void {
    this.problems = undefined;
    if (this.validated.has(owner)) return;
    this.validated.add(owner);
    owner.node.addValidation({ validate: () => this.analyse().get(owner) ?? [] });
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
      for (const group of groupBy(loaded, (c) => modprobeIdentity(c.kernelModuleName))) {
        if (group.length < 2) continue;
        const key = group.map((c) => c.owner.node.path).join('\0');
        if (reported.has(key)) continue;
        reported.add(key);
        const sameRole = group.every((c) => c.role === group[0].role);
        const names = [...new Set(group.map((c) => JSON.stringify(c.kernelModuleName)))].join(' and ');
        const why = sameRole
          ? `in MachineConfigPool "${pool}"`
          : `on the nodes of MachineConfigPool "${pool}", which applies the MachineConfigs of roles ${roles.map((r) => `"${r}"`).join(' and ')}`;
        report(group[0].owner, `kernel module ${names} is loaded ${group.length} times ${why}, by `
          + `${group.map((c) => `${c.owner.node.path} (role "${c.role}")`).join(', ')}: `
          + 'their boot units would race to replace the same module ("-" and "_" are the same character to modprobe). Keep one.');
      }
    }
    this.problems = problems;
    return problems;
  }
}

const registries = new WeakMap<IConstruct, AppRegistry>();

function registryOf(scope: IConstruct): AppRegistry {
  const root = scope.node.root;
  let registry = registries.get(root);
  if (!registry) {
    registry = new AppRegistry();
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
    `${kind} "${name}"${where} is defined ${count} times, by ${owners}: `
    + `when they are applied, the last one silently replaces the others. ${renameHint}`);
}

/** `owner` loads `kernelModuleName` on the nodes of MachineConfigs of role `role`. */
export function claimKernelModule(owner: IConstruct, kernelModuleName: string, role: string): void {
  const registry = registryOf(owner);
  registry.modules.push({ owner, kernelModuleName, role });
  registry.watch(owner);
}

/** A pool of the app and the MachineConfig roles it applies to its nodes. */
export function registerPool(scope: IConstruct, name: string, roles: string[]): void {
  const registry = registryOf(scope);
  registry.pools.push({ name, roles: [...roles] });
  registry.watch(scope);
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

/** modprobe treats "-" and "_" in module names as the same character. */
function modprobeIdentity(name: string): string {
  return name.replace(/-/g, '_');
}
