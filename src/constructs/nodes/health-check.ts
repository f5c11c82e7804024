import { createHash } from 'crypto';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { registerHealthCheck } from './health-namespace';
import {
  checkDns1123Label,
  checkImageReference,
  checkKernelModuleName,
  checkSelector,
  checkTolerations,
  collectorFor,
  HealthCheckToleration,
  KubeToleration,
  modprobeName,
  optional,
  optionalBoolean,
} from '../../validation';
import { claimObjectName } from '../app/claims';
import { deferProblems, placeholderName } from '../app/deferred';
import { GitOpsPolicy, gitOpsPolicy, GitOpsStage } from '../gitops-policy';
import { nameFromModule, resolveMetadata } from '../metadata';
import { SyncWaveProps } from '../props';
import { addWarning } from '../warnings';

/**
 * The health check's image: it needs nothing but `/bin/sh` (the probe uses shell built-ins
 * only) and a `sleep` that accepts `infinity`. UBI minimal is Red Hat's smallest image with
 * both, pullable without credentials and usually already mirrored for disconnected clusters.
 */
export const DEFAULT_HEALTH_CHECK_IMAGE = 'registry.access.redhat.com/ubi9/ubi-minimal:latest';

/**
 * The namespace of the health checks; the library creates it once per app, in the chart (of those
 * that hold a health check in it) whose construct path comes first in byte order. A dedicated
 * namespace, because the KMM operator's `openshift-kmm` need not exist yet (or ever) and a
 * namespace that GitOps creates can also be pruned without touching anything else.
 */
export const DEFAULT_HEALTH_CHECK_NAMESPACE = 'kmm-day1-health';

/** The pod label that ties the DaemonSet to its pods; stable, unlike a construct path. */
const INSTANCE_LABEL = 'app.kubernetes.io/instance';
const NAME_LABEL = 'app.kubernetes.io/name';
const NAME_LABEL_VALUE = 'kmm-day1-health-check';

/** Control-plane nodes are tainted NoSchedule; a health check there needs a toleration. */
const CONTROL_PLANE_ROLE_LABELS = ['node-role.kubernetes.io/master', 'node-role.kubernetes.io/control-plane'];

/** Properties of a `KernelModuleHealthCheck`. */
export interface KernelModuleHealthCheckProps extends SyncWaveProps {
  /**
   * Name of the kernel module that must be loaded, as given to modprobe.
   *
   * "-" and "_" are the same character to modprobe, and sysfs shows "_".
   */
  readonly kernelModuleName: string;

  /**
   * Node labels of the nodes that must have the module loaded: the node selector of the
   * MachineConfigPool that loads it.
   *
   * @example { 'node-role.kubernetes.io/worker': '' }
   */
  readonly nodeSelector: { [key: string]: string };

  /**
   * `metadata.name` of the DaemonSet, also the value of its pods' `app.kubernetes.io/instance`
   * label, so a DNS-1123 label. An empty string is rejected: leave the property out for the default.
   *
   * @default - the kernel module name, lowercase, "_" as "-"
   */
  readonly name?: string;

  /**
   * Image of the checking container. It needs `/bin/sh` and a `sleep` that accepts
   * `infinity`; nothing else runs in it. Pin a digest for a fleet.
   *
   * @default 'registry.access.redhat.com/ubi9/ubi-minimal:latest'
   */
  readonly image?: string;

  /**
   * Namespace of the DaemonSet. The default namespace is created by the library (one
   * Namespace object per app, labelled for the `restricted` pod security level); any other
   * namespace must already exist.
   *
   * @default 'kmm-day1-health'
   */
  readonly namespace?: string;

  /**
   * Taints of the pool's nodes that the pods tolerate. Custom pools are often tainted so that
   * only their own workloads run there; without a matching toleration the DaemonSet schedules
   * no pod at all there, and a DaemonSet without pods counts as healthy.
   *
   * @default - no toleration (beyond those Kubernetes gives every DaemonSet)
   */
  readonly tolerations?: HealthCheckToleration[];

  /**
   * Whether a pod is ready only if the loaded module is the out-of-tree build (its sysfs
   * `taint` has the `O` flag). With the default, a node where the out-of-tree module failed
   * to load and the in-tree driver of the same name is in use shows as not ready; turn it
   * off only for a module that has no in-tree namesake and is built as in-tree.
   *
   * @default true
   */
  readonly requireOutOfTree?: boolean;
}

