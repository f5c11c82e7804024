import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { claimObjectName, registerPool } from './conflicts';
import { gitOpsPolicy, GitOpsStage } from './gitops';
import { MaxUnavailable } from './max-unavailable';
import { checkSelector, resolveMetadata } from './metadata';
import { MachineConfigPool, MachineConfigPoolSpecMaxUnavailable } from '../imports/machineconfigpool-machineconfiguration.openshift.io';
import { ROLE_LABEL } from '../machine-config';
import { checkDns1123Label, Day1ValidationError } from '../validation';

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
   * Whether Argo CD and Flux are told never to delete the pool
   * (`argocd.argoproj.io/sync-options: Prune=false,Delete=false`,
   * `kustomize.toolkit.fluxcd.io/prune: disabled`). Deleting a custom pool moves its nodes
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
   * @throws Error naming the property when a property is invalid
   */
  constructor(scope: Construct, id: string, props: KmmMachineConfigPoolProps) {
    super(scope, id);
    const prefix = `KmmMachineConfigPool "${this.node.path}": `;
    if (props === null || typeof props !== 'object') {
      throw new Day1ValidationError(`${prefix}props`, props, 'must be an object');
    }
    this.name = checkDns1123Label(`${prefix}name`, props.name);
    this.baseRole = checkDns1123Label(`${prefix}baseRole`, props.baseRole ?? 'worker');
    if (BUILT_IN_POOLS.includes(this.name)) {
      throw new Day1ValidationError(`${prefix}name`, this.name,
        `must not be a built-in pool (${BUILT_IN_POOLS.join(', ')}): the cluster already has it; to load a module on all its nodes, `
        + `give the Day1KernelModule machineConfigPoolName: '${this.name}' instead of a pool`);
    }
    if (this.baseRole === this.name) {
      throw new Day1ValidationError(`${prefix}baseRole`, this.baseRole, 'must differ from name: the pool applies the MachineConfigs of both roles');
    }
    this.nodeSelector = Object.freeze(checkSelector(`${prefix}nodeSelector`,
      props.nodeSelector ?? { [`node-role.kubernetes.io/${this.name}`]: '' }));
    this.maxUnavailable = checkMaxUnavailable(`${prefix}maxUnavailable`, props.maxUnavailable);
    if (props.paused !== undefined && typeof props.paused !== 'boolean') {
      throw new Day1ValidationError(`${prefix}paused`, props.paused, 'must be a boolean');
    }
    this.paused = props.paused ?? false;

    this.apiObject = new MachineConfigPool(this, 'Resource', {
      metadata: resolveMetadata(prefix, props.metadata, {
        name: this.name,
        nameField: 'name',
        gitOps: gitOpsPolicy(prefix, GitOpsStage.MACHINE_CONFIG_POOL, props, true),
      }),
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
