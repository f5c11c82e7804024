import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { Day1KernelModule, IMachineConfigPool, KmmMachineConfigPool } from '../../../src';
import { directives, parseUnitFile } from '../../util/systemd';
import { Manifest, synthManifests } from '../helpers';
import { IMAGE } from '../scenarios';

/*
 * Which Day 1 MachineConfigs order themselves against which, read from the synthesized YAML
 * alone (the replace unit's After=/Before=), so that these expectations hold whatever model of
 * pools and roles the constructs use inside.
 *
 * The rule: a MachineConfig lists as peers the Day 1 MachineConfigs of the roles that reach
 * every node its own role reaches. A `worker` MachineConfig therefore never lists a peer of
 * another role: editing it would reboot every node of the worker pool each time a module of a
 * custom pool changed.
 */

const ROLE = 'machineconfiguration.openshift.io/role';
const MC_API_VERSION = 'machineconfiguration.openshift.io/v1';
const REPLACE_UNIT = '-replace-kernel-module.service';

/** The peer MachineConfigs that the replace unit of `machineConfig` is ordered against (After= and Before=). */
function peersOf(machineConfig: Manifest): string[] {
  const units: Array<{ name: string; contents?: string }> = machineConfig.spec.config.systemd.units;
  const replace = units.filter((unit) => unit.name.endsWith(REPLACE_UNIT));
  const machineConfigName = machineConfig.metadata.name;
  expect({ machineConfigName, replaceUnits: replace.length }).toEqual({ machineConfigName, replaceUnits: 1 });
  const unit = parseUnitFile(replace[0].contents!);
  const own = replace[0].name;
  return ['After', 'Before']
    .flatMap((key) => directives(unit, 'Unit', key))
    .flatMap((value) => value.split(/\s+/))
    .filter((name) => name.endsWith(REPLACE_UNIT) && name !== own)
    .map((name) => name.slice(0, -REPLACE_UNIT.length))
    .sort();
}

/** Every synthesized MachineConfig: its role label and the roles of its peers. */
function peerRoles(app: App): Map<string, { role: string; peers: string[]; peerRoles: string[] }> {
  const machineConfigs = synthManifests(app).filter((m) => m.kind === 'MachineConfig');
  const roleOf = new Map(machineConfigs.map((mc) => [mc.metadata.name, mc.metadata.labels?.[ROLE]]));
  return new Map(machineConfigs.map((mc) => {
    const peers = peersOf(mc);
    for (const peer of peers) expect({ peer, synthesized: roleOf.has(peer) }).toEqual({ peer, synthesized: true });
    return [mc.metadata.name, { role: roleOf.get(mc.metadata.name)!, peers, peerRoles: [...new Set(peers.map((peer) => roleOf.get(peer)!))].sort() }];
  }));
}

/** A MachineConfigPool object of the user's, selecting the MachineConfigs of `roles` with `In`. */
function plainPool(scope: Chart, name: string, roles: string[]): ApiObject {
  return new ApiObject(scope, `${name}-pool-object`, {
    apiVersion: MC_API_VERSION,
    kind: 'MachineConfigPool',
    metadata: { name },
    spec: {
      machineConfigSelector: { matchExpressions: [{ key: ROLE, operator: 'In', values: roles }] },
      nodeSelector: { matchLabels: { [`node-role.kubernetes.io/${name}`]: '' } },
    },
  });
}

type InfraPool = (chart: Chart) => IMachineConfigPool;

const INFRA_POOLS: Array<[string, InfraPool]> = [
  ['a KmmMachineConfigPool', (chart) => new KmmMachineConfigPool(chart, 'infra-pool', { name: 'infra' })],
  ['a MachineConfigPool object of the user\'s (worker and infra)', (chart) => {
    plainPool(chart, 'infra', ['worker', 'infra']);
    return KmmMachineConfigPool.fromPoolName(chart, 'infra-ref', 'infra');
  }],
];

/** The orders the gpu pool may list its roles in: the MCO does not care, neither may the peers. */
const GPU_SELECTIONS: string[][] = [
  ['gpu', 'worker', 'infra'],
  ['infra', 'gpu', 'worker'],
  ['worker', 'infra', 'gpu'],
];

describe('a pool that selects three roles: its own (gpu), worker and infra', () => {
  const cases = INFRA_POOLS.flatMap(([infra, pool]) => GPU_SELECTIONS.map((values) => [infra, values.join(', '), pool, values] as const));

  test.each(cases)('infra as %s, gpu selecting %s', (_infra, _values, infraPool, values) => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    plainPool(chart, 'gpu', values);
    const worker = KmmMachineConfigPool.fromPoolName(chart, 'worker-ref', 'worker');
    const gpu = KmmMachineConfigPool.fromPoolName(chart, 'gpu-ref', 'gpu');
    const infra = infraPool(chart);
    const module = (id: string, pool: IMachineConfigPool) =>
      new Day1KernelModule(chart, id, { pool, kernelModuleImage: `${IMAGE}-${id}`, kernelModuleName: id });
    // Two worker modules, so that a worker MachineConfig has a peer to list (of its own role).
    module('w1', worker);
    module('w2', worker);
    module('i', infra);
    module('g', gpu);

    const mcs = peerRoles(app);
    expect([...mcs.keys()].sort()).toEqual(['99-gpu-kmm-day1-g', '99-infra-kmm-day1-i', '99-worker-kmm-day1-w1', '99-worker-kmm-day1-w2']);
    const roles = Object.fromEntries([...mcs.values()].map((mc) => [mc.role, 0]));
    expect(Object.keys(roles).sort()).toEqual(['gpu', 'infra', 'worker']);

    // worker: its own role only, whatever the custom pools built on it hold.
    for (const name of ['99-worker-kmm-day1-w1', '99-worker-kmm-day1-w2']) {
      expect({ name, peerRoles: mcs.get(name)!.peerRoles }).toEqual({ name, peerRoles: ['worker'] });
    }
    expect(mcs.get('99-worker-kmm-day1-w1')!.peers).toEqual(['99-worker-kmm-day1-w2']);
    // infra nodes get worker's MachineConfigs, not gpu's: worker is a peer, gpu is not.
    expect(mcs.get('99-infra-kmm-day1-i')!.peerRoles).toEqual(['worker']);
    expect(mcs.get('99-infra-kmm-day1-i')!.peers).toEqual(['99-worker-kmm-day1-w1', '99-worker-kmm-day1-w2']);
    // gpu nodes get all three roles: every other MachineConfig is a peer.
    expect(mcs.get('99-gpu-kmm-day1-g')!.peerRoles).toEqual(['infra', 'worker']);
    expect(mcs.get('99-gpu-kmm-day1-g')!.peers).toEqual(['99-infra-kmm-day1-i', '99-worker-kmm-day1-w1', '99-worker-kmm-day1-w2']);
  });
});