/**
 * A health signal for a kernel module: a DaemonSet on the nodes that must load it, whose
 * pods are ready only while the module is loaded (and, by default, is the out-of-tree
 * build). Argo CD, Flux (`wait: true`) and `kubectl rollout status` then report the
 * DaemonSet healthy only once every node of the pool runs the module.
 *
 * The pods are unprivileged (the `restricted` pod security level, OpenShift's
 * `restricted-v2` SCC): sysfs inside any container shows the host kernel's modules, so they
 * need no host path, no service account token and no extra capability. The user ID is left
 * to OpenShift, which assigns one from the namespace's range.
 *
 * With `syncWaves`, the DaemonSet carries the Argo CD sync wave `SyncWave.HEALTH_CHECK` (0):
 * after the MachineConfigs, before the KMM objects, so that the KMM objects wait until every
 * node runs the out-of-tree module. The default namespace, which the library creates once per
 * app, carries that wave when any health check in it does.
 */
export class KernelModuleHealthCheck extends Construct {
  /** `metadata.name` of the DaemonSet. */
  public readonly name: string;

  /** `metadata.namespace` of the DaemonSet. */
  public readonly namespace: string;

  /** Name of the kernel module checked. */
  public readonly kernelModuleName: string;

  /** The sysfs directory of the module, `/sys/module/<name with "_" for "-">`. */
  public readonly sysfsPath: string;

  /** Image of the checking container. */
  public readonly image: string;

  /** Node labels of the nodes checked. */
  public readonly nodeSelector: { [key: string]: string };

  /** Whether only the out-of-tree build of the module counts as loaded. */
  public readonly requireOutOfTree: boolean;

  /** The DaemonSet object. */
  public readonly daemonSet: ApiObject;

  /**
   * Invalid props do not throw here: `app.synth()` fails with the problems of every construct of
   * the app, one line each (`[<path>] Invalid <field> <value>: <rule>`).
   */
  constructor(scope: Construct, id: string, props: KernelModuleHealthCheckProps) {
    super(scope, id);
    const problems = collectorFor(this.node.path, props, HEALTH_CHECK_FIELDS);
    const kernelModuleName = problems.check(() => checkKernelModuleName('kernelModuleName', props.kernelModuleName));
    const nodeSelector = problems.check(() => checkSelector('nodeSelector', props.nodeSelector));
    const name = nameFromModule(problems, 'name', props.name, kernelModuleName);
    const image = problems.check(() => optional('image', props.image, `the default image (${DEFAULT_HEALTH_CHECK_IMAGE})`, checkImageReference));
    const namespace = problems.check(() => optional('namespace', props.namespace, `the default namespace (${DEFAULT_HEALTH_CHECK_NAMESPACE})`, checkDns1123Label));
    const tolerations = problems.check(() => checkTolerations('tolerations', props.tolerations));
    const requireOutOfTree = problems.check(() => optionalBoolean('requireOutOfTree', props.requireOutOfTree));
    const gitOps = problems.check(() => gitOpsPolicy('', GitOpsStage.HEALTH_CHECK, { syncWaves: props.syncWaves }, false));
    // Invalid props fail the app's synthesis with every construct's problems (see deferred.ts).
    const placeholder = deferProblems(this, problems) ? placeholderName(this) : undefined;
    this.kernelModuleName = placeholder ?? kernelModuleName!;
    this.nodeSelector = Object.freeze(nodeSelector ?? {});
    this.name = placeholder ?? name!;
    this.image = image ?? DEFAULT_HEALTH_CHECK_IMAGE;
    this.requireOutOfTree = requireOutOfTree ?? true;
    this.namespace = namespace ?? DEFAULT_HEALTH_CHECK_NAMESPACE;
    this.sysfsPath = `/sys/module/${modprobeName(this.kernelModuleName)}`;
    if (placeholder !== undefined) {
      this.daemonSet = new ApiObject(this, 'Resource', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: placeholder } });
      return;
    }
    this.daemonSet = this.daemonSetObject(tolerations!, gitOps!);
    registerHealthCheck(this, this.daemonSet, this.namespace === DEFAULT_HEALTH_CHECK_NAMESPACE ? this.namespace : undefined, gitOps!.syncWaves);
    claimObjectName(this, 'DaemonSet', this.namespace, this.name,
      'Give each health check its own name (for a Day1KernelModule, its own machineConfigName).');
    if (tolerations!.length === 0 && CONTROL_PLANE_ROLE_LABELS.some((key) => key in this.nodeSelector)) {
      addWarning(this, `the node selector ${JSON.stringify(this.nodeSelector)} selects control-plane nodes, which are tainted NoSchedule, `
        + 'and no toleration is set: the DaemonSet will run no pod there and report healthy without checking anything. '
        + 'Add a toleration for the control-plane taints.');
    }
  }

  /** The DaemonSet, labelled and selected by the module it checks. */
  private daemonSetObject(tolerations: KubeToleration[], gitOps: GitOpsPolicy): ApiObject {
    const labels = { [NAME_LABEL]: NAME_LABEL_VALUE, [INSTANCE_LABEL]: this.name };
    return new ApiObject(this, 'Resource', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: resolveMetadata('', undefined, { name: this.name, nameField: 'name', defaultNamespace: this.namespace, defaultLabels: labels, gitOps }),
      spec: {
        // Kubernetes' default, written out as earlier releases (built on cdk8s-plus) wrote it,
        // so that an upgrade changes nothing in Git.
        minReadySeconds: 0,
        // By labels that name the module, not by construct path: a DaemonSet's selector is
        // immutable, so moving the construct would make every later sync fail.
        selector: { matchLabels: { ...labels } },
        template: {
          metadata: { labels: { ...labels } },
          spec: podSpec(this, tolerations),
        },
      },
    });
  }
}

