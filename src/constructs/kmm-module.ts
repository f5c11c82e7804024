import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { claimObjectName } from './conflicts';
import { FLUX_SUBSTITUTE_DISABLED, gitOpsPolicy, GitOpsStage } from './gitops';
import { checkSelector, dnsNameFromModuleName, resolveMetadata } from './metadata';
import * as kmm from '../imports/module-kmm.sigs.x-k8s.io';
import { checkDns1123Label, Day1ValidationError, optionalString, validateModuleSettings } from '../validation';

/** The namespace the KMM operator is installed in on OpenShift. */
export const KMM_NAMESPACE = 'openshift-kmm';

/** The KMM operator's Module webhook refuses a Module whose name plus namespace is longer. */
export const MAX_MODULE_NAME_AND_NAMESPACE_LENGTH = 41;

/**
 * @throws Day1ValidationError naming `field` (the Module name) when name plus namespace is too long for KMM's webhook
 */
export function checkModuleNameLength(field: string, name: string, namespace: string): void {
  const length = name.length + namespace.length;
  if (length > MAX_MODULE_NAME_AND_NAMESPACE_LENGTH) {
    throw new Day1ValidationError(field, name,
      `together with namespace ${JSON.stringify(namespace)} it has ${length} characters (${name.length} + ${namespace.length}); `
      + `the KMM operator's Module webhook refuses a name plus namespace longer than ${MAX_MODULE_NAME_AND_NAMESPACE_LENGTH} characters: `
      + 'shorten the name or the namespace');
  }
}

/**
 * KMM replaces this with the node's kernel release (`uname -r`) with one trailing `+` removed
 * and every character outside `[A-Za-z0-9._-]` replaced by `_`, the tag the Day 1 boot
 * scripts use as well, so both paths pull the same image.
 */
export const KERNEL_VERSION_TAG = '${KERNEL_FULL_VERSION}';

/** Properties of a `KmmModule`. */
export interface KmmModuleProps {
  /**
   * Name of the out-of-tree module to load (the `.ko` file name without `.ko`).
   */
  readonly kernelModuleName: string;

  /**
   * Container image repository holding the module under `/opt/lib/modules/<kernel release>`,
   * **without** tag or digest: the tag is each node's kernel release.
   */
  readonly kernelModuleImage: string;

  /**
   * Node labels of the nodes that load the module.
   */
  readonly selector: { [key: string]: string };

  /**
   * In-tree modules to unload before the out-of-tree module is loaded. KMM's worker runs
   * `modprobe -rv` on every listed name whose `.ko` file exists anywhere under the node's
   * `/lib/modules`, whether or not it is loaded, on every selected node at once: a name the
   * Day 1 MachineConfig already replaced at boot would be unloaded and loaded again at run
   * time (`handOverToKmm` lists none for that reason).
   *
   * @default - no in-tree module is unloaded
   */
  readonly inTreeModulesToRemove?: string[];

  /**
   * Directory of firmware files inside the module image, copied to the node for the kernel.
   *
   * @default - no firmware
   */
  readonly firmwareFilesPath?: string;

  /**
   * Module parameters passed to modprobe, each `name=value`.
   *
   * @default - no parameters
   */
  readonly moduleParameters?: string[];

  /**
   * Name of a Secret in the Module's namespace with the credentials to pull the module image.
   *
   * @default - the image is pulled with the cluster's pull secret
   */
  readonly imageRepoSecret?: string;

  /**
   * Name, namespace, labels and annotations of the Module. An `argocd.argoproj.io/sync-wave`
   * annotation here overrides the default wave. The Module is annotated
   * `kustomize.toolkit.fluxcd.io/substitute: disabled`, so that Flux's variable substitution
   * leaves KMM's `${KERNEL_FULL_VERSION}` alone.
   *
   * @default - named after kernelModuleName (lowercase, "_" as "-"), in namespace `openshift-kmm`
   */
  readonly metadata?: ApiObjectMetadata;

  /**
   * Whether the Module carries the Argo CD sync wave `SyncWave.KMM` (5), after the Day 1
   * MachineConfigs and their health checks: applied earlier, KMM would replace an in-tree
   * driver at run time on nodes that have not rebooted yet.
   *
   * @default true
   */
  readonly syncWaves?: boolean;

