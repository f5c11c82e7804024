import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { claimObjectName } from './conflicts';
import { FLUX_SUBSTITUTE_DISABLED, gitOpsPolicy, GitOpsStage } from './gitops';
import { checkModuleNameLength, checkSelector, dnsNameFromModuleName, resolveMetadata } from './metadata';
import * as kmm from '../imports/module-kmm.sigs.x-k8s.io';
import { checkDns1123Label, checkKernelModuleName, collectModuleSettings, ifValid, optionalDns1123Subdomain, ProblemCollector } from '../validation';

/** The namespace the KMM operator is installed in on OpenShift. */
export const KMM_NAMESPACE = 'openshift-kmm';

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
   * An empty string is rejected: leave the property out for the default.
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
   * An empty string is rejected: leave the property out for the default.
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
   * Whether Argo CD and Flux are told never to delete the Module.
   *
   * The annotations are `argocd.argoproj.io/sync-options: Prune=false,Delete=false` and
   * `kustomize.toolkit.fluxcd.io/prune: disabled`. When a Module is deleted, KMM unloads the
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
   * @throws Error listing every invalid property, one line each (`<path>: Invalid <field> <value>: <rule>`)
   */
  constructor(scope: Construct, id: string, props: KmmModuleProps) {
    super(scope, id);
    const problems = new ProblemCollector(this.node.path, KMM_MODULE_FIELDS);
    if (props === null || typeof props !== 'object') {
      problems.add('props', props, 'must be an object');
      problems.throwIfAny();
    }
    const settings = collectModuleSettings(problems, {
      kernelModuleImage: props.kernelModuleImage,
      kernelModuleName: props.kernelModuleName,
      inTreeModulesToRemove: props.inTreeModulesToRemove,
      firmwareFilesPath: props.firmwareFilesPath,
      moduleParameters: props.moduleParameters,
    });
    const selector = problems.check(() => checkSelector('selector', props.selector));
    const imageRepoSecret = problems.check(() => optionalDns1123Subdomain('imageRepoSecret', props.imageRepoSecret, "the cluster's pull secret"));

    // KMM puts the Module name into label keys and pod names, so it must be a DNS-1123 label.
    const given = props.metadata?.name;
    const kernelModuleName = ifValid(() => checkKernelModuleName('kernelModuleName', props.kernelModuleName));
    const derivedName = `the default name, derived from kernelModuleName ${JSON.stringify(kernelModuleName)}; set metadata.name explicitly`;
    const name = given !== undefined
      ? problems.check(() => checkDns1123Label('metadata.name', given))
      : kernelModuleName === undefined ? undefined
        : problems.checkDerived(derivedName, () => checkDns1123Label('metadata.name', dnsNameFromModuleName(kernelModuleName)));
    const gitOps = problems.check(() => gitOpsPolicy('', GitOpsStage.KMM, props, true));
    const metadata = problems.check(() => resolveMetadata('', props.metadata, {
      name,
      nameField: 'metadata.name',
      defaultNamespace: KMM_NAMESPACE,
      defaultAnnotations: { ...FLUX_SUBSTITUTE_DISABLED },
      gitOps,
    }));
    const namespace = ifValid(() => checkDns1123Label('metadata.namespace', props.metadata?.namespace ?? KMM_NAMESPACE));
    if (name !== undefined && namespace !== undefined) {
      const check = () => checkModuleNameLength('metadata.name', name, namespace);
      if (given === undefined) problems.checkDerived(derivedName, check);
      else problems.check(check);
    }
    problems.throwIfAny();
    this.kernelModuleName = settings!.kernelModuleName;
    this.kernelModuleImage = settings!.kernelModuleImage;
    this.selector = Object.freeze(selector!);
    this.name = name!;
    this.namespace = metadata!.namespace!;

    this.apiObject = new kmm.Module(this, 'Resource', {
      metadata: metadata!,
      spec: {
        moduleLoader: {
          container: {
            modprobe: {
              moduleName: settings!.kernelModuleName,
              // The CRD's default today, written out because the image layout (/opt/lib/modules)
              // is shared with the Day 1 worker, whose config sets dirName: /opt explicitly.
              dirName: '/opt',
              ...(settings!.firmwareFilesPath === undefined ? {} : { firmwarePath: settings!.firmwareFilesPath }),
              ...(settings!.moduleParameters.length === 0 ? {} : { parameters: settings!.moduleParameters }),
            },
            ...(settings!.inTreeModulesToRemove.length === 0 ? {} : { inTreeModulesToRemove: settings!.inTreeModulesToRemove }),
            kernelMappings: [{ regexp: '^.+$', containerImage: `${settings!.kernelModuleImage}:${KERNEL_VERSION_TAG}` }],
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

/** The fields of KmmModuleProps in the order of the interface. */
const KMM_MODULE_FIELDS: readonly string[] = [
  'kernelModuleName', 'kernelModuleImage', 'selector', 'inTreeModulesToRemove', 'firmwareFilesPath', 'moduleParameters',
  'imageRepoSecret', 'metadata', 'syncWaves', 'pruneProtection',
];