/**
 * The pod: one container that sleeps, with the probe, for the `restricted` pod security level
 * (non-root, no privilege escalation, every capability dropped, seccomp `RuntimeDefault`).
 * The fields set to Kubernetes' defaults (`dnsPolicy`, `hostNetwork`, `restartPolicy`,
 * `fsGroupChangePolicy`, `setHostnameAsFQDN`, `privileged: false`) are written out as earlier
 * releases wrote them, so that an upgrade of the library changes nothing in Git.
 */
function podSpec(check: KernelModuleHealthCheck, tolerations: KubeToleration[]): { [key: string]: unknown } {
  const nonRoot = { runAsNonRoot: true };
  return {
    automountServiceAccountToken: false,
    containers: [{
      name: 'check',
      image: check.image,
      imagePullPolicy: 'IfNotPresent',
      command: ['sleep', 'infinity'],
      readinessProbe: {
        exec: { command: ['/bin/sh', '-c', moduleLoadedScript(check.kernelModuleName, check.sysfsPath, check.requireOutOfTree)] },
        periodSeconds: 10,
        timeoutSeconds: 5,
        successThreshold: 1,
        // A module that disappears shows at the next probe.
        failureThreshold: 1,
      },
      // The CPU limit leaves room for the probe's shell: at 5m, CFS throttling alone could
      // push it past its timeout.
      resources: {
        requests: { cpu: '5m', memory: '16Mi' },
        limits: { cpu: '50m', memory: '32Mi' },
      },
      securityContext: {
        ...nonRoot,
        privileged: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
    }],
    dnsPolicy: 'ClusterFirst',
    hostNetwork: false,
    // The pool's selector, verbatim.
    nodeSelector: { ...check.nodeSelector },
    restartPolicy: 'Always',
    securityContext: { ...nonRoot, fsGroupChangePolicy: 'Always', seccompProfile: { type: 'RuntimeDefault' } },
    setHostnameAsFQDN: false,
    // `sleep` as PID 1 ignores SIGTERM; there is nothing to shut down cleanly.
    terminationGracePeriodSeconds: 1,
    ...(tolerations.length === 0 ? {} : { tolerations: tolerations.map((toleration) => ({ ...toleration })) }),
  };
}

/**
 * The readiness probe: shell built-ins only, so any image with `/bin/sh` will do. It prints
 * why a node is not ready, which Kubernetes shows in the pod's events.
 *
 * @param kernelModuleName the module name, already validated (letters, digits, "_" and "-")
 * @param moduleDir the module's sysfs directory
 */
export function moduleLoadedScript(kernelModuleName: string, moduleDir: string, requireOutOfTree: boolean): string {
  const lines = [
    `m=${moduleDir}`,
    `if [ ! -e "$m/initstate" ]; then echo "kernel module ${kernelModuleName} is not loaded ($m/initstate does not exist)"; exit 1; fi`,
    'state=',
    'read -r state < "$m/initstate" || :',
    `if [ "$state" != live ]; then echo "kernel module ${kernelModuleName} is not live (initstate: $state)"; exit 1; fi`,
  ];
  if (requireOutOfTree) {
    lines.push(
      'taint=',
      'read -r taint < "$m/taint" || :',
      `case "$taint" in *O*) ;; *) echo "kernel module ${kernelModuleName} is loaded, but it is not the out-of-tree build (taint flags: '$taint')"; exit 1;; esac`,
    );
  }
  lines.push(`echo "kernel module ${kernelModuleName} is live"`);
  return lines.join('\n') + '\n';
}

/**
 * A DaemonSet name (a DNS-1123 label) that stands for a MachineConfig name (a DNS-1123
 * subdomain of up to 222 characters): the name itself when it fits, otherwise a readable
 * prefix and a hash of the whole name, so that distinct MachineConfigs keep distinct names.
 */
export function healthCheckNameFor(machineConfigName: string): string {
  const dashed = machineConfigName.replace(/\./g, '-');
  if (dashed === machineConfigName && dashed.length <= 63) {
    return dashed;
  }
  const hash = createHash('sha256').update(machineConfigName).digest('hex').slice(0, 8);
  return `${dashed.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

/** The fields of KernelModuleHealthCheckProps in the order of the interface. */
const HEALTH_CHECK_FIELDS: readonly string[] = [
  'kernelModuleName', 'nodeSelector', 'name', 'image', 'namespace', 'tolerations', 'requireOutOfTree', 'syncWaves',
];
