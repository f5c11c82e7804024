import { ApiObject } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { MachineConfigPool, MachineConfigPoolSpecMaxUnavailable } from '../../imports/machineconfigpool-machineconfiguration.openshift.io';
import { BUILT_IN_POOLS, ROLE_LABEL, WORKER_ROLE } from '../../machine-config';
import { checkDns1123Label, checkSelector, collectorFor, Day1ValidationError, optional, optionalBoolean, ProblemCollector, requireObject } from '../../validation';
import { claimObjectName, registerImportedPool, registerPool } from '../app/claims';
import { deferProblems, placeholderName } from '../app/deferred';
import { gitOpsPolicy, GitOpsStage } from '../gitops-policy';
import { checkMaxUnavailable, MaxUnavailable } from './max-unavailable';
import { resolveMetadata } from '../metadata';
import { PROTECTED_OBJECT_FIELDS, ProtectedObjectProps } from '../props';

/** Properties of a `KmmMachineConfigPool`. */
export interface KmmMachineConfigPoolProps extends ProtectedObjectProps {
  /**
   * Name of the pool, which is also its role: MachineConfigs labelled
   * `machineconfiguration.openshift.io/role: <name>` are applied to its nodes only.
   *
   * @example 'sfc'
   */
  readonly name: string;

  /**
   * The role whose MachineConfigs the pool's nodes keep receiving besides its own (the
   * operating system, kubelet and cluster-wide settings).
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'worker'
   */
  readonly baseRole?: string;

  /**
   * Node labels that put a node in the pool.
   *
   * @default { 'node-role.kubernetes.io/<name>': '' }
   */
  readonly nodeSelector?: { [key: string]: string };

  /**
   * How many of the pool's nodes may be updated (drained and rebooted) at the same time
   * when a MachineConfig changes.
   *
   * @default MaxUnavailable.fromNumber(1)
   */
  readonly maxUnavailable?: MaxUnavailable;

  /**
   * Whether the Machine Config Operator holds back updates of the pool's nodes.
   *
   * @default false
   */
  readonly paused?: boolean;
}

/** Options of `KmmMachineConfigPool.fromPoolName`. */
export interface MachineConfigPoolReferenceOptions {
  /**
   * The roles whose MachineConfigs the pool applies to its nodes: the roles its
   * `machineConfigSelector` selects by `machineconfiguration.openshift.io/role`, its own name
   * among them. The synthesis checks (modules loaded twice, the pool merge, the pool after a
   * hand-over) and the ordering of the boot units read it.
   *
   * @default - `[name]` for `worker` and `master`; `['worker', name]` for any other pool, a
   * custom pool as OpenShift requires custom pools to be
   */
  readonly machineConfigRoles?: string[];
}

/**
 * A MachineConfigPool that Day 1 modules load on: its name is the role of their MachineConfigs,
 * and its node selector chooses the nodes that their health checks and KMM Modules select.
 * Made by a `KmmMachineConfigPool`, or `KmmMachineConfigPool.fromPoolName` for a pool the
 * cluster already has.
 */
export interface IMachineConfigPool extends IConstruct {
  /** Name of the pool, also the role its MachineConfigs are labelled with. */
  readonly name: string;

  /** Node labels of the pool's nodes. */
  readonly nodeSelector: { [key: string]: string };
}

/**
 * A custom MachineConfigPool for the nodes that load a Day 1 kernel module: it applies the
 * MachineConfigs of its base role (`worker`) and of its own role, to the nodes that carry
 * its node-role label.
 *
 * The pool carries the Argo CD sync wave `SyncWave.MACHINE_CONFIG_POOL` (-10), so that Argo CD
 * creates it before the MachineConfigs of its role. It is protected from pruning by default:
 * deleting a custom pool moves its nodes back to the `worker` pool, which reboots them without
 * the pool's MachineConfigs (and so without the module).
 */
