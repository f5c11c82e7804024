import { ApiObject, ApiObjectMetadata, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { requireArgoCdIgnoreRule } from './argocd-ignore-differences';
import { BootModuleConfig } from './boot-module-config';
import { claimKernelModule, claimObjectName, registerDay1MachineConfig } from './conflicts';
import { FLUX_APPLY_IF_NOT_PRESENT, GitOpsPolicy, gitOpsPolicy, GitOpsStage } from './gitops';
import { DEFAULT_HEALTH_CHECK_IMAGE, DEFAULT_HEALTH_CHECK_NAMESPACE, healthCheckNameFor, KernelModuleHealthCheck, KernelModuleHealthCheckProps } from './health-check';
import { KmmMachineConfigPool } from './kmm-machine-config-pool';
import { KMM_NAMESPACE, KmmModule } from './kmm-module';
import { checkModuleNameLength, checkSelector, dnsNameFromModuleName, resolveMetadata } from './metadata';
import { orderAfter } from './ordering';
import { checkTolerations, HealthCheckToleration } from './toleration';
import { addWarning } from './warnings';
import { MachineConfig } from '../imports/machineconfig-machineconfiguration.openshift.io';
import { machineConfigFromValidated, MachineConfigManifest, ROLE_LABEL } from '../machine-config';
import {
  checkDns1123Label,
  checkImageReference,
  checkKernelModuleName,
  checkMachineConfigName,
  collectModuleSettings,
  ifValid,
  KernelModuleSettings,
  MODULE_SETTINGS_FIELDS,
  optional,
  optionalBoolean,
  optionalDns1123Subdomain,
  ProblemCollector,
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
   * An empty string is rejected: leave the property out for the default.
   *
   * @default - the name of `pool`
   */
  readonly machineConfigPoolName?: string;

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
   * Extra labels and annotations of the MachineConfig. The role label is set from the pool
   * and cannot be changed here; an `argocd.argoproj.io/sync-wave` annotation overrides the
   * default wave.
   *
   * @default - the name, the role label and the GitOps annotations only
   */
  readonly metadata?: ApiObjectMetadata;

  /**
   * Whether the objects carry Argo CD sync waves.
   *
   * The MachineConfig gets `SyncWave.MACHINE_CONFIG` (-5), after its pool, the health check
   * `SyncWave.HEALTH_CHECK` (0), and the objects of `handOverToKmm` `SyncWave.KMM` (5), once
   * every node runs the module.
   *
   * @default true
   */
  readonly syncWaves?: boolean;

  /**
   * Whether Argo CD and Flux are told never to delete the MachineConfig, nor the KMM
   * `Module` of `handOverToKmm`.
   *
   * The annotations are `argocd.argoproj.io/sync-options: Prune=false,Delete=false` and
   * `kustomize.toolkit.fluxcd.io/prune: disabled`. Deleting a Day 1 MachineConfig reboots
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
   * An empty string is rejected: leave the property out for the default.
   *
   * @default 'openshift-kmm'
   */
  readonly namespace?: string;

  /**
   * `metadata.name` of the KMM `Module`. Name plus namespace must not be longer than 41
   * characters (the KMM operator's Module webhook refuses longer ones).
   * An empty string is rejected: leave the property out for the default.
   *
   * @default - the kernel module name, lowercase, "_" as "-"
   */
  readonly name?: string;

  /**
   * Name of a Secret in the Module's namespace with the credentials to pull the module image.
   * The Day 1 boot units always use the node's pull secret.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default - the cluster's pull secret
   */
  readonly imageRepoSecret?: string;

  /**
   * `metadata.name` of the BootModuleConfig.
   * An empty string is rejected: leave the property out for the default.
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
 * MachineConfigPool.
 *
 * It is one MachineConfig whose spec and labels are what `produceMachineConfig` returns for
 * the same values, with `peerMachineConfigNames` filled in at synthesis, plus GitOps
 * annotations: a sync wave after the pool, and protection from pruning (see `syncWaves` and
 * `pruneProtection`). Optionally, a health check reports whether every node of the pool runs
 * the module.
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
   * @throws Error listing every invalid property, one line each (`<path>: Invalid <field>
   * <value>: <rule>`), including neither or both of `pool` and `machineConfigPoolName`
   */
  constructor(scope: Construct, id: string, props: Day1KernelModuleProps) {
    super(scope, id);
    this.prefix = `Day1KernelModule "${this.node.path}": `;
    const problems = new ProblemCollector(this.node.path, DAY1_KERNEL_MODULE_FIELDS);
    if (props === null || typeof props !== 'object') {
      problems.add('props', props, 'must be an object');
      problems.throwIfAny();
    }
    const settings = collectModuleSettings(problems, props);
    const poolName = this.checkPool(problems, props);
    const machineConfigName = checkMachineConfigNameProp(problems, props, poolName);
    const gitOps = problems.check(() => gitOpsPolicy('', GitOpsStage.MACHINE_CONFIG, props, true));
    const metadata = problems.check(() => resolveMetadata('', props.metadata, {
      name: machineConfigName,
      nameField: 'machineConfigName',
      requiredLabels: { [ROLE_LABEL]: poolName },
      gitOps,
    }));
    const healthCheck = this.healthCheckProps(problems, props, poolName, machineConfigName, gitOps);
    problems.throwIfAny();

    this.pool = props.pool;
    this.poolName = poolName!;
    this.machineConfigName = machineConfigName!;
    this.gitOps = gitOps!;
    // The same validated options and the same generator as produceMachineConfig.
    this.options = { ...settings!, machineConfigName: this.machineConfigName, machineConfigPoolRef: this.poolName, peerMachineConfigNames: [] };
    this.kernelModuleName = this.options.kernelModuleName;
    this.kernelModuleImage = this.options.kernelModuleImage;
    this.inTreeModulesToRemove = Object.freeze([...this.options.inTreeModulesToRemove]) as string[];
    this.firmwareFilesPath = this.options.firmwareFilesPath;
    this.workerImage = this.options.workerImage;
    this.moduleParameters = Object.freeze([...this.options.moduleParameters]) as string[];

    this.apiObject = new MachineConfig(this, 'Resource', {
      metadata: metadata!,
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
    if (this.handedOver) {
      throw new Error(`${this.prefix}handOverToKmm() was already called (it created ${this.handedOver.bootModuleConfig.node.path} `
        + `and ${this.handedOver.module.node.path}); a module is handed over to KMM once`);
    }
    const problems = new ProblemCollector(this.node.path, HAND_OVER_FIELDS, 'handOverToKmm.');
    if (options === null || typeof options !== 'object') {
      problems.add('options', options, 'must be an object');
      problems.throwIfAny();
    }
    // Everything is checked before the first child is created, so that a rejected call leaves
    // no half hand-over behind and can be corrected and repeated.
    const namespace = problems.check(() => optional('namespace', options.namespace, `the default namespace (${KMM_NAMESPACE})`, checkDns1123Label));
    const derivedName = `the default name, derived from kernelModuleName ${JSON.stringify(this.kernelModuleName)}; set name explicitly`;
    const name = options.name === undefined
      ? problems.checkDerived(derivedName, () => checkDns1123Label('name', dnsNameFromModuleName(this.kernelModuleName)))
      : problems.check(() => optional('name', options.name, 'the default name (the kernel module name, lowercase, "_" as "-")', checkDns1123Label));
    if (name !== undefined && (namespace !== undefined || options.namespace === undefined)) {
      const check = () => checkModuleNameLength('name', name, namespace ?? KMM_NAMESPACE);
      if (options.name === undefined) problems.checkDerived(derivedName, check);
      else problems.check(check);
    }
    const imageRepoSecret = problems.check(() => optionalDns1123Subdomain('imageRepoSecret', options.imageRepoSecret, "the cluster's pull secret"));
    const bootModuleConfigName = problems.check(() =>
      optionalDns1123Subdomain('bootModuleConfigName', options.bootModuleConfigName, `the default name (the MachineConfig name, ${this.machineConfigName})`));
    if (options.scope !== undefined && !(Construct.isConstruct(options.scope) && options.scope.node.root === this.node.root)) {
      problems.add('scope', Construct.isConstruct(options.scope) ? options.scope.node.path : options.scope,
        'must be a construct of the same app as this Day1KernelModule (for example a Chart of that app)');
    }
    const fluxApplyIfNotPresent = problems.check(() => optionalBoolean('fluxApplyIfNotPresent', options.fluxApplyIfNotPresent, true));
    let selector: { [key: string]: string } | undefined;
    if (this.pool !== undefined) {
      if (options.nodeSelector !== undefined) {
        problems.add('nodeSelector', options.nodeSelector,
          `must not be set: the module runs on pool ${JSON.stringify(this.poolName)}, whose node selector the KMM Module uses`);
      }
      selector = { ...this.pool.nodeSelector };
    } else if (options.nodeSelector === undefined) {
      problems.add('nodeSelector', undefined,
        `is required: the module was given machineConfigPoolName ${JSON.stringify(this.poolName)}, `
        + 'and the KMM Module must select the nodes of that pool (for example { "node-role.kubernetes.io/worker": "" })');
    } else {
      selector = problems.check(() => checkSelector('nodeSelector', options.nodeSelector));
    }
    problems.throwIfAny();
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
      selector: selector!,
      // None: KMM's worker would unload, at run time and on every node at once, the module
      // Day 1 loaded under the same name (it checks the .ko file, not what is loaded).
      firmwareFilesPath: this.options.firmwareFilesPath,
      moduleParameters: this.options.moduleParameters,
      imageRepoSecret,
      metadata: { name: name!, ...(namespace === undefined ? {} : { namespace }) },
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
    if (fluxApplyIfNotPresent) {
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

  /** The pool's name, from `pool` or `machineConfigPoolName`; `undefined` when they are invalid. */
  private checkPool(problems: ProblemCollector, props: Day1KernelModuleProps): string | undefined {
    if (props.machineConfigPoolName === '') {
      problems.add('machineConfigPoolName', '', props.pool === undefined
        ? 'must not be empty: give the name of an existing MachineConfigPool (such as "worker"), or leave it out and give a pool'
        : 'must not be empty: leave it out, the module runs on pool');
      return undefined;
    }
    if ((props.pool === undefined) === (props.machineConfigPoolName === undefined)) {
      problems.add('pool', props.pool === undefined ? undefined : props.pool.node.path,
        props.pool === undefined
          ? 'give exactly one of pool (a KmmMachineConfigPool) and machineConfigPoolName (the name of an existing pool such as "worker"); neither is set'
          : `give exactly one of pool and machineConfigPoolName; both are set (machineConfigPoolName ${JSON.stringify(props.machineConfigPoolName)})`);
      return undefined;
    }
    // A pool's role is matched against pool names, which are lowercase object names.
    return props.pool !== undefined ? props.pool.name : problems.check(() => checkDns1123Label('machineConfigPoolName', props.machineConfigPoolName));
  }

  /**
   * The health check's props, checked into `problems` before any object is created;
   * `undefined` without `healthCheck` (or when a problem was found).
   */
  private healthCheckProps(
    problems: ProblemCollector,
    props: Day1KernelModuleProps,
    poolName: string | undefined,
    machineConfigName: string | undefined,
    gitOps: GitOpsPolicy | undefined,
  ): KernelModuleHealthCheckProps | undefined {
    const enabled = problems.check(() => optionalBoolean('healthCheck', props.healthCheck, false));
    const settings: Array<[string, unknown]> = [
      ['healthCheckImage', props.healthCheckImage],
      ['healthCheckNamespace', props.healthCheckNamespace],
      ['healthCheckNodeSelector', props.healthCheckNodeSelector],
      ['healthCheckTolerations', props.healthCheckTolerations],
    ];
    if (enabled === undefined) {
      // healthCheck itself is invalid: whether the others have an effect is unknown.
      return undefined;
    }
    if (!enabled) {
      for (const [field, value] of settings.filter(([, v]) => v !== undefined)) {
        problems.add(field, value, 'has no effect without healthCheck: true; set healthCheck: true or remove it');
      }
      return undefined;
    }
    const before = problems.count;
    const image = problems.check(() => optional('healthCheckImage', props.healthCheckImage, `the default image (${DEFAULT_HEALTH_CHECK_IMAGE})`, checkImageReference));
    const namespace = problems.check(() =>
      optional('healthCheckNamespace', props.healthCheckNamespace, `the default namespace (${DEFAULT_HEALTH_CHECK_NAMESPACE})`, checkDns1123Label));
    let nodeSelector: { [key: string]: string } | undefined;
    if (props.pool !== undefined) {
      if (props.healthCheckNodeSelector !== undefined) {
        problems.add('healthCheckNodeSelector', props.healthCheckNodeSelector,
          `must not be set: the module runs on pool ${JSON.stringify(props.pool.name)}, whose node selector the health check uses`);
      }
      nodeSelector = { ...props.pool.nodeSelector };
    } else if (props.healthCheckNodeSelector !== undefined) {
      nodeSelector = problems.check(() => checkSelector('healthCheckNodeSelector', props.healthCheckNodeSelector));
    } else if (poolName !== undefined) {
      // By convention a pool selects its nodes by node-role.kubernetes.io/<pool> (worker and master
      // do). Nodes of custom pools keep their worker label and also receive the worker
      // MachineConfigs, so for `worker` too the derived selector matches the nodes that load it.
      nodeSelector = problems.checkDerived(`the default health check node selector, derived from machineConfigPoolName ${JSON.stringify(poolName)}; `
        + 'set healthCheckNodeSelector explicitly',
      () => checkSelector('healthCheckNodeSelector', { [`node-role.kubernetes.io/${poolName}`]: '' }));
    }
    problems.check(() => checkTolerations('healthCheckTolerations', props.healthCheckTolerations));
    const kernelModuleName = ifValid(() => checkKernelModuleName('kernelModuleName', props.kernelModuleName));
    if (problems.count > before || nodeSelector === undefined || kernelModuleName === undefined
      || machineConfigName === undefined || gitOps === undefined) {
      return undefined;
    }
    return {
      kernelModuleName,
      nodeSelector,
      name: healthCheckNameFor(machineConfigName),
      image,
      namespace,
      tolerations: props.healthCheckTolerations,
      syncWaves: gitOps.syncWaves,
    };
  }
}

/** The fields of Day1KernelModuleProps in the order of the interface, inherited ones first. */
const DAY1_KERNEL_MODULE_FIELDS: readonly string[] = [
  ...MODULE_SETTINGS_FIELDS, 'pool', 'machineConfigPoolName', 'machineConfigName', 'metadata', 'syncWaves', 'pruneProtection',
  'healthCheck', 'healthCheckImage', 'healthCheckNamespace', 'healthCheckNodeSelector', 'healthCheckTolerations',
];

/** The fields of HandOverToKmmOptions in the order of the interface. */
const HAND_OVER_FIELDS: readonly string[] = [
  'namespace', 'name', 'imageRepoSecret', 'bootModuleConfigName', 'scope', 'fluxApplyIfNotPresent', 'nodeSelector',
];

/**
 * The MachineConfig name: the given one, or the default derived from the pool and the module
 * name (only when both are valid: otherwise their own problems are the root cause).
 */
function checkMachineConfigNameProp(problems: ProblemCollector, props: Day1KernelModuleProps, poolName: string | undefined): string | undefined {
  if (props.machineConfigName !== undefined && props.machineConfigName !== null) {
    return problems.check(() => optional('machineConfigName', props.machineConfigName,
      'the default name, 99-<pool name>-kmm-day1-<kernelModuleName>', checkMachineConfigName));
  }
  const kernelModuleName = ifValid(() => checkKernelModuleName('kernelModuleName', props.kernelModuleName));
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
