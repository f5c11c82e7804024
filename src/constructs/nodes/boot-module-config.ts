import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import * as kmm from '../../imports/bootmoduleconfig-kmm.sigs.x-k8s.io';
import { moduleWithDefaults } from '../../machine-config';
import { checkDns1123Label, checkMachineConfigName, checkModuleSettings, collectorFor, KernelModuleSettings } from '../../validation';
import { claimObjectName, claimUnique, registerHandOver } from '../app/claims';
import { deferProblems, placeholderName } from '../app/deferred';
import { gitOpsPolicy, GitOpsStage } from '../gitops-policy';
import { resolveMetadata } from '../metadata';
import { GitOpsObjectProps } from '../props';

/** Where the KMM operator expects BootModuleConfigs: beside the MachineConfigs they rewrite. */
export const BOOT_MODULE_CONFIG_NAMESPACE = 'openshift-machine-config-operator';

/** Properties of a `BootModuleConfig`: the fields of its spec, and its metadata. */
export interface BootModuleConfigProps extends GitOpsObjectProps {
  /**
   * Name of the Day 1 MachineConfig that the KMM operator keeps up to date.
   *
   * It must be the exact name of the MachineConfig that loads the module at boot.
   */
  readonly machineConfigName: string;

  /**
   * The MachineConfigPool of that MachineConfig (its `machineconfiguration.openshift.io/role`).
   */
  readonly machineConfigPoolName: string;

  /**
   * Container image repository holding the module, **without** tag or digest: the node
   * appends its kernel release as the tag.
   */
  readonly kernelModuleImage: string;

  /**
   * Name of the out-of-tree module to load (the `.ko` file name without `.ko`).
   */
  readonly kernelModuleName: string;

  /**
   * In-tree modules to unload before the out-of-tree module is loaded, at boot, by the units
   * the operator writes into the MachineConfig.
   *
   * @default - no in-tree module is unloaded
   */
  readonly inTreeModulesToRemove?: string[];

  /**
   * Directory of firmware files inside the module image.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default - no firmware
   */
  readonly firmwareFilesPath?: string;

  /**
   * KMM worker image that loads the module at boot. Always written: the operator turns an
   * empty one into its own worker image, and a MachineConfig that changes images makes every
   * node of the pool pull it and reboot once more. Give the image the Day 1 MachineConfig
   * uses.
   * An empty string is rejected: leave the property out for the default.
   *
   * @default DEFAULT_WORKER_IMAGE, the default of the Day 1 MachineConfigs (this library's and KMM's day1-utility)
   */
  readonly workerImage?: string;
}

/**
 * A KMM `BootModuleConfig` (`kmm.sigs.x-k8s.io/v1beta1`): tells the KMM operator which Day 1
 * MachineConfig loads a module it now manages, so that the operator rewrites that
 * MachineConfig (without rebooting the nodes) when the module changes. A node that reboots
 * unexpectedly then loads the module version KMM manages, not the one of the original
 * MachineConfig.
 *
 * The operator reads only this spec (never the KMM `Module`), replaces all of the
 * MachineConfig's `spec.config` with its own units and scripts, and sets no owner reference:
 * deleting the BootModuleConfig removes its node disruption policies and leaves the
 * MachineConfig as the operator last wrote it.
 *
 * `metadata` may set its name and namespace (default: named after machineConfigName, in
 * namespace `openshift-machine-config-operator`). It carries the Argo CD sync wave
 * `SyncWave.KMM` (5), after the MachineConfig it names and after the health checks. It is not
 * protected from pruning: deleting it only stops the operator from rewriting the MachineConfig.
 */
export class BootModuleConfig extends Construct {
  /** `metadata.name` of the BootModuleConfig. */
  public readonly name: string;

  /** `metadata.namespace` of the BootModuleConfig. */
  public readonly namespace: string;

  /** Name of the Day 1 MachineConfig the operator keeps up to date. */
  public readonly machineConfigName: string;

  /** The MachineConfigPool of that MachineConfig. */
  public readonly machineConfigPoolName: string;

  /** Name of the out-of-tree module. */
  public readonly kernelModuleName: string;

  /** Container image repository of the module, without tag. */
  public readonly kernelModuleImage: string;

  /** KMM worker image the operator writes into the MachineConfig (the Day 1 default when none was given). */
  public readonly workerImage: string;

