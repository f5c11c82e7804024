import { inMergeOrder, rolesOfClusterPool, rolesOfSelector, sortInMergeOrder, Topology } from '../../src/machine-config';

/*
 * The one model of which MachineConfigs reach which nodes, and in which order the MCO merges
 * them. The constructs' checks and peer ordering read it; here it is held to the facts directly.
 */

const ROLE = 'machineconfiguration.openshift.io/role';

describe('roles of a pool', () => {
  test('the cluster\'s pools apply their own role; any other is a custom pool built on worker, unless told otherwise', () => {
    expect(rolesOfClusterPool('worker')).toEqual(['worker']);
    expect(rolesOfClusterPool('master')).toEqual(['master']);
    expect(rolesOfClusterPool('infra')).toEqual(['worker', 'infra']);
    expect(rolesOfClusterPool('infra', false)).toEqual(['infra']);
  });

  test('a selector\'s roles, by matchLabels and In expressions, worker first, the others in byte order, no repeats', () => {
    expect(rolesOfSelector({ matchLabels: { [ROLE]: 'gpu' }, matchExpressions: [{ key: ROLE, operator: 'In', values: ['infra', 'worker', 'gpu'] }] }))
      .toEqual(['worker', 'gpu', 'infra']);
    expect(rolesOfSelector({ matchExpressions: [{ key: ROLE, operator: 'NotIn', values: ['x'] }, { key: 'other', operator: 'In', values: ['y'] }] }))
      .toEqual([]);
    expect(rolesOfSelector(undefined)).toEqual([]);
    expect(inMergeOrder(['b', 'B', 'worker', 'a'])).toEqual(['worker', 'B', 'a', 'b']);
  });
});

test('merge order: the base role first, then the rest, each by name in byte order (never locale order)', () => {
  const mcs = [
    { name: 'b', role: 'sfc' }, { name: '99-z', role: 'worker' }, { name: 'B', role: 'sfc' }, { name: '00-a', role: 'worker' }, { name: 'a', role: 'infra' },
  ];
  expect(sortInMergeOrder(mcs, (mc) => mc.name, (mc) => mc.role).map((mc) => mc.name)).toEqual(['00-a', '99-z', 'B', 'a', 'b']);
  expect(sortInMergeOrder(mcs, (mc) => mc.name, (mc) => mc.role, 'sfc').map((mc) => mc.name)).toEqual(['B', 'b', '00-a', '99-z', 'a']);
});

describe('node sets and peers', () => {
  // gpu selects its own role, worker and infra; infra is a custom pool; worker is implied.
  const topology = new Topology([{ pool: 'gpu', roles: ['gpu', 'worker', 'infra'] }, { pool: 'infra', roles: ['worker', 'infra'] }], ['worker', 'infra', 'gpu']);

  test('declared pools first, then the implied pool of every role in use; the first definition of a name wins', () => {
    expect(topology.nodeSets).toEqual([
      { pool: 'gpu', roles: ['worker', 'gpu', 'infra'] },
      { pool: 'infra', roles: ['worker', 'infra'] },
      { pool: 'worker', roles: ['worker'] },
    ]);
    expect(new Topology([{ pool: 'x', roles: ['x'] }, { pool: 'x', roles: ['worker', 'x'] }], ['x']).nodeSets).toEqual([{ pool: 'x', roles: ['x'] }]);
    expect(topology.nodeSetsOf('infra').map((set) => set.pool)).toEqual(['gpu', 'infra']);
  });

  test('a worker MachineConfig lists no other role; the others list worker and the roles that reach all their nodes', () => {
    const lists = (role: string) => ['worker', 'infra', 'gpu'].filter((other) => topology.ordersAgainst(role, other));
    expect(lists('worker')).toEqual(['worker']);
    expect(lists('infra')).toEqual(['worker', 'infra']);
    expect(lists('gpu')).toEqual(['worker', 'infra', 'gpu']);
  });

  test('every pair of roles that shares nodes is ordered on one side at least, and never on both unless they always go together', () => {
    const sets = new Topology([
      { pool: 'p', roles: ['a', 'b'] }, { pool: 'q', roles: ['b', 'c'] }, { pool: 'r', roles: ['a'] }, { pool: 's', roles: ['worker', 'c'] },
      { pool: 't', roles: ['d', 'e'] },
    ], ['a', 'b', 'c', 'd', 'e', 'worker']);
    const roles = ['a', 'b', 'c', 'd', 'e', 'worker'];
    for (const x of roles) {
      for (const y of roles.filter((r) => r !== x)) {
        const shared = sets.nodeSets.some((set) => set.roles.includes(x) && set.roles.includes(y));
        const sides = [sets.ordersAgainst(x, y), sets.ordersAgainst(y, x)].filter(Boolean).length;
        const together = sets.covers(x, y) && sets.covers(y, x);
        expect({ x, y, sides }).toEqual({ x, y, sides: !shared ? 0 : together ? 2 : 1 });
      }
    }
    // a and b share pool p only; a reaches r without b and b reaches q without a: the later role, b, lists a.
    expect(sets.ordersAgainst('b', 'a')).toBe(true);
    expect(sets.ordersAgainst('a', 'b')).toBe(false);
  });
});
