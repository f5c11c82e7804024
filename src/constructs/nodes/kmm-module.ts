import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { ModuleValues } from '../../boot';
import * as kmm from '../../imports/module-kmm.sigs.x-k8s.io';
import { moduleWithDefaults } from '../../machine-config';
import {
  checkDns1123Label,
  checkModuleNameLength,
  checkModuleSettings,
  checkSecretName,
  checkSelector,
  collectorFor,
  KernelModuleSettings,
  optional,
  ProblemCollector,
} from '../../validation';
import { claimObjectName } from '../app/claims';
import { deferProblems, placeholderName } from '../app/deferred';
import { FLUX_SUBSTITUTE_DISABLED, gitOpsPolicy, GitOpsStage } from '../gitops-policy';
import { derivedNameNote, nameFromModule, resolveMetadata } from '../metadata';
import { PROTECTED_OBJECT_FIELDS, ProtectedObjectProps } from '../props';

/** The namespace the KMM operator is installed in on OpenShift. */
export const KMM_NAMESPACE = 'openshift-kmm';

/**
 * KMM replaces this with the node's kernel release (`uname -r`) with one trailing `+` removed
 * and every character outside `[A-Za-z0-9._-]` replaced by `_`, the tag the Day 1 boot
 * scripts use as well, so both paths pull the same image.
 */
export const KERNEL_VERSION_TAG = '${KERNEL_FULL_VERSION}';

/** Properties of a `KmmModule`. */
export interface KmmModuleProps extends ProtectedObjectProps {
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
}

/**
 * A KMM `Module` (`kmm.sigs.x-k8s.io/v1beta1`) that loads a pre-built out-of-tree module
 * image on the selected nodes and keeps it loaded across kernel upgrades (Day 2). Its image
 * tag is the node's kernel release, the same convention as the Day 1 MachineConfig.
 *
 * `metadata` may set the Module's name and namespace (default: named after kernelModuleName,
 * lowercase, "_" as "-", in namespace `openshift-kmm`). The Module is annotated
 * `kustomize.toolkit.fluxcd.io/substitute: disabled`, so that Flux's variable substitution
 * leaves KMM's `${KERNEL_FULL_VERSION}` alone. It carries the Argo CD sync wave `SyncWave.KMM`
 * (5), after the Day 1 MachineConfigs and their health checks: applied earlier, KMM would
 * replace an in-tree driver at run time on nodes that have not rebooted yet. It is protected
 * from pruning by default: when a Module is deleted, KMM unloads the module from every selected
 * node at run time, which for a NIC driver takes the nodes off the network.
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
   * Invalid props do not throw here: `app.synth()` fails with the problems of every construct of
   * the app, one line each (`[<path>] Invalid <field> <value>: <rule>`).
   */
  constructor(scope: Construct, id: string, props: KmmModuleProps) {
    super(scope, id);
    const problems = collectorFor(this.node.path, props, KMM_MODULE_FIELDS);
    const settings = checkModuleSettings(problems, {
      kernelModuleImage: props.kernelModuleImage,
      kernelModuleName: props.kernelModuleName,
      inTreeModulesToRemove: props.inTreeModulesToRemove,
      firmwareFilesPath: props.firmwareFilesPath,
      moduleParameters: props.moduleParameters,
    });
    const selector = problems.check(() => checkSelector('selector', props.selector));
    const imageRepoSecret = problems.check(() => optional('imageRepoSecret', props.imageRepoSecret, "the cluster's pull secret", checkSecretName));
    const namespace = problems.check(() => checkDns1123Label('metadata.namespace', props.metadata?.namespace ?? KMM_NAMESPACE));
    const name = checkModuleName(problems, 'metadata.name', props.metadata?.name, settings.kernelModuleName, namespace);
    const gitOps = problems.check(() => gitOpsPolicy('', GitOpsStage.KMM, props, true));
    const metadata = problems.check(() => resolveMetadata('', { ...props.metadata, namespace: undefined }, {
      name,
      nameField: 'metadata.name',
      defaultNamespace: namespace ?? KMM_NAMESPACE,
      defaultAnnotations: { ...FLUX_SUBSTITUTE_DISABLED },
      gitOps,
    }));
    // Invalid props fail the app's synthesis with every construct's problems (see deferred.ts).
    const placeholder = deferProblems(this, problems) ? placeholderName(this) : undefined;
    const module = moduleWithDefaults(placeholder === undefined
      ? settings as KernelModuleSettings
      : { kernelModuleName: placeholder, kernelModuleImage: `invalid/${placeholder}` });
    this.kernelModuleName = module.kernelModuleName;
    this.kernelModuleImage = module.kernelModuleImage;
    this.selector = Object.freeze(selector ?? {});
    this.name = placeholder ?? name!;
    this.namespace = namespace ?? KMM_NAMESPACE;
    if (placeholder !== undefined) {
      this.apiObject = new kmm.Module(this, 'Resource', { metadata: { name: placeholder }, spec: { moduleLoader: { container: moduleLoaderContainer(module) }, selector: {} } });
      return;
    }
    this.apiObject = new kmm.Module(this, 'Resource', {
      metadata: metadata!,
      spec: {
        moduleLoader: { container: moduleLoaderContainer(module) },
        ...(imageRepoSecret === undefined ? {} : { imageRepoSecret: { name: imageRepoSecret } }),
        selector: { ...this.selector },
      },
    });
    claimObjectName(this, 'Module', this.namespace, this.name,
      'Set metadata.name (or the name option of handOverToKmm) so that each Module has its own name.');
  }
}

