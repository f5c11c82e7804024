import { Chart } from 'cdk8s';
import { IConstruct } from 'constructs';

/**
 * Orders `dependent` after `dependency` in the synthesized file when both are in one chart.
 *
 * Across charts nothing is added on purpose: cdk8s 2.70 turns any cross-chart dependency into
 * "every object of one chart after every object of the other" and checks each of those edges
 * for cycles, which makes synthesis of a large fleet quadratic (7 to 10 s for 1000 modules in
 * 50 charts, measured in bench/synth.ts). Across charts the order comes from the Argo CD sync
 * waves, or from one `chart.addDependency(otherChart)` that the app adds itself when it wants
 * numbered output folders (as examples/ice-nic-driver does).
 */
export function orderAfter(dependent: IConstruct, dependency: IConstruct): void {
  const chart = chartOf(dependent);
  if (chart !== undefined && chart === chartOf(dependency)) {
    dependent.node.addDependency(dependency);
  }
}

/** The chart a construct belongs to (its closest chart ancestor), if any. */
export function chartOf(construct: IConstruct): Chart | undefined {
  const scopes = construct.node.scopes;
  for (let i = scopes.length - 1; i >= 0; i--) {
    if (Chart.isChart(scopes[i])) return scopes[i] as Chart;
  }
  return undefined;
}