  /** The BootModuleConfig object. */
  public readonly apiObject: ApiObject;

  /**
   * Invalid props do not throw here: `app.synth()` fails with the problems of every construct of
   * the app, one line each (`[<path>] Invalid <field> <value>: <rule>`).
   */
  constructor(scope: Construct, id: string, props: BootModuleConfigProps) {
    super(scope, id);
    const problems = collectorFor(this.node.path, props, BOOT_MODULE_CONFIG_FIELDS);
    const machineConfigName = problems.check(() => checkMachineConfigName('machineConfigName', props.machineConfigName));
    const machineConfigPoolName = problems.check(() => checkDns1123Label('machineConfigPoolName', props.machineConfigPoolName));
    const settings = checkModuleSettings(problems, {
      kernelModuleImage: props.kernelModuleImage,
      kernelModuleName: props.kernelModuleName,
      inTreeModulesToRemove: props.inTreeModulesToRemove,
      firmwareFilesPath: props.firmwareFilesPath,
      workerImage: props.workerImage,
    });
    const gitOps = problems.check(() => gitOpsPolicy('', GitOpsStage.KMM, { syncWaves: props.syncWaves }, false));
    const metadata = problems.check(() => resolveMetadata('', props.metadata, {
      name: props.metadata?.name ?? machineConfigName,
      nameField: 'metadata.name',
      defaultNamespace: BOOT_MODULE_CONFIG_NAMESPACE,
      gitOps,
    }));
    // Invalid props fail the app's synthesis with every construct's problems (see deferred.ts).
    const placeholder = deferProblems(this, problems) ? placeholderName(this) : undefined;
    // The Day 1 default worker image, never the operator's own (see workerImage).
    const module = moduleWithDefaults(placeholder === undefined
      ? settings as KernelModuleSettings
      : { kernelModuleName: placeholder, kernelModuleImage: `invalid/${placeholder}` });
    this.machineConfigName = placeholder ?? machineConfigName!;
    this.machineConfigPoolName = placeholder ?? machineConfigPoolName!;
    this.kernelModuleName = module.kernelModuleName;
    this.kernelModuleImage = module.kernelModuleImage;
    this.workerImage = module.workerImage;
    this.name = placeholder ?? metadata!.name!;
    this.namespace = placeholder === undefined ? metadata!.namespace! : BOOT_MODULE_CONFIG_NAMESPACE;
    if (placeholder !== undefined) {
      this.apiObject = new ApiObject(this, 'Resource', { apiVersion: kmm.BootModuleConfig.GVK.apiVersion, kind: kmm.BootModuleConfig.GVK.kind, metadata: { name: placeholder } });
      return;
    }
    this.apiObject = new kmm.BootModuleConfig(this, 'Resource', {
      metadata: metadata!,
      spec: {
        machineConfigName: this.machineConfigName,
        machineConfigPoolName: this.machineConfigPoolName,
        kernelModuleImage: this.kernelModuleImage,
        kernelModuleName: this.kernelModuleName,
        ...(module.inTreeModulesToRemove.length === 0 ? {} : { inTreeModulesToRemove: [...module.inTreeModulesToRemove] }),
        ...(module.firmwareFilesPath === undefined ? {} : { firmwareFilesPath: module.firmwareFilesPath }),
        workerImage: this.workerImage,
      },
    });
    claimObjectName(this, 'BootModuleConfig', this.namespace, this.name, 'Set metadata.name (or bootModuleConfigName of handOverToKmm).');
    claimUnique(this, `bmc-target\0${this.machineConfigName}`, (owners, count) =>
      `MachineConfig "${this.machineConfigName}" is the target of ${count} BootModuleConfigs, by ${owners}: `
      + 'the KMM operator would rewrite it from each in turn. Keep one BootModuleConfig per Day 1 MachineConfig.');
    // The app's checks see the pool as it will be once the operator has rewritten the MachineConfig.
    registerHandOver(this, this.machineConfigName, false);
  }
}

/** The fields of BootModuleConfigProps in the order of the interface. */
const BOOT_MODULE_CONFIG_FIELDS: readonly string[] = [
  'machineConfigName', 'machineConfigPoolName', 'kernelModuleImage', 'kernelModuleName', 'inTreeModulesToRemove',
  'firmwareFilesPath', 'workerImage', 'metadata', 'syncWaves',
];