/** What the Module's worker runs: modprobe in the module image tagged with the node's kernel. */
function moduleLoaderContainer(module: ModuleValues): kmm.ModuleSpecModuleLoaderContainer {
  return {
    modprobe: {
      moduleName: module.kernelModuleName,
      // The CRD's default today, written out because the image layout (/opt/lib/modules)
      // is shared with the Day 1 worker, whose config sets dirName: /opt explicitly.
      dirName: '/opt',
      ...(module.firmwareFilesPath === undefined ? {} : { firmwarePath: module.firmwareFilesPath }),
      ...(module.moduleParameters.length === 0 ? {} : { parameters: [...module.moduleParameters] }),
    },
    ...(module.inTreeModulesToRemove.length === 0 ? {} : { inTreeModulesToRemove: [...module.inTreeModulesToRemove] }),
    kernelMappings: [{ regexp: '^.+$', containerImage: `${module.kernelModuleImage}:${KERNEL_VERSION_TAG}` }],
  };
}

/**
 * The name of a KMM Module, checked into `problems`: the given one, or the default derived from
 * the kernel module name; a DNS-1123 label either way (KMM puts it into label keys and pod
 * names), which together with the namespace must pass KMM's webhook.
 *
 * @param given the name as given, `undefined` for the default
 * @param kernelModuleName the checked module name, `undefined` when it is invalid
 * @param namespace the checked namespace, `undefined` when it is invalid (no length check then)
 */
export function checkModuleName(problems: ProblemCollector, field: string, given: unknown, kernelModuleName: string | undefined,
  namespace: string | undefined): string | undefined {
  const name = nameFromModule(problems, field, given, kernelModuleName);
  if (name !== undefined && namespace !== undefined) {
    const check = () => checkModuleNameLength(field, name, namespace);
    if (given === undefined) problems.checkDerived(derivedNameNote(field, kernelModuleName), check);
    else problems.check(check);
  }
  return name;
}

/** The fields of KmmModuleProps in the order of the interface. */
const KMM_MODULE_FIELDS: readonly string[] = [
  'kernelModuleName', 'kernelModuleImage', 'selector', 'inTreeModulesToRemove', 'firmwareFilesPath', 'moduleParameters',
  'imageRepoSecret', ...PROTECTED_OBJECT_FIELDS,
];
