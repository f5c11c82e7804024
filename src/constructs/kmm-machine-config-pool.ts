import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { claimObjectName, registerPool } from './conflicts';
import { gitOpsPolicy, GitOpsStage } from './gitops';
import { MaxUnavailable } from './max-unavailable';
import { checkSelector, resolveMetadata } from './metadata';
import { MachineConfigPool, MachineConfigPoolSpecMaxUnavailable } from '../imports/machineconfigpool-machineconfiguration.openshift.io';
import { ROLE_LABEL } from '../machine-config';
import { checkDns1123Label, Day1ValidationError, optional, optionalBoolean, ProblemCollector } from '../validation';

/** The pools every OpenShift cluster already has; a custom pool must not replace them. */
const BUILT_IN_POOLS = ['master', 'worker'];

/** Properties of a `KmmMachineConfigPool`. */
export interface KmmMachineConfigPoolProps {
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

  /**
   * Extra labels and annotations of the MachineConfigPool. An
   * `argocd.argoproj.io/sync-wave` annotation here overrides the default wave.
   *
   * @default - the name and the GitOps annotations only
   */
  readonly metadata?: ApiObjectMetadata;

  /**
   * Whether the pool carries the Argo CD sync wave `SyncWave.MACHINE_CONFIG_POOL` (-10), so
   * that Argo CD creates it before the MachineConfigs of its role.
   *
   * @default true
   */
  readonly syncWaves?: boolean;

  /**
   * Whether Argo CD and Flux are told never to delete the pool.
   *
   * The annotations are `argocd.argoproj.io/sync-options: Prune=false,Delete=false` and
   * `kustomize.toolkit.fluxcd.io/prune: disabled`. Deleting a custom pool moves its nodes
   * back to the `worker` pool, which reboots them without the pool's MachineConfigs (and so
   * without the module); with protection, removing the pool from Git leaves it in place
   * until someone deletes it on purpose.
   *
   * @default true
   */
  readonly pruneProtection?: boolean;
}

/**
 * A custom MachineConfigPool for the nodes that load a Day 1 kernel module: it applies the
 * MachineConfigs of its base role (`worker`) and of its own role, to the nodes that carry
 * its node-role label.
 */
export class KmmMachineConfigPool extends Construct {
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
   * @throws Error listing every invalid property, one line each (`<path>: Invalid <field> <value>: <rule>`)
   */
  constructor(scope: Construct, id: string, props: KmmMachineConfigPoolProps) {
    super(scope, id);
    const problems = new ProblemCollector(this.node.path, POOL_FIELDS);
    if (props === null || typeof props !== 'object') {
      problems.add('props', props, 'must be an object');
      problems.throwIfAny();
    }
    let name = problems.check(() => checkDns1123Label('name', props.name));
    if (name !== undefined && BUILT_IN_POOLS.includes(name)) {
      problems.add('name', name,
        `must not be a built-in pool (${BUILT_IN_POOLS.join(', ')}): the cluster already has it; to load a module on all its nodes, `
        + `give the Day1KernelModule machineConfigPoolName: '${name}' instead of a pool`);
      name = undefined;
    }
    const baseRole = problems.check(() => optional('baseRole', props.baseRole, 'the default base role (worker)', checkDns1123Label) ?? 'worker');
    if (name !== undefined && baseRole === name) {
      problems.add('baseRole', baseRole, 'must differ from name: the pool applies the MachineConfigs of both roles');
    }
    const nodeSelector = props.nodeSelector !== undefined
      ? problems.check(() => checkSelector('nodeSelector', props.nodeSelector))
      : name === undefined ? undefined : problems.checkDerived(`the default node selector, derived from name ${JSON.stringify(name)}; set nodeSelector explicitly`,
        () => checkSelector('nodeSelector', { [`node-role.kubernetes.io/${name}`]: '' }));
    const maxUnavailable = problems.check(() => checkMaxUnavailable('maxUnavailable', props.maxUnavailable));
    const paused = problems.check(() => optionalBoolean('paused', props.paused, false));
    const gitOps = problems.check(() => gitOpsPolicy('', GitOpsStage.MACHINE_CONFIG_POOL, props, true));
    const metadata = problems.check(() => resolveMetadata('', props.metadata, { name, nameField: 'name', gitOps }));
    problems.throwIfAny();
    this.name = name!;
    this.baseRole = baseRole!;
    this.nodeSelector = Object.freeze(nodeSelector!);
    this.maxUnavailable = maxUnavailable!;
    this.paused = paused!;

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

/** The fields of KmmMachineConfigPoolProps in the order of the interface. */
const POOL_FIELDS: readonly string[] = ['name', 'baseRole', 'nodeSelector', 'maxUnavailable', 'paused', 'metadata', 'syncWaves', 'pruneProtection'];

/** Duck-typed, because a second copy of this library in node_modules defeats `instanceof`. */
function checkMaxUnavailable(field: string, value: MaxUnavailable | undefined): MaxUnavailable {
  if (value === undefined) {
    return MaxUnavailable.fromNumber(1);
  }
  if (value === null || typeof value !== 'object' || typeof value.amount !== 'number' || typeof value.isPercentage !== 'boolean') {
    throw new Day1ValidationError(field, value, 'must be made with MaxUnavailable.fromNumber(n) or MaxUnavailable.fromString("n%")');
  }
  return value.isPercentage ? MaxUnavailable.fromString(`${value.amount}%`) : MaxUnavailable.fromNumber(value.amount);
}
