import { ApiObject, ApiObjectMetadata, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { requireArgoCdIgnoreRule } from './argocd-ignore-differences';
import { BootModuleConfig } from './boot-module-config';
import { claimKernelModule, claimObjectName, registerDay1MachineConfig } from './conflicts';
import { FLUX_APPLY_IF_NOT_PRESENT, GitOpsPolicy, gitOpsPolicy, GitOpsStage } from './gitops';
import { healthCheckNameFor, KernelModuleHealthCheck, KernelModuleHealthCheckProps } from './health-check';
import { KmmMachineConfigPool } from './kmm-machine-config-pool';
import { KMM_NAMESPACE, KmmModule } from './kmm-module';
import { checkModuleNameLength, checkSelector, dnsNameFromModuleName, resolveMetadata } from './metadata';
import { orderAfter } from './ordering';
import { HealthCheckToleration } from './toleration';
import { addWarning } from './warnings';
import { MachineConfig } from '../imports/machineconfig-machineconfiguration.openshift.io';
import { machineConfigFromValidated, MachineConfigManifest, ROLE_LABEL } from '../machine-config';
import {
  checkDns1123Label,
  checkMachineConfigName,
  Day1ValidationError,
  KernelModuleSettings,
  optionalDns1123Subdomain,
  optionalString,
  validateMachineConfigOptions,
  validateModuleSettings,
  ValidatedMachineConfigOptions,
} from '../validation';

/** Properties of a `Day1KernelModule`: the module settings and where the module is loaded. */
export interface Day1KernelModuleProps extends KernelModuleSettings {
  /**
   * The custom pool whose nodes load the module. Give exactly one of `pool` and
   * `machineConfigPoolName`.
   *
   * @default - `machineConfigPoolName` is used
   */
  readonly pool?: KmmMachineConfigPool;

  /**
   * Name of an existing MachineConfigPool (for example `worker`) whose nodes load the module.
   * Give exactly one of `pool` and `machineConfigPoolName`.
   *
   * @default - the name of `pool`
   */
  readonly machineConfigPoolName?: string;

  /**
   * `metadata.name` of the MachineConfig; it also prefixes the names of the two boot units.
   * The `99-` prefix of the default makes the Machine Config Operator merge it after the
   * cluster's own MachineConfigs.
   *
   * @default `99-<pool name>-kmm-day1-<kernelModuleName, lowercase, "_" as "-">`
   */
  readonly machineConfigName?: string;

  /**
   * Extra labels and annotations of the MachineConfig. The role label is set from the pool
   * and cannot be changed here; an `argocd.argoproj.io/sync-wave` annotation overrides the
   * default wave.
   *
   * @default - the name, the role label and the GitOps annotations only
   */
  readonly metadata?: ApiObjectMetadata;

  /**
   * Whether the objects carry Argo CD sync waves: the MachineConfig `SyncWave.MACHINE_CONFIG`
   * (-5), after its pool; the health check `SyncWave.HEALTH_CHECK` (0); the objects of
   * `handOverToKmm` `SyncWave.KMM` (5), once every node runs the module.
   *
   * @default true
   */
  readonly syncWaves?: boolean;

  /**
   * Whether Argo CD and Flux are told never to delete the MachineConfig, nor the KMM
   * `Module` of `handOverToKmm` (`argocd.argoproj.io/sync-options: Prune=false,Delete=false`,
   * `kustomize.toolkit.fluxcd.io/prune: disabled`). Deleting a Day 1 MachineConfig reboots
   * every node of the pool and removes the driver; deleting the Module makes KMM unload the
   * module at run time. With protection, removing them from Git leaves them in place (Argo CD
   * shows them as out of sync) until someone deletes them on purpose.
   *
   * @default true
   */
  readonly pruneProtection?: boolean;

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
   *
   * @default 'registry.access.redhat.com/ubi9/ubi-minimal:latest'
   */
  readonly healthCheckImage?: string;

  /**
   * Namespace of the health check. The default one is created by the library; any other
   * must exist. Only with `healthCheck`.
   *
   * @default 'kmm-day1-health'
   */
  readonly healthCheckNamespace?: string;

  /**
   * Node labels of the nodes the health check runs on, for a module given a
   * `machineConfigPoolName` whose nodes do not carry `node-role.kubernetes.io/<pool name>`.
   * Not allowed with a `pool`, whose node selector is used. Only with `healthCheck`.
   *
   * @default - the pool's node selector, or `{ 'node-role.kubernetes.io/<machineConfigPoolName>': '' }`
   */
  readonly healthCheckNodeSelector?: { [key: string]: string };

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

/** Options of `Day1KernelModule.handOverToKmm`. */
export interface HandOverToKmmOptions {
  /**
   * Namespace of the KMM `Module` (where the KMM operator runs). The BootModuleConfig always
   * goes to `openshift-machine-config-operator`. Name plus namespace must not be longer than
   * 41 characters (the KMM operator's Module webhook refuses longer ones).
   *
   * @default 'openshift-kmm'
   */
  readonly namespace?: string;

  /**
   * `metadata.name` of the KMM `Module`. Name plus namespace must not be longer than 41
   * characters (the KMM operator's Module webhook refuses longer ones).
   *
   * @default - the kernel module name, lowercase, "_" as "-"
   */
  readonly name?: string;

  /**
   * Name of a Secret in the Module's namespace with the credentials to pull the module image.
   * The Day 1 boot units always use the node's pull secret.
   *
   * @default - the cluster's pull secret
   */
  readonly imageRepoSecret?: string;

  /**
   * `metadata.name` of the BootModuleConfig.
   *
   * @default - the MachineConfig name
   */
  readonly bootModuleConfigName?: string;

  /**
   * Where to create the BootModuleConfig and the Module, for example a chart of their own,
   * so that they are synthesized to their own directory (a Flux Kustomization can then
   * depend on the MachineConfigs' one). It must belong to the same app.
   *
   * @default - this Day1KernelModule
   */
  readonly scope?: Construct;

  /**
   * Whether the MachineConfig is annotated `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent`,
   * so that Flux creates it but never reverts the operator's rewrite of its `spec.config`.
   * The annotation covers the whole object: Flux skips every later Git edit of that
   * MachineConfig (labels, annotations, a new peer ordering) and leaves it out of its health
   * `wait`. Argo CD has no such annotation: its Application must ignore `/spec/config` of
   * this MachineConfig (see the example).
   *
   * @default true
   */
  readonly fluxApplyIfNotPresent?: boolean;

  /**
   * Node labels the KMM `Module` selects. Required when the module was given a
   * `machineConfigPoolName` rather than a `pool`, because only a pool construct knows its
   * node selector; not allowed with a `pool`, whose node selector is used, so that KMM takes
   * over on exactly the nodes that load the module at boot.
   *
   * @default - the pool's node selector
   */
  readonly nodeSelector?: { [key: string]: string };
}

/** The objects `handOverToKmm` created. */
export interface KmmHandOver {
  /** The BootModuleConfig that lets the KMM operator rewrite the Day 1 MachineConfig. */
  readonly bootModuleConfig: BootModuleConfig;

  /** The KMM Module that manages the kernel module from now on. */
  readonly module: KmmModule;
}

/**
 * Loads an out-of-tree kernel module at boot, before the network starts, on the nodes of a
 * MachineConfigPool: one MachineConfig whose spec and labels are what `produceMachineConfig`
 * returns for the same values, with `peerMachineConfigNames` filled in at synthesis, plus
 * GitOps annotations (a sync wave after the pool, and protection from pruning; see `syncWaves`
 * and `pruneProtection`). Optionally, a health check that reports whether every node of the
 * pool runs the module.
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

  /** The MachineConfigPool (role) whose nodes load the module. */
  public readonly poolName: string;

  /**
   * The pool construct, when the module was given one.
   *
   * @default - the module was given a machineConfigPoolName
   */
  public readonly pool?: KmmMachineConfigPool;

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

  private readonly options: ValidatedMachineConfigOptions;
  /** The MachineConfig as produceMachineConfig makes it, with the peers the app has at synthesis. */
  private readonly synthesized: () => MachineConfigManifest;
  private readonly gitOps: GitOpsPolicy;
  private readonly prefix: string;
  private handedOver?: KmmHandOver;

  /**
   * @throws Error naming the property when a property is invalid, or when neither or both
   * of `pool` and `machineConfigPoolName` are given
   */
  constructor(scope: Construct, id: string, props: Day1KernelModuleProps) {
    super(scope, id);
    const prefix = `Day1KernelModule "${this.node.path}": `;
    this.prefix = prefix;
    if (props === null || typeof props !== 'object') {
      throw new Day1ValidationError(`${prefix}props`, props, 'must be an object');
    }
    if ((props.pool === undefined) === (props.machineConfigPoolName === undefined)) {
      throw new Day1ValidationError(`${prefix}pool`, props.pool === undefined ? undefined : props.pool.node.path,
        props.pool === undefined
          ? 'give exactly one of pool (a KmmMachineConfigPool) and machineConfigPoolName (the name of an existing pool such as "worker"); neither is set'
          : `give exactly one of pool and machineConfigPoolName; both are set (machineConfigPoolName ${JSON.stringify(props.machineConfigPoolName)})`);
    }
    // The module name goes into the default MachineConfig name, so it is checked first.
    const settings = validateModuleSettings(props, prefix);
    this.pool = props.pool;
    this.poolName = props.pool !== undefined
      ? props.pool.name
      // A pool's role is matched against pool names, which are lowercase object names.
      : checkDns1123Label(`${prefix}machineConfigPoolName`, props.machineConfigPoolName);
    const explicitName = optionalString(`${prefix}machineConfigName`, props.machineConfigName);
    this.machineConfigName = explicitName === undefined
      ? checkMachineConfigName(
        `${prefix}machineConfigName (derived from pool ${JSON.stringify(this.poolName)} and kernelModuleName ${JSON.stringify(settings.kernelModuleName)}; set it explicitly)`,
        defaultMachineConfigName(this.poolName, settings.kernelModuleName))
      : checkMachineConfigName(`${prefix}machineConfigName`, explicitName);
    // One code path with produceMachineConfig: the same validation and the same generator.
    this.options = validateMachineConfigOptions({
      ...props,
      machineConfigName: this.machineConfigName,
      machineConfigPoolRef: this.poolName,
    }, prefix);

    this.kernelModuleName = this.options.kernelModuleName;
    this.kernelModuleImage = this.options.kernelModuleImage;
    this.inTreeModulesToRemove = Object.freeze([...this.options.inTreeModulesToRemove]) as string[];
    this.firmwareFilesPath = this.options.firmwareFilesPath;
    this.workerImage = this.options.workerImage;
    this.moduleParameters = Object.freeze([...this.options.moduleParameters]) as string[];

    this.gitOps = gitOpsPolicy(prefix, GitOpsStage.MACHINE_CONFIG, props, true);
    const healthCheck = this.healthCheckProps(props);

    this.apiObject = new MachineConfig(this, 'Resource', {
      metadata: resolveMetadata(prefix, props.metadata, {
        name: this.machineConfigName,
        nameField: 'machineConfigName',
        requiredLabels: { [ROLE_LABEL]: this.poolName },
        gitOps: this.gitOps,
      }),
      // Known only once the app is complete: the replace unit is ordered against every other
      // Day 1 MachineConfig whose units run on the same nodes (peerMachineConfigNames).
      spec: { config: Lazy.any({ produce: () => this.synthesized().spec.config }) },
    });
    const options = this.options;
    this.synthesized = registerDay1MachineConfig(this, this.apiObject, this.machineConfigName, this.poolName,
      (peers) => machineConfigFromValidated({ ...options, peerMachineConfigNames: peers }));
    // Explicit order for cdk8s: within a chart the pool comes first in the file, and a pool in
    // another chart makes that chart's file sort (and be named) before this one.
    if (props.pool !== undefined) {
      orderAfter(this.apiObject, props.pool.apiObject);
    }
    if (healthCheck !== undefined) {
      this.healthCheck = new KernelModuleHealthCheck(this, 'HealthCheck', healthCheck);
      orderAfter(this.healthCheck, this.apiObject);
    }

    claimObjectName(this, 'MachineConfig', undefined, this.machineConfigName,
      'Set machineConfigName so that each Day1KernelModule has its own MachineConfig.');
    claimKernelModule(this, this.kernelModuleName, this.poolName);
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
   * @throws Error when called a second time, when `nodeSelector` is missing for a module
   * given a `machineConfigPoolName` (or given for a module with a `pool`), when the Module
   * name plus namespace is longer than 41 characters, or when an option is invalid
   */
  public handOverToKmm(options: HandOverToKmmOptions = {}): KmmHandOver {
    const prefix = `${this.prefix}handOverToKmm options.`;
    if (this.handedOver) {
      throw new Error(`${this.prefix}handOverToKmm() was already called (it created ${this.handedOver.bootModuleConfig.node.path} `
        + `and ${this.handedOver.module.node.path}); a module is handed over to KMM once`);
    }
    if (options === null || typeof options !== 'object') {
      throw new Day1ValidationError(`${this.prefix}handOverToKmm options`, options, 'must be an object');
    }
    let selector: { [key: string]: string };
    if (this.pool !== undefined) {
      if (options.nodeSelector !== undefined) {
        throw new Day1ValidationError(`${prefix}nodeSelector`, options.nodeSelector,
          `must not be set: the module runs on pool ${JSON.stringify(this.poolName)}, whose node selector the KMM Module uses`);
      }
      selector = { ...this.pool.nodeSelector };
    } else {
      if (options.nodeSelector === undefined) {
        throw new Day1ValidationError(`${prefix}nodeSelector`, undefined,
          `is required: the module was given machineConfigPoolName ${JSON.stringify(this.poolName)}, `
          + 'and the KMM Module must select the nodes of that pool (for example { "node-role.kubernetes.io/worker": "" })');
      }
      selector = checkSelector(`${prefix}nodeSelector`, options.nodeSelector);
    }
    // Everything is checked before the first child is created, so that a rejected call leaves
    // no half hand-over behind and can be corrected and repeated.
    const namespace = options.namespace === undefined ? undefined : checkDns1123Label(`${prefix}namespace`, options.namespace);
    const name = options.name === undefined
      ? checkDns1123Label(`${prefix}name (derived from kernelModuleName ${JSON.stringify(this.kernelModuleName)}; set it explicitly)`,
        dnsNameFromModuleName(this.kernelModuleName))
      : checkDns1123Label(`${prefix}name`, options.name);
    checkModuleNameLength(options.name === undefined ? `${prefix}name (derived from kernelModuleName ${JSON.stringify(this.kernelModuleName)})` : `${prefix}name`,
      name, namespace ?? KMM_NAMESPACE);
    const imageRepoSecret = optionalDns1123Subdomain(`${prefix}imageRepoSecret`, options.imageRepoSecret);
    const bootModuleConfigName = optionalDns1123Subdomain(`${prefix}bootModuleConfigName`, options.bootModuleConfigName);
    if (options.fluxApplyIfNotPresent !== undefined && typeof options.fluxApplyIfNotPresent !== 'boolean') {
      throw new Day1ValidationError(`${prefix}fluxApplyIfNotPresent`, options.fluxApplyIfNotPresent, 'must be a boolean');
    }
    if (options.scope !== undefined && !(Construct.isConstruct(options.scope) && options.scope.node.root === this.node.root)) {
      throw new Day1ValidationError(`${prefix}scope`, Construct.isConstruct(options.scope) ? options.scope.node.path : options.scope,
        'must be a construct of the same app as this Day1KernelModule (for example a Chart of that app)');
    }
    // Outside this construct, the MachineConfig name (unique in the app) keeps two hand-overs
    // into one scope apart.
    const parent = options.scope === undefined ? this : new Construct(options.scope, this.machineConfigName);

    const bootModuleConfig = new BootModuleConfig(parent, 'BootModuleConfig', {
      machineConfigName: this.machineConfigName,
      machineConfigPoolName: this.poolName,
      kernelModuleImage: this.kernelModuleImage,
      kernelModuleName: this.kernelModuleName,
      inTreeModulesToRemove: this.options.inTreeModulesToRemove,
      firmwareFilesPath: this.options.firmwareFilesPath,
      // Never unset: the operator would put its own worker image in the MachineConfig, and
      // every node would pull it and reboot once more.
      workerImage: this.options.workerImage,
      metadata: bootModuleConfigName === undefined ? undefined : { name: bootModuleConfigName },
      syncWaves: this.gitOps.syncWaves,
    });
    const module = new KmmModule(parent, 'Module', {
      kernelModuleName: this.kernelModuleName,
      kernelModuleImage: this.kernelModuleImage,
      selector,
      // None: KMM's worker would unload, at run time and on every node at once, the module
      // Day 1 loaded under the same name (it checks the .ko file, not what is loaded).
      firmwareFilesPath: this.options.firmwareFilesPath,
      moduleParameters: this.options.moduleParameters,
      imageRepoSecret,
      metadata: { name, ...(namespace === undefined ? {} : { namespace }) },
      syncWaves: this.gitOps.syncWaves,
      pruneProtection: this.gitOps.pruneProtection,
    });
    // The order the sync waves give Argo CD, also for cdk8s: after the MachineConfig and its
    // health check in a file, and in another chart, that chart's folder after theirs (for Flux).
    orderAfter(bootModuleConfig, this.apiObject);
    orderAfter(module, this.apiObject);
    if (this.healthCheck !== undefined) {
      orderAfter(bootModuleConfig, this.healthCheck);
      orderAfter(module, this.healthCheck);
    }
    if (options.fluxApplyIfNotPresent ?? true) {
      for (const [key, value] of Object.entries(FLUX_APPLY_IF_NOT_PRESENT)) {
        if (this.apiObject.metadata.toJson().annotations?.[key] === undefined) {
          this.apiObject.metadata.addAnnotation(key, value);
        }
      }
    }
    if (this.options.moduleParameters.length > 0) {
      addWarning(this, `module parameters ${JSON.stringify(this.options.moduleParameters)} are not part of the BootModuleConfig `
        + `(its CRD has no field for them): once the KMM operator has rewritten MachineConfig "${this.machineConfigName}", `
        + `a node that reboots loads ${this.kernelModuleName} WITHOUT these parameters, and the KMM Module does not reload a module `
        + 'that is already loaded');
    }
    this.handedOver = { bootModuleConfig, module };
    // An Argo CD Application in this app that would revert the operator's rewrite fails the synthesis.
    requireArgoCdIgnoreRule(this, this.machineConfigName);
    return this.handedOver;
  }

  /** The health check's props, checked before any object is created; undefined without `healthCheck`. */
  private healthCheckProps(props: Day1KernelModuleProps): KernelModuleHealthCheckProps | undefined {
    const prefix = this.prefix;
    if (props.healthCheck !== undefined && typeof props.healthCheck !== 'boolean') {
      throw new Day1ValidationError(`${prefix}healthCheck`, props.healthCheck, 'must be a boolean');
    }
    const settings: Array<[string, unknown]> = [
      ['healthCheckImage', props.healthCheckImage],
      ['healthCheckNamespace', props.healthCheckNamespace],
      ['healthCheckNodeSelector', props.healthCheckNodeSelector],
      ['healthCheckTolerations', props.healthCheckTolerations],
    ];
    if (props.healthCheck !== true) {
      const given = settings.find(([, value]) => value !== undefined);
      if (given !== undefined) {
        throw new Day1ValidationError(`${prefix}${given[0]}`, given[1], 'has no effect without healthCheck: true; set healthCheck: true or remove it');
      }
      return undefined;
    }
    let nodeSelector: { [key: string]: string };
    if (this.pool !== undefined) {
      if (props.healthCheckNodeSelector !== undefined) {
        throw new Day1ValidationError(`${prefix}healthCheckNodeSelector`, props.healthCheckNodeSelector,
          `must not be set: the module runs on pool ${JSON.stringify(this.poolName)}, whose node selector the health check uses`);
      }
      nodeSelector = { ...this.pool.nodeSelector };
    } else {
      // By convention a pool selects its nodes by node-role.kubernetes.io/<pool> (worker and master
      // do). Nodes of custom pools keep their worker label and also receive the worker
      // MachineConfigs, so for `worker` too the derived selector matches the nodes that load it.
      nodeSelector = checkSelector(`${prefix}healthCheckNodeSelector`,
        props.healthCheckNodeSelector ?? { [`node-role.kubernetes.io/${this.poolName}`]: '' });
    }
    const healthCheck: KernelModuleHealthCheckProps = {
      kernelModuleName: this.options.kernelModuleName,
      nodeSelector,
      name: healthCheckNameFor(this.machineConfigName),
      image: props.healthCheckImage,
      namespace: props.healthCheckNamespace,
      tolerations: props.healthCheckTolerations,
      syncWaves: this.gitOps.syncWaves,
    };
    return healthCheck;
  }
}


/** Stable across synths: derived from values only, never from construct paths or order. */
function defaultMachineConfigName(poolName: string, kernelModuleName: string): string {
  return `99-${poolName}-kmm-day1-${dnsNameFromModuleName(kernelModuleName)}`;
}
