import { Construct, IConstruct } from 'constructs';
import { scanApp, AppScan } from './scan';
import { goStringOrder, MachineConfigManifest, NodeSet, rolesOfClusterPool, Topology } from '../../machine-config';

/*
 * What the constructs of one app tell each other: which objects they emit, which modules they
 * load on which roles, which pools exist, which Day 1 MachineConfigs were handed over. It lives in
 * the construct tree, as one construct directly under the root (found by id, created once), so
 * that two installed copies of this package in one app share it and nothing in a module of this
 * package holds state of an app.
 *
 * The checks that need the whole app (checks.ts) run once per validation pass, whatever order
 * cdk8s validates the constructs in: each construct that reports a share of the problems asks
 * the registry, and a pass starts with the first question, and again when a construct asks a
 * second time. Not part of the public API.
 */

/** The id of the registry under the app's root; also the path its own problems are reported at. */
export const REGISTRY_ID = 'cdk8s-kmm-day1';
/** Marks the registry across copies of this package; its value is the shape version below. */
const MARK = Symbol.for('cdk8s-kmm-day1.AppRegistry');
/** Bumped whenever the registry's fields or methods change shape: two copies must agree on it. */
const SHAPE_VERSION = 2;

/** A key that only one construct of the app may hold (an object name, a BootModuleConfig target). */
export interface UniqueClaim {
  readonly owner: IConstruct;
  readonly key: string;
  /** The error, given the paths of all claimants (joined) and their number. */
  readonly describe: (owners: string, count: number) => string;
}

/** A Day 1 MachineConfig made by a construct of this library, and the module it loads. */
export interface Day1Claim {
  readonly owner: IConstruct;
  /** Its MachineConfig object. */
  readonly apiObject: IConstruct;
  /** `metadata.name` of the MachineConfig. */
  readonly name: string;
  /** Its role, the name of its pool. */
  readonly role: string;
  readonly kernelModuleName: string;
  readonly moduleParameters: readonly string[];
  /** The MachineConfig with the given peers, as produceMachineConfig makes it. */
  readonly render: (peers: string[]) => MachineConfigManifest;
}

/** A BootModuleConfig of the app: the KMM operator rewrites the named MachineConfig. */
export interface HandOverClaim {
  readonly owner: IConstruct;
  readonly machineConfigName: string;
  /** Whether an Argo CD Application of the app must ignore the operator's rewrite (made by handOverToKmm). */
  readonly requireArgoCdIgnoreRule: boolean;
}

/** A GitOps bootstrap construct: its chart is applied once by an admin, never synced. */
export interface BootstrapClaim {
  readonly construct: IConstruct;
  /** Prefix of its problems (names the construct kind and path). */
  readonly prefix: string;
}

/** A health check and the DaemonSet it emits. */
export interface HealthCheckClaim {
  readonly owner: IConstruct;
  readonly daemonSet: IConstruct;
  /** Whether it runs in the library's own namespace, which the registry places (see health-namespace.ts). */
  readonly defaultNamespace: boolean;
  readonly syncWaves: boolean;
}

/** The checks, given the app; each problem keyed by the construct that reports it. */
export type AppAnalysis = (registry: AppRegistry) => Map<IConstruct, string[]>;

/** The one registry of an app: see the file comment. */
export class AppRegistry extends Construct {
  /**
   * The registry of `scope`'s app, created under its root the first time.
   *
   * @throws Error when another copy of this package with a different registry shape made it
   */
  public static of(scope: IConstruct): AppRegistry {
    const root = scope.node.root;
    const existing = root.node.tryFindChild(REGISTRY_ID) as any;
    if (existing === undefined) return new AppRegistry(root as Construct);
    if (existing[MARK] !== SHAPE_VERSION) {
      throw new Error(`${scope.node.path}: the app already has a construct "${REGISTRY_ID}" that is not the registry of this release of `
        + `cdk8s-kmm-day1 (shape ${existing[MARK] ?? 'unknown'}, this release needs ${SHAPE_VERSION}): the app loads two releases of the `
        + 'package that cannot share one app; install one (npm ls cdk8s-kmm-day1 shows them)');
    }
    return existing as AppRegistry;
  }