  /**
   * Whether Argo CD and Flux are told never to delete the Module
   * (`argocd.argoproj.io/sync-options: Prune=false,Delete=false`,
   * `kustomize.toolkit.fluxcd.io/prune: disabled`). When a Module is deleted, KMM unloads the
   * module from every selected node at run time; for a NIC driver that takes the nodes off
   * the network.
   *
   * @default true
   */
  readonly pruneProtection?: boolean;
}

/**
 * A KMM `Module` (`kmm.sigs.x-k8s.io/v1beta1`) that loads a pre-built out-of-tree module
 * image on the selected nodes and keeps it loaded across kernel upgrades (Day 2). Its image
 * tag is the node's kernel release, the same convention as the Day 1 MachineConfig.
 */
export class KmmModule extends Construct {
  /** `metadata.name` of the Module. */
  public readonly name: string;

  /** `metadata.namespace` of the Module. */
  public readonly namespace: string;

  /** Name of the out-of-tree module. */
  public readonly kernelModuleName: string;

  /** Container image repository of the module, without tag. */
  public readonly kernelModuleImage: string;

  /** Node labels of the nodes that load the module. */
  public readonly selector: { [key: string]: string };

  /** The Module object. */
  public readonly apiObject: ApiObject;

  /**
   * @throws Error naming the property when a property is invalid
   */
  constructor(scope: Construct, id: string, props: KmmModuleProps) {
    super(scope, id);
    const prefix = `KmmModule "${this.node.path}": `;
    if (props === null || typeof props !== 'object') {
      throw new Day1ValidationError(`${prefix}props`, props, 'must be an object');
    }
    const settings = validateModuleSettings({
      kernelModuleImage: props.kernelModuleImage,
      kernelModuleName: props.kernelModuleName,
      inTreeModulesToRemove: props.inTreeModulesToRemove,
      firmwareFilesPath: props.firmwareFilesPath,
      moduleParameters: props.moduleParameters,
    }, prefix);
    this.kernelModuleName = settings.kernelModuleName;
    this.kernelModuleImage = settings.kernelModuleImage;
    this.selector = Object.freeze(checkSelector(`${prefix}selector`, props.selector));
    const imageRepoSecret = optionalString(`${prefix}imageRepoSecret`, props.imageRepoSecret);

    const given = props.metadata?.name;
    // KMM puts the Module name into label keys and pod names, so it must be a DNS-1123 label.
    this.name = given === undefined
      ? checkDns1123Label(`${prefix}metadata.name (derived from kernelModuleName ${JSON.stringify(this.kernelModuleName)}; set it explicitly)`,
        dnsNameFromModuleName(this.kernelModuleName))
      : checkDns1123Label(`${prefix}metadata.name`, given);
    const metadata = resolveMetadata(prefix, props.metadata, {
      name: this.name,
      nameField: 'metadata.name',
      defaultNamespace: KMM_NAMESPACE,
      defaultAnnotations: { ...FLUX_SUBSTITUTE_DISABLED },
      gitOps: gitOpsPolicy(prefix, GitOpsStage.KMM, props, true),
    });
    this.namespace = metadata.namespace!;
    checkModuleNameLength(`${prefix}metadata.name`, this.name, this.namespace);

    this.apiObject = new kmm.Module(this, 'Resource', {
      metadata,
      spec: {
        moduleLoader: {
          container: {
            modprobe: {
              moduleName: settings.kernelModuleName,
              // The CRD's default today, written out because the image layout (/opt/lib/modules)
              // is shared with the Day 1 worker, whose config sets dirName: /opt explicitly.
              dirName: '/opt',
              ...(settings.firmwareFilesPath === undefined ? {} : { firmwarePath: settings.firmwareFilesPath }),
              ...(settings.moduleParameters.length === 0 ? {} : { parameters: settings.moduleParameters }),
            },
            ...(settings.inTreeModulesToRemove.length === 0 ? {} : { inTreeModulesToRemove: settings.inTreeModulesToRemove }),
            kernelMappings: [{ regexp: '^.+$', containerImage: `${settings.kernelModuleImage}:${KERNEL_VERSION_TAG}` }],
          },
        },
        ...(imageRepoSecret === undefined ? {} : { imageRepoSecret: { name: imageRepoSecret } }),
        selector: { ...this.selector },
      },
    });
    claimObjectName(this, 'Module', this.namespace, this.name,
      'Set metadata.name (or the name option of handOverToKmm) so that each Module has its own name.');
  }
}