export class KmmMachineConfigPool extends Construct implements IMachineConfigPool {
  /**
   * A pool the cluster has already, such as `worker`, to load Day 1 modules on: nothing is
   * synthesized for it.
   *
   * `worker` and `master` apply the MachineConfigs of their own role only; any other name is
   * taken to be a custom pool built on `worker`, as OpenShift requires of custom pools (the
   * synthesis checks of the app merge its MachineConfigs with the `worker` ones), unless
   * `options.machineConfigRoles` says which roles it applies. The app's checks treat it exactly
   * as a `KmmMachineConfigPool` (or a MachineConfigPool object) of the same roles.
   *
   * Invalid arguments do not throw here: `app.synth()` fails with them (`[<path>] Invalid <field> <value>: <rule>`).
   *
   * @param scope where the reference lives (it emits no object)
   * @param id the reference's id in `scope`
   * @param name the MachineConfigPool's name, its role
   * @param nodeSelector the labels of the pool's nodes, which health checks and KMM Modules select (by default
   * `{ 'node-role.kubernetes.io/<name>': '' }`, the label OpenShift gives the nodes of `worker`, `master` and conventional custom pools)
   * @param options the roles the pool applies, when they are not the default ones
   */
  public static fromPoolName(scope: Construct, id: string, name: string, nodeSelector?: { [key: string]: string },
    options?: MachineConfigPoolReferenceOptions): IMachineConfigPool {
    return new ImportedMachineConfigPool(scope, id, name, nodeSelector, options);
  }

  /** Name of the pool, also the role its MachineConfigs are labelled with. */
  public readonly name: string;

  /** The role whose MachineConfigs the pool applies besides its own. */
  public readonly baseRole: string;

  /** Node labels that put a node in the pool. */
  public readonly nodeSelector: { [key: string]: string };

  /** How many of the pool's nodes may be updated at the same time. */
  public readonly maxUnavailable: MaxUnavailable;

  /** Whether the pool's updates are paused. */
  public readonly paused: boolean;

  /** The MachineConfigPool object. */
  public readonly apiObject: ApiObject;

  /**
   * Invalid props do not throw here: `app.synth()` fails with the problems of every construct of
   * the app, one line each (`[<path>] Invalid <field> <value>: <rule>`).
   */
  constructor(scope: Construct, id: string, props: KmmMachineConfigPoolProps) {
    super(scope, id);
    const problems = collectorFor(this.node.path, props, POOL_FIELDS);
    let name = problems.check(() => checkDns1123Label('name', props.name));
    if (name !== undefined && BUILT_IN_POOLS.includes(name)) {
      problems.add('name', name,
        `must not be a built-in pool (${BUILT_IN_POOLS.join(', ')}): the cluster already has it; to load a module on all its nodes, `
        + `give the Day1KernelModule the pool KmmMachineConfigPool.fromPoolName(scope, id, '${name}')`);
      name = undefined;
    }
    const baseRole = problems.check(() => optional('baseRole', props.baseRole, 'the default base role (worker)', checkDns1123Label)) ?? WORKER_ROLE;
    if (name !== undefined && baseRole === name) {
      problems.add('baseRole', baseRole, 'must differ from name: the pool applies the MachineConfigs of both roles');
    }
    const nodeSelector = poolNodeSelector(problems, name, props.nodeSelector);
    const maxUnavailable = problems.check(() => (props.maxUnavailable === undefined
      ? MaxUnavailable.fromNumber(1) : checkMaxUnavailable('maxUnavailable', props.maxUnavailable)));
    const paused = problems.check(() => optionalBoolean('paused', props.paused));
    const gitOps = problems.check(() => gitOpsPolicy('', GitOpsStage.MACHINE_CONFIG_POOL, props, true));
    const metadata = problems.check(() => resolveMetadata('', props.metadata, { name, nameField: 'name', gitOps }));
    // Invalid props fail the app's synthesis with every construct's problems (see deferred.ts).
    const placeholder = deferProblems(this, problems) ? placeholderName(this) : undefined;
    this.name = placeholder ?? name!;
    this.baseRole = baseRole;
    this.nodeSelector = Object.freeze(placeholder === undefined ? nodeSelector! : { [`node-role.kubernetes.io/${placeholder}`]: '' });
    this.maxUnavailable = maxUnavailable ?? MaxUnavailable.fromNumber(1);
    this.paused = paused ?? false;
    if (placeholder !== undefined) {
      this.apiObject = new MachineConfigPool(this, 'Resource', { metadata: { name: placeholder }, spec: {} });
      return;
    }

    this.apiObject = new MachineConfigPool(this, 'Resource', {
      metadata: metadata!,
      spec: {
        machineConfigSelector: {
          matchExpressions: [{ key: ROLE_LABEL, operator: 'In', values: [this.baseRole, this.name] }],
        },
        nodeSelector: { matchLabels: { ...this.nodeSelector } },
        maxUnavailable: this.maxUnavailable.isPercentage
          ? MachineConfigPoolSpecMaxUnavailable.fromString(this.maxUnavailable.toString())
          : MachineConfigPoolSpecMaxUnavailable.fromNumber(this.maxUnavailable.amount),
        paused: this.paused,
      },
    });
    claimObjectName(this, 'MachineConfigPool', undefined, this.name, 'Give each KmmMachineConfigPool its own name.');
    registerPool(this, this.name, [this.baseRole, this.name], this.apiObject);
  }
}