  public readonly unique: UniqueClaim[] = [];
  public readonly day1: Day1Claim[] = [];
  public readonly pools: NodeSet[] = [];
  public readonly handOvers: HandOverClaim[] = [];
  public readonly bootstrap: BootstrapClaim[] = [];
  public readonly healthChecks: HealthCheckClaim[] = [];
  /** Constructs with invalid props: the app's synthesis fails on them (deferred.ts). */
  public readonly invalid = new Set<IConstruct>();
  /** ApiObjects of this library's constructs, which the scan of plain objects skips. */
  public readonly own = new Set<IConstruct>();
  /** The health checks' Namespace object, where it is now (health-namespace.ts). */
  public healthNamespace?: IConstruct;
  /** Pools the app refers to by name; a declared pool of the same name wins. */
  private readonly importedPools: NodeSet[] = [];
  private readonly watched = new Set<IConstruct>();
  private readonly asked = new Set<IConstruct>();
  private readonly analyses: AppAnalysis[] = [];
  private readonly rendered = new Map<Day1Claim, { readonly key: string; readonly manifest: MachineConfigManifest }>();
  private pass?: { scan: AppScan; topology: Topology; peers: Map<string, string[]>; problems?: Map<IConstruct, string[]> };

  private constructor(root: Construct) {
    super(root, REGISTRY_ID);
    Object.defineProperty(this, MARK, { value: SHAPE_VERSION });
    this.watch(this);
  }

  /** Runs `analysis` in every validation pass (once per app, whichever copy of the package adds it). */
  public addAnalysis(analysis: AppAnalysis): void {
    if (!this.analyses.includes(analysis)) this.analyses.push(analysis);
  }

  /** Makes `owner` report its share of the app's problems at synthesis (once per construct). */
  public watch(owner: IConstruct): void {
    this.changed();
    if (this.watched.has(owner)) return;
    this.watched.add(owner);
    owner.node.addValidation({ validate: () => this.problemsOf(owner) });
  }

  /** Drops what was computed from the app: a construct registered something. */
  public changed(): void {
    this.pass = undefined;
  }

  /** A pool of the cluster the app refers to by name, and the roles it applies. */
  public addImportedPool(name: string, roles: readonly string[] | undefined): void {
    this.importedPools.push({ pool: name, roles: roles === undefined ? rolesOfClusterPool(name) : [...roles] });
    this.changed();
  }

  /** Whether any construct of the app has invalid props. */
  public get hasInvalidProps(): boolean {
    return this.invalid.size > 0;
  }

  /** The plain objects of the app (those no construct of this library made), read once per pass. */
  public get scan(): AppScan {
    return this.current().scan;
  }

  /** The app's node sets: declared pools, plain MachineConfigPool objects, pools by name, implied pools. */
  public get topology(): Topology {
    return this.current().topology;
  }

  /** Whether the KMM operator rewrites the MachineConfig `name` (a BootModuleConfig of the app names it). */
  public isHandedOver(name: string): boolean {
    return this.handOvers.some((claim) => claim.machineConfigName === name) || this.scan.bootModuleConfigTargets.includes(name);
  }

  /**
   * The other Day 1 MachineConfigs whose replace units `claim`'s orders itself against: those
   * of the roles its role orders against (Topology.ordersAgainst), sorted.
   */
  public peersOf(claim: Day1Claim): string[] {
    const pass = this.current();
    let names = pass.peers.get(claim.role);
    if (names === undefined) {
      const all = [...this.day1.map((c) => ({ name: c.name, role: c.role })), ...pass.scan.machineConfigs.filter((mc) => mc.day1)];
      names = [...new Set(all.filter((mc) => pass.topology.ordersAgainst(claim.role, mc.role)).map((mc) => mc.name))].sort(goStringOrder);
      pass.peers.set(claim.role, names);
    }
    return names.filter((name) => name !== claim.name);
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

  /** `owner`'s share of the app's problems, the checks run once per pass. */
  private problemsOf(owner: IConstruct): string[] {
    if (this.asked.size === 0 || this.asked.has(owner)) {
      // A new pass: the app may have changed since it was last read.
      this.asked.clear();
      this.pass = undefined;
    }
    this.asked.add(owner);
    const pass = this.current();
    if (pass.problems === undefined) {
      pass.problems = new Map();
      // Invalid props are the problems to fix first; what the checks would say about placeholders is noise.
      if (!this.hasInvalidProps) {
        for (const analysis of this.analyses) {
          for (const [construct, messages] of analysis(this)) pass.problems.set(construct, [...(pass.problems.get(construct) ?? []), ...messages]);
        }
      }
    }
    return pass.problems.get(owner) ?? [];
  }

  private current(): NonNullable<AppRegistry['pass']> {
    if (this.pass === undefined) {
      const scan = scanApp(this.node.root, this.own);
      const pools = [...this.pools, ...scan.pools, ...this.importedPools];
      const roles = [...this.day1.map((claim) => claim.role), ...scan.machineConfigs.map((mc) => mc.role)];
      this.pass = { scan, topology: new Topology(pools, roles), peers: new Map() };
    }
    return this.pass;
  }
}
