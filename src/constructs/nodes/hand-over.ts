import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { BootModuleConfig } from './boot-module-config';
import { deferProblems, hasInvalidProps, placeholderName } from '../app/deferred';
import { FLUX_APPLY_IF_NOT_PRESENT, GitOpsPolicy } from '../gitops-policy';
import { KernelModuleHealthCheck } from './health-check';
import { IMachineConfigPool } from './kmm-machine-config-pool';
import { checkModuleName, KMM_NAMESPACE, KmmModule } from './kmm-module';
import { ResolvedMachineConfigOptions } from '../../machine-config';
import { checkDns1123Label, checkDns1123Subdomain, checkSecretName, collectorFor, optional, optionalBoolean } from '../../validation';
import { orderAfter } from '../ordering';

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
}

/** The objects `handOverToKmm` created. */
export interface KmmHandOver {
  /** The BootModuleConfig that lets the KMM operator rewrite the Day 1 MachineConfig. */
  readonly bootModuleConfig: BootModuleConfig;

  /** The KMM Module that manages the kernel module from now on. */
  readonly module: KmmModule;
}

/** What a hand-over is made from: the Day1KernelModule's checked values and objects. Not part of the public API. */
export interface HandOverSource {
  /** The Day1KernelModule. */
  readonly owner: Construct;
  readonly options: ResolvedMachineConfigOptions;
  readonly pool: IMachineConfigPool;
  readonly gitOps: GitOpsPolicy;
  readonly machineConfig: ApiObject;
  readonly healthCheck?: KernelModuleHealthCheck;
}

/** HandOverToKmmOptions, checked, with the defaults applied. */
interface CheckedHandOver {
  readonly namespace?: string;
  readonly name: string;
  readonly imageRepoSecret?: string;
  readonly bootModuleConfigName?: string;
  readonly scope?: Construct;
  readonly fluxApplyIfNotPresent: boolean;
}

/** The fields of HandOverToKmmOptions in the order of the interface. */
const HAND_OVER_FIELDS: readonly string[] = ['namespace', 'name', 'imageRepoSecret', 'bootModuleConfigName', 'scope', 'fluxApplyIfNotPresent'];

/**
 * Checks every option before the first child is created. Problems are deferred to the app's
 * validation, on the Day1KernelModule (fields `handOverToKmm.<option>`).
 */
function checkHandOver(source: HandOverSource, options: HandOverToKmmOptions): CheckedHandOver {
  const problems = collectorFor(source.owner.node.path, options, HAND_OVER_FIELDS, 'handOverToKmm.', 'options');
  const namespace = problems.check(() => optional('namespace', options.namespace, `the default namespace (${KMM_NAMESPACE})`, checkDns1123Label));
  const validNamespace = options.namespace === undefined ? KMM_NAMESPACE : namespace;
  const name = checkModuleName(problems, 'name', options.name, source.options.kernelModuleName, validNamespace);
  const imageRepoSecret = problems.check(() => optional('imageRepoSecret', options.imageRepoSecret, "the cluster's pull secret", checkSecretName));
  const bootModuleConfigName = problems.check(() => optional('bootModuleConfigName', options.bootModuleConfigName,
    `the default name (the MachineConfig name, ${source.options.machineConfigName})`, checkDns1123Subdomain));
  const scope = options.scope;
  if (scope !== undefined && !(Construct.isConstruct(scope) && scope.node.root === source.owner.node.root)) {
    problems.add('scope', Construct.isConstruct(scope) ? scope.node.path : scope,
      'must be a construct of the same app as this Day1KernelModule (for example a Chart of that app)');
  }
  const fluxApplyIfNotPresent = problems.check(() => optionalBoolean('fluxApplyIfNotPresent', options.fluxApplyIfNotPresent));
  // Invalid options, or an invalid module: the app's synthesis fails on them; placeholders until then.
  if (deferProblems(source.owner, problems) || hasInvalidProps(source.owner)) {
    return { name: placeholderName(source.owner), scope: problems.ok ? scope : undefined, fluxApplyIfNotPresent: false };
  }
  return { namespace, name: name!, imageRepoSecret, bootModuleConfigName, scope, fluxApplyIfNotPresent: fluxApplyIfNotPresent ?? true };
}

/**
 * Creates the BootModuleConfig and the KMM Module of a hand-over (see
 * `Day1KernelModule.handOverToKmm`), after the MachineConfig and its health check.
 */
export function handOverToKmm(source: HandOverSource, given: HandOverToKmmOptions): KmmHandOver {
  const options = checkHandOver(source, given);
  const module = source.options;
  // Outside the Day1KernelModule, the MachineConfig name (unique in the app) keeps two
  // hand-overs into one scope apart.
  const parent = options.scope === undefined ? source.owner : new Construct(options.scope, module.machineConfigName);
  const bootModuleConfig = new BootModuleConfig(parent, 'BootModuleConfig', {
    machineConfigName: module.machineConfigName,
    machineConfigPoolName: source.pool.name,
    kernelModuleImage: module.kernelModuleImage,
    kernelModuleName: module.kernelModuleName,
    inTreeModulesToRemove: [...module.inTreeModulesToRemove],
    firmwareFilesPath: module.firmwareFilesPath,
    // Never unset: the operator would put its own worker image in the MachineConfig, and
    // every node would pull it and reboot once more.
    workerImage: module.workerImage,
    metadata: options.bootModuleConfigName === undefined ? undefined : { name: options.bootModuleConfigName },
    syncWaves: source.gitOps.syncWaves,
  });
  const kmmModule = new KmmModule(parent, 'Module', {
    kernelModuleName: module.kernelModuleName,
    kernelModuleImage: module.kernelModuleImage,
    selector: { ...source.pool.nodeSelector },
    // No inTreeModulesToRemove: KMM's worker would unload, at run time and on every node at
    // once, the module Day 1 loaded under the same name (it checks the .ko file, not what is loaded).
    firmwareFilesPath: module.firmwareFilesPath,
    moduleParameters: [...module.moduleParameters],
    imageRepoSecret: options.imageRepoSecret,
    metadata: { name: options.name, ...(options.namespace === undefined ? {} : { namespace: options.namespace }) },
    syncWaves: source.gitOps.syncWaves,
    pruneProtection: source.gitOps.pruneProtection,
  });
  // The order the sync waves give Argo CD, also for cdk8s: after the MachineConfig and its
  // health check in a file, and in another chart, that chart's folder after theirs (for Flux).
  orderAfter(bootModuleConfig, source.machineConfig);
  orderAfter(kmmModule, source.machineConfig);
  if (source.healthCheck !== undefined) {
    orderAfter(bootModuleConfig, source.healthCheck);
    orderAfter(kmmModule, source.healthCheck);
  }
  if (options.fluxApplyIfNotPresent) {
    for (const [key, value] of Object.entries(FLUX_APPLY_IF_NOT_PRESENT)) {
      if (source.machineConfig.metadata.toJson().annotations?.[key] === undefined) {
        source.machineConfig.metadata.addAnnotation(key, value);
      }
    }
  }
  return { bootModuleConfig, module: kmmModule };
}
