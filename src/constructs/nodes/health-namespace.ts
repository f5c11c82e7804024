import { ApiObject, App, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { registryOf } from '../app/claims';
import { AppRegistry } from '../app/registry';
import { GitOpsStage, syncWaveAnnotation } from '../gitops-policy';
import { resolveMetadata } from '../metadata';
import { chartOf, orderAfter } from '../ordering';

/*
 * The health checks' own namespace, `kmm-day1-health`, is one object per app. Its home must not
 * depend on the order the health checks were created in: it moves folders with its chart, and
 * the Flux Kustomization of a folder prunes what leaves it. Its home is the first chart, in the
 * app's chart order (the order cdk8s writes the charts in), that holds a health check in that
 * namespace. It is placed when a health check is added, and checked again once per validation
 * pass, when the chart order is final (a chart dependency added later can change it); the
 * DaemonSets of its chart are ordered after it then. Not part of the public API.
 */

const NAMESPACE_ID = 'kmm-day1-health-namespace';

/**
 * Records the health check `owner` and its DaemonSet; one in the library's namespace
 * (`defaultNamespace`, the namespace's name) places (or moves) the app's Namespace object.
 */
export function registerHealthCheck(owner: IConstruct, daemonSet: ApiObject, defaultNamespace: string | undefined, syncWaves: boolean): void {
  const registry = registryOf(owner);
  registry.healthChecks.push({ owner, daemonSet, defaultNamespace: defaultNamespace !== undefined, syncWaves });
  if (defaultNamespace === undefined) return;
  const current = registry.healthNamespace;
  // Only a chart before the current home, or the first sync wave, moves it: one comparison per health check.
  if (current === undefined || treeOrder(Chart.of(daemonSet), chartOf(current)!) < 0 || (syncWaves && !hasSyncWave(current))) {
    placeNamespace(registry, defaultNamespace, treeOrder);
  }
  registry.addAnalysis(finalPlacement);
}

/** Places the Namespace by the final chart order and orders the DaemonSets of its chart after it; reports nothing. */
function finalPlacement(registry: AppRegistry): Map<IConstruct, string[]> {
  const current = registry.healthNamespace as ApiObject | undefined;
  if (current !== undefined) {
    const root = registry.node.root;
    // A cdk8s App, whichever copy of cdk8s made it, lists its charts in output order.
    const listed: unknown = (root as Partial<App>).charts;
    const charts: IConstruct[] = Array.isArray(listed) ? listed : [];
    const namespace = placeNamespace(registry, current.name, (a, b) => charts.indexOf(a) - charts.indexOf(b));
    for (const check of registry.healthChecks) {
      if (check.defaultNamespace) orderAfter(check.daemonSet, namespace);
    }
  }
  return new Map();
}

/** Where construct `a` comes before `b` in the tree (the order of construction of their scopes). */
function treeOrder(a: IConstruct, b: IConstruct): number {
  const pa = a.node.scopes;
  const pb = b.node.scopes;
  for (let i = 1; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) {
      const siblings = pa[i - 1].node.children;
      return siblings.indexOf(pa[i]) - siblings.indexOf(pb[i]);
    }
  }
  return pa.length - pb.length;
}

function placeNamespace(registry: AppRegistry, name: string, order: (a: Chart, b: Chart) => number): ApiObject {
  const checks = registry.healthChecks.filter((check) => check.defaultNamespace);
  const home = checks.map((check) => Chart.of(check.daemonSet)).sort(order)[0];
  const syncWaves = checks.some((check) => check.syncWaves);
  const current = registry.healthNamespace as ApiObject | undefined;
  if (current !== undefined && chartOf(current) === home && syncWaves === hasSyncWave(current)) return current;
  if (current !== undefined) current.node.scope!.node.tryRemoveChild(current.node.id);
  const namespace = new ApiObject(home, NAMESPACE_ID, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: resolveMetadata('KernelModuleHealthCheck namespace: ', undefined, {
      name,
      nameField: 'namespace',
      defaultLabels: {
        // The pods are built for the strictest level; enforcing it keeps them that way.
        'pod-security.kubernetes.io/enforce': 'restricted',
      },
      // A Namespace without a wave is in wave 0 for Argo CD too, so the health checks without
      // one are applied with it all the same.
      defaultAnnotations: syncWaves ? syncWaveAnnotation(GitOpsStage.HEALTH_CHECK) : undefined,
    }),
    // Empty, as earlier releases (built on cdk8s-plus) wrote it.
    spec: {},
  });
  registry.healthNamespace = namespace;
  return namespace;
}

function hasSyncWave(namespace: IConstruct): boolean {
  return Object.keys((namespace as ApiObject).metadata.toJson().annotations ?? {}).length > 0;
}