/** A pool of the cluster, by name: a reference that emits nothing. */
class ImportedMachineConfigPool extends Construct implements IMachineConfigPool {
  public readonly name: string;
  public readonly nodeSelector: { [key: string]: string };

  constructor(scope: Construct, id: string, name: string, nodeSelector: { [key: string]: string } | undefined,
    options: MachineConfigPoolReferenceOptions | undefined) {
    super(scope, id);
    const problems = new ProblemCollector(this.node.path, ['name', 'nodeSelector', 'options']);
    const checkedName = problems.check(() => checkDns1123Label('name', name));
    const selector = poolNodeSelector(problems, checkedName, nodeSelector);
    const roles = problems.check(() => referencedRoles(checkedName, options));
    const placeholder = deferProblems(this, problems) ? placeholderName(this) : undefined;
    this.name = placeholder ?? checkedName!;
    this.nodeSelector = Object.freeze(placeholder === undefined ? selector! : { [`node-role.kubernetes.io/${placeholder}`]: '' });
    if (placeholder === undefined) registerImportedPool(this, this.name, roles);
  }
}

/** `options.machineConfigRoles`, checked: DNS labels, no repeats, the pool's own role among them. */
function referencedRoles(name: string | undefined, options: MachineConfigPoolReferenceOptions | undefined): string[] | undefined {
  if (options === undefined || options === null) return undefined;
  requireObject('options', options);
  const roles: unknown = options.machineConfigRoles;
  if (roles === undefined) return undefined;
  if (!Array.isArray(roles) || roles.length === 0) {
    throw new Day1ValidationError('options.machineConfigRoles', roles, 'must be a non-empty list of roles; leave it out for the default');
  }
  const checked = roles.map((role, i) => checkDns1123Label(`options.machineConfigRoles[${i}]`, role));
  if (new Set(checked).size !== checked.length) {
    throw new Day1ValidationError('options.machineConfigRoles', roles, 'must not list a role twice');
  }
  if (name !== undefined && !checked.includes(name)) {
    throw new Day1ValidationError('options.machineConfigRoles', roles,
      `must include the pool's own role "${name}": the MachineConfigs of its Day 1 modules are labelled with it`);
  }
  return checked;
}

/**
 * The node selector of pool `name`: the given one, or by convention
 * `node-role.kubernetes.io/<name>` (the label of `worker`, `master` and custom pools' nodes).
 * Nodes of custom pools keep their worker label and also receive the worker MachineConfigs,
 * so for `worker` too the derived selector matches the nodes that load its modules.
 *
 * @param name the checked pool name, `undefined` when it is invalid: no default then
 */
function poolNodeSelector(problems: ProblemCollector, name: string | undefined, given: unknown): { [key: string]: string } | undefined {
  if (given !== undefined) {
    return problems.check(() => checkSelector('nodeSelector', given));
  }
  if (name === undefined) {
    return undefined;
  }
  return problems.checkDerived(`the default node selector, derived from name ${JSON.stringify(name)}; set nodeSelector explicitly`,
    () => checkSelector('nodeSelector', { [`node-role.kubernetes.io/${name}`]: '' }));
}

/** The fields of KmmMachineConfigPoolProps in the order of the interface. */
const POOL_FIELDS: readonly string[] = ['name', 'baseRole', 'nodeSelector', 'maxUnavailable', 'paused', ...PROTECTED_OBJECT_FIELDS];

