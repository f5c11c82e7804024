import { ApiObject, ApiObjectMetadata, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { claimObjectName, registerDay1MachineConfig, registerHandOver } from '../app/claims';
import { deferProblems, placeholderName } from '../app/deferred';
import { GitOpsPolicy, gitOpsPolicy, GitOpsStage } from '../gitops-policy';
import { handOverToKmm, HandOverToKmmOptions, KmmHandOver } from './hand-over';
import { DEFAULT_HEALTH_CHECK_IMAGE, DEFAULT_HEALTH_CHECK_NAMESPACE, healthCheckNameFor, KernelModuleHealthCheck, KernelModuleHealthCheckProps } from './health-check';
import { IMachineConfigPool, KmmMachineConfigPool } from './kmm-machine-config-pool';
import { MachineConfig } from '../../imports/machineconfig-machineconfiguration.openshift.io';
import { machineConfigFromResolved, MachineConfigManifest, machineConfigWithDefaults, ResolvedMachineConfigOptions, ROLE_LABEL } from '../../machine-config';
import {
  checkDns1123Label,
  checkImageReference,
  checkMachineConfigName,
  checkModuleSettings,
  checkSelector,
  checkTolerations,
  collectorFor,
  Day1ValidationError,
  dnsNameFromModuleName,
  HealthCheckToleration,
  KernelModuleSettings,
  MODULE_SETTINGS_FIELDS,
  optional,
  optionalBoolean,
  ProblemCollector,
} from '../../validation';
import { resolveMetadata } from '../metadata';
import { orderAfter } from '../ordering';
import { PROTECTED_OBJECT_FIELDS, ProtectedObjectProps } from '../props';
import { addWarning } from '../warnings';

/** Properties of a `Day1KernelModule`: the module settings and where the module is loaded. */
export interface Day1KernelModuleProps extends KernelModuleSettings, ProtectedObjectProps {
  /**
   * The pool whose nodes load the module.
   *
   * A `KmmMachineConfigPool` of the app, or `KmmMachineConfigPool.fromPoolName(scope, id, 'worker')`
   * for a pool the cluster already has. Its name is the MachineConfig's role, and its node
   * selector is where the health check and the KMM Module of `handOverToKmm` run.
   */
  readonly pool: IMachineConfigPool;

  /**
   * `metadata.name` of the MachineConfig, which also prefixes the names of the two boot units.
   *
   * The `99-` prefix of the default makes the Machine Config Operator merge it after the
   * cluster's own MachineConfigs. An empty string is rejected: leave the property out for the
   * default.
   *
   * @default `99-<pool name>-kmm-day1-<kernelModuleName, lowercase, "_" as "-">`
   */
  readonly machineConfigName?: string;

  /**
   * Whether to add a `KernelModuleHealthCheck`: a DaemonSet on the pool's nodes whose pods are
   * ready only while the out-of-tree module is loaded, so that Argo CD or Flux report the app
   * healthy only once every node of the pool runs it.
   *
   * @default false
   */
  readonly healthCheck?: boolean;

  /**
   * Image of the health check (needs `/bin/sh` and `sleep infinity`). Only with `healthCheck`.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'registry.access.redhat.com/ubi9/ubi-minimal:latest'
   */
  readonly healthCheckImage?: string;

  /**
   * Namespace of the health check. The default one is created by the library; any other
   * must exist. Only with `healthCheck`.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'kmm-day1-health'
   */
  readonly healthCheckNamespace?: string;

  /**
   * Taints of the pool's nodes that the health check tolerates (custom pools are often
   * tainted NoSchedule). Only with `healthCheck`.
   *
   * A pool's own taint `node-role.kubernetes.io/<pool>=:NoSchedule`:
   * `[{ key: 'node-role.kubernetes.io/<pool>', operator: TolerationOperator.EXISTS, effect: TolerationEffect.NO_SCHEDULE }]`.
   *
   * @default - none
   */
  readonly healthCheckTolerations?: HealthCheckToleration[];
}

/**
 * Loads an out-of-tree kernel module at boot, before the network starts, on the nodes of a
 * MachineConfigPool.
 *
 * It is one MachineConfig whose spec and labels are what `produceMachineConfig` returns for
 * the same values, with `peerMachineConfigNames` filled in at synthesis, plus GitOps
 * annotations. Optionally, a health check reports whether every node of the pool runs the
 * module.
 *
 * The MachineConfig's role label is set from the pool and cannot be changed in `metadata`.
 * With `syncWaves`, the MachineConfig gets `SyncWave.MACHINE_CONFIG` (-5), after its pool, the
 * health check `SyncWave.HEALTH_CHECK` (0), and the objects of `handOverToKmm` `SyncWave.KMM`
 * (5), once every node runs the module. `pruneProtection` covers the MachineConfig and the KMM
 * `Module` of `handOverToKmm`: deleting a Day 1 MachineConfig reboots every node of the pool
 * and removes the driver; deleting the Module makes KMM unload the module at run time.
 *
 * The peers are the other Day 1 MachineConfigs of the app (Day 1 MachineConfigs you add as
 * plain objects included) whose units run on every node this one reaches: those of its own role
 * and of its pool's base role. A `worker` MachineConfig is not ordered against the custom pools'
 * ones: they order themselves against it, so that adding a module to a custom pool never
 * changes, and so never reboots, the worker pool.
 */
export class Day1KernelModule extends Construct {
  /** `metadata.name` of the MachineConfig. */
  public readonly machineConfigName: string;

  /** The pool whose nodes load the module. */
  public readonly pool: IMachineConfigPool;

  /** Name of the pool, the role of the MachineConfig. */
  public readonly poolName: string;

  /** Name of the out-of-tree module. */
  public readonly kernelModuleName: string;

  /** Container image repository of the module, without tag. */
  public readonly kernelModuleImage: string;

  /** In-tree modules unloaded before the module is loaded (empty when none). */
  public readonly inTreeModulesToRemove: string[];

  /**
   * Directory of firmware files inside the module image.
   *
   * @default - no firmware
   */
  public readonly firmwareFilesPath?: string;

  /** KMM worker image that loads the module at boot (the default one when none was given). */
  public readonly workerImage: string;

  /** Module parameters passed to modprobe (empty when none). */
  public readonly moduleParameters: string[];

  /** The MachineConfig object. */
  public readonly apiObject: ApiObject;

  /**
   * The health check, when `healthCheck` is true.
   *
   * @default - no health check
   */
  public readonly healthCheck?: KernelModuleHealthCheck;

  private readonly options: ResolvedMachineConfigOptions;
  private readonly gitOps: GitOpsPolicy;
  private handedOver?: KmmHandOver;

  /**
   * Invalid props do not throw here: `app.synth()` fails with the problems of every construct of
   * the app, one line each (`[<path>] Invalid <field> <value>: <rule>`).
   */
  constructor(scope: Construct, id: string, props: Day1KernelModuleProps) {
    super(scope, id);
    const problems = collectorFor(this.node.path, props, DAY1_KERNEL_MODULE_FIELDS);
    const settings = checkModuleSettings(problems, props);
    const pool = problems.check(() => checkPool('pool', props.pool, this));
    const machineConfigName = machineConfigNameOf(problems, props.machineConfigName, pool?.name, settings.kernelModuleName);
    const gitOps = problems.check(() => gitOpsPolicy('', GitOpsStage.MACHINE_CONFIG, props, true));
    const metadata = problems.check(() => resolveMetadata('', props.metadata, {
      name: machineConfigName,
      nameField: 'machineConfigName',
      requiredLabels: { [ROLE_LABEL]: pool?.name },
      gitOps,
    }));
    const healthCheck = healthCheckPropsOf(problems, props, { pool, machineConfigName, kernelModuleName: settings.kernelModuleName, gitOps });
    // Invalid props fail the app's synthesis with every construct's problems (see deferred.ts).
    const placeholder = deferProblems(this, problems) ? placeholderName(this) : undefined;

    this.pool = pool ?? KmmMachineConfigPool.fromPoolName(this, 'InvalidPool', placeholder!);
    this.poolName = this.pool.name;
    this.gitOps = gitOps ?? gitOpsPolicy('', GitOpsStage.MACHINE_CONFIG, {}, true);
    // The same checked options and the same generator as produceMachineConfig.
    this.options = machineConfigWithDefaults(placeholder === undefined
      ? { ...settings as KernelModuleSettings, machineConfigName: machineConfigName!, machineConfigPoolRef: this.poolName }
      : { kernelModuleName: placeholder, kernelModuleImage: `invalid/${placeholder}`, machineConfigName: placeholder, machineConfigPoolRef: this.poolName });
    this.machineConfigName = this.options.machineConfigName;
    this.kernelModuleName = this.options.kernelModuleName;
    this.kernelModuleImage = this.options.kernelModuleImage;
    this.inTreeModulesToRemove = Object.freeze([...this.options.inTreeModulesToRemove]) as string[];
    this.firmwareFilesPath = this.options.firmwareFilesPath;
    this.workerImage = this.options.workerImage;
    this.moduleParameters = Object.freeze([...this.options.moduleParameters]) as string[];
    if (placeholder !== undefined) {
      this.apiObject = new MachineConfig(this, 'Resource', { metadata: { name: placeholder } });
      return;
    }
    this.apiObject = this.machineConfigObject(metadata!);
    if (healthCheck !== undefined) {
      this.healthCheck = new KernelModuleHealthCheck(this, 'HealthCheck', healthCheck);
      orderAfter(this.healthCheck, this.apiObject);
    }
    claimObjectName(this, 'MachineConfig', undefined, this.machineConfigName,
      'Set machineConfigName so that each Day1KernelModule has its own MachineConfig.');
  }

  /**
   * The objects of the last `handOverToKmm` call.
   *
   * @default - not handed over
   */
  public get kmmHandOver(): KmmHandOver | undefined {
    return this.handedOver;
  }

  /**
   * Hands the module over to the KMM operator for Day 2 management: creates, as children of
   * this construct (or of `options.scope`) and from this module's own values, a KMM `Module`
   * that targets the same kernel module, image and nodes, and a `BootModuleConfig` that names
   * this MachineConfig. Both come after the MachineConfig and its health check (sync wave
   * `SyncWave.KMM`), and the Module inherits this construct's `pruneProtection`.
   *
   * Trade-offs (from KMM's "kmod upgrade support"):
   * - With the `Module` alone, KMM finds the module already loaded and manages it from then
   *   on, but a node that reboots unexpectedly boots with the module of this MachineConfig,
   *   not the version a later `Module` upgrade installed.
   * - The `BootModuleConfig` closes that gap: the operator rewrites this MachineConfig with
   *   the values it manages, without rebooting the nodes (it installs node disruption
   *   policies for the boot units and scripts). This only works if the names match exactly:
   *   the BootModuleConfig's `machineConfigName` and `machineConfigPoolName` are this
   *   MachineConfig's name and role, and the unit names derive from that name, so rename
   *   nothing afterwards.
   * - What the operator really does: it reads only the BootModuleConfig's spec, never the
   *   `Module`; it replaces all of `spec.config` of the MachineConfig with its own two units
   *   and its own three scripts, at the same paths as ours; an empty `workerImage` there
   *   would become the operator's own worker image, so the BootModuleConfig always carries
   *   this module's Day 1 worker image (the default one when none was given), or every node
   *   would pull another image and reboot once more. Deleting the BootModuleConfig removes
   *   its node disruption policies and leaves the MachineConfig as the operator last wrote it.
   * - From then on the operator owns `spec.config` of the MachineConfig; a GitOps tool must
   *   ignore differences there instead of reverting the operator's changes. For Flux, the
   *   MachineConfig is annotated `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent`, which skips
   *   every later Git edit of that MachineConfig and leaves it out of Flux's `wait`; an Argo
   *   CD Application needs `ignoreDifferences` on `/spec/config` of this MachineConfig, with
   *   the `RespectIgnoreDifferences=true` sync option.
   * - The `Module` lists no in-tree modules to remove: KMM's worker runs `modprobe -rv` on
   *   every listed name whose `.ko` exists under the node's `/lib/modules` (loaded or not),
   *   so it would unload, on every node at once, the module Day 1 loaded under the same name.
   *   The BootModuleConfig keeps `inTreeModulesToRemove`: at boot they are still to be removed.
   * - The BootModuleConfig has no field for module parameters: after the operator rewrote
   *   the MachineConfig, a reboot loads the module without them (a synthesis warning says so).
   * - The `Module` has no worker image field (the operator runs its own).
   * - The operator's units and scripts share the pool with the other Day 1 MachineConfigs:
   *   whose scripts a node runs depends on the order of the names; each side's scripts accept
   *   the other side's units.
   *
   * The Module selects the nodes of the pool (its `nodeSelector`), so that KMM takes over on
   * exactly the nodes that load the module at boot.
   *
   * Invalid options do not throw here: `app.synth()` fails with them, as `handOverToKmm.<option>`
   * of this construct.
   *
   * @throws Error when called a second time
   */
  public handOverToKmm(options: HandOverToKmmOptions = {}): KmmHandOver {
    if (this.handedOver) {
      throw new Error(`Day1KernelModule "${this.node.path}": handOverToKmm() was already called (it created ${this.handedOver.bootModuleConfig.node.path} `
        + `and ${this.handedOver.module.node.path}); a module is handed over to KMM once`);
    }
    this.handedOver = handOverToKmm({
      owner: this,
      options: this.options,
      pool: this.pool,
      gitOps: this.gitOps,
      machineConfig: this.apiObject,
      healthCheck: this.healthCheck,
    }, options);
    if (this.options.moduleParameters.length > 0) {
      addWarning(this, `module parameters ${JSON.stringify(this.options.moduleParameters)} are not part of the BootModuleConfig `
        + `(its CRD has no field for them): once the KMM operator has rewritten MachineConfig "${this.machineConfigName}", `
        + `a node that reboots loads ${this.kernelModuleName} WITHOUT these parameters, and the KMM Module does not reload a module `
        + 'that is already loaded');
    }
    // An Argo CD Application in this app that would revert the operator's rewrite fails the synthesis.
    registerHandOver(this, this.machineConfigName, true);
    return this.handedOver;
  }

  /**
   * The MachineConfig, whose spec is known only once the app is complete: the replace unit is
   * ordered against every other Day 1 MachineConfig whose units run on the same nodes
   * (peerMachineConfigNames).
   */
  private machineConfigObject(metadata: ApiObjectMetadata): ApiObject {
    const options = this.options;
    let synthesized: (() => MachineConfigManifest) | undefined;
    const apiObject = new MachineConfig(this, 'Resource', {
      metadata,
      spec: { config: Lazy.any({ produce: () => synthesized!().spec.config }) },
    });
    synthesized = registerDay1MachineConfig({
      owner: this,
      apiObject,
      name: this.machineConfigName,
      role: this.poolName,
      kernelModuleName: this.kernelModuleName,
      moduleParameters: this.moduleParameters,
      render: (peers) => machineConfigFromResolved({ ...options, peerMachineConfigNames: peers }),
    });
    // Explicit order for cdk8s: within a chart the pool comes first in the file. (A pool of the
    // cluster, by name, has no object.)
    for (const poolObject of this.pool.node.findAll().filter(ApiObject.isApiObject)) {
      orderAfter(apiObject, poolObject);
    }
    return apiObject;
  }
}

/** The fields of Day1KernelModuleProps in the order of the interface, inherited ones first. */
const DAY1_KERNEL_MODULE_FIELDS: readonly string[] = [
  ...MODULE_SETTINGS_FIELDS, 'pool', 'machineConfigName', ...PROTECTED_OBJECT_FIELDS,
  'healthCheck', 'healthCheckImage', 'healthCheckNamespace', 'healthCheckTolerations',
];

/**
 * The pool prop: a pool construct of this app (a KmmMachineConfigPool or one of
 * KmmMachineConfigPool.fromPoolName) whose name and node selector are valid.
 */
function checkPool(field: string, value: unknown, scope: Construct): IMachineConfigPool {
  if (value === undefined || value === null) {
    throw new Day1ValidationError(field, value, 'is required: give a KmmMachineConfigPool, or KmmMachineConfigPool.fromPoolName(scope, id, name) '
      + 'for a pool the cluster already has (such as "worker")');
  }
  const pool = value as IMachineConfigPool;
  if (!Construct.isConstruct(value) || typeof pool.name !== 'string' || pool.nodeSelector === null || typeof pool.nodeSelector !== 'object') {
    throw new Day1ValidationError(field, value, 'must be a KmmMachineConfigPool, or KmmMachineConfigPool.fromPoolName(scope, id, name)');
  }
  if (pool.node.root !== scope.node.root) {
    throw new Day1ValidationError(field, pool.node.path, 'must be a construct of the same app as this Day1KernelModule');
  }
  const problems = new ProblemCollector();
  // A pool's name is its role, matched against pool names, which are lowercase object names.
  problems.check(() => checkDns1123Label(`${field}.name`, pool.name));
  problems.check(() => checkSelector(`${field}.nodeSelector`, pool.nodeSelector));
  problems.throwIfAny();
  return pool;
}

/**
 * The MachineConfig name: the given one, or the default derived from the pool and the module
 * name (only when both are valid: otherwise their own problems are the root cause).
 */
function machineConfigNameOf(
  problems: ProblemCollector, given: unknown, poolName: string | undefined, kernelModuleName: string | undefined,
): string | undefined {
  if (given !== undefined && given !== null) {
    return problems.check(() => optional('machineConfigName', given, 'the default name, 99-<pool name>-kmm-day1-<kernelModuleName>', checkMachineConfigName));
  }
  if (poolName === undefined || kernelModuleName === undefined) {
    return undefined;
  }
  return problems.checkDerived(`the default name, derived from pool ${JSON.stringify(poolName)} and kernelModuleName `
    + `${JSON.stringify(kernelModuleName)}; set machineConfigName explicitly`,
  () => checkMachineConfigName('machineConfigName', defaultMachineConfigName(poolName, kernelModuleName)));
}

/** Stable across synths: derived from values only, never from construct paths or order. */
function defaultMachineConfigName(poolName: string, kernelModuleName: string): string {
  return `99-${poolName}-kmm-day1-${dnsNameFromModuleName(kernelModuleName)}`;
}

/** The checked values the health check is derived from; each `undefined` when invalid. */
interface HealthCheckSource {
  readonly pool?: IMachineConfigPool;
  readonly machineConfigName?: string;
  readonly kernelModuleName?: string;
  readonly gitOps?: GitOpsPolicy;
}

/**
 * The health check's props, checked into `problems` before any object is created (under the
 * names of the Day1KernelModule's props); `undefined` without `healthCheck` (or when a problem
 * was found).
 */
function healthCheckPropsOf(
  problems: ProblemCollector, props: Day1KernelModuleProps, source: HealthCheckSource,
): KernelModuleHealthCheckProps | undefined {
  const enabled = problems.check(() => optionalBoolean('healthCheck', props.healthCheck) ?? false);
  if (enabled === undefined) {
    // healthCheck itself is invalid: whether the others have an effect is unknown.
    return undefined;
  }
  if (!enabled) {
    const settings: Array<[string, unknown]> = [
      ['healthCheckImage', props.healthCheckImage],
      ['healthCheckNamespace', props.healthCheckNamespace],
      ['healthCheckTolerations', props.healthCheckTolerations],
    ];
    for (const [field, value] of settings.filter(([, v]) => v !== undefined)) {
      problems.add(field, value, 'has no effect without healthCheck: true; set healthCheck: true or remove it');
    }
    return undefined;
  }
  const before = problems.count;
  const image = problems.check(() => optional('healthCheckImage', props.healthCheckImage, `the default image (${DEFAULT_HEALTH_CHECK_IMAGE})`, checkImageReference));
  const namespace = problems.check(() =>
    optional('healthCheckNamespace', props.healthCheckNamespace, `the default namespace (${DEFAULT_HEALTH_CHECK_NAMESPACE})`, checkDns1123Label));
  problems.check(() => checkTolerations('healthCheckTolerations', props.healthCheckTolerations));
  const { pool, machineConfigName, kernelModuleName, gitOps } = source;
  if (problems.count > before || pool === undefined || kernelModuleName === undefined || machineConfigName === undefined || gitOps === undefined) {
    return undefined;
  }
  return {
    kernelModuleName,
    nodeSelector: { ...pool.nodeSelector },
    name: healthCheckNameFor(machineConfigName),
    image,
    namespace,
    tolerations: props.healthCheckTolerations,
    syncWaves: gitOps.syncWaves,
  };
}
