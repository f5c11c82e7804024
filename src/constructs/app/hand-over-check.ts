import { Report } from './checks';
import { AppRegistry, Day1Claim } from './registry';
import { PlainMachineConfig } from './scan';
import { NodeSet, sortInMergeOrder, WORKER_ROLE } from '../../machine-config';
import { checkMachineConfigName, dnsNameFromModuleName } from '../../validation';

/*
 * The pool as it will be once the KMM operator has rewritten every MachineConfig handed over to
 * it (a BootModuleConfig names it): the operator replaces the whole spec.config with its own two
 * units and its own three scripts, at the paths of ours. A node runs one copy of each script, the
 * one of the MachineConfig that comes last in the MCO's merge order; when that is a handed-over
 * one, every Day 1 unit of the pool runs the operator's scripts, and a module that is NOT handed
 * over loses what only our scripts do (facts of the operator's scripts, in DESIGN.md):
 * - module parameters: its replace script passes none;
 * - a kernel release outside the image tag alphabet: it tags the module image with the raw
 *   `uname -r`. Kernel releases are not known at synthesis; the one kind the app can show is the
 *   64k-pages kernel (`spec.kernelType: 64k-pages` in a MachineConfig of the pool), whose
 *   releases end in `+64k`, which is not a valid tag (ours tag it `_64k`, as KMM's Day 2 does);
 * - order: it names every worker container `kmm-pod`, so two of its loads at once collide; our
 *   units order themselves against the units of the roles they must (Topology.ordersAgainst),
 *   and the operator's units against nothing, so a Day 1 module whose MachineConfig does not list
 *   the handed-over one (a `worker` module next to a handed-over module of a custom pool) loads
 *   at the same time as it.
 * Each is refused at synthesis on the Day 1 module, naming the handed-over module and the fix.
 */

/** A Day 1 MachineConfig of a node set, as the merge order sees it. */
interface Member {
  readonly name: string;
  readonly role: string;
  readonly claim?: Day1Claim;
  readonly handedOver: boolean;
}

const KERNEL_TYPE_64K = '64k-pages';

/** Reports every Day 1 module that loses something once the operator has rewritten the handed-over MachineConfigs. */
export function handOverProblems(registry: AppRegistry, report: Report): void {
  if (registry.handOvers.length === 0 && registry.scan.bootModuleConfigTargets.length === 0) return;
  const reported = new Set<string>();
  for (const set of registry.topology.nodeSets) {
    const members = sortInMergeOrder(membersOf(registry, set), (m) => m.name, (m) => m.role);
    const winner = members[members.length - 1];
    if (winner === undefined || !winner.handedOver) continue;
    const handedOver = members.filter((m) => m.handedOver);
    const kernel64k = registry.scan.machineConfigs.find((mc) => set.roles.includes(mc.role) && mc.json?.spec?.kernelType === KERNEL_TYPE_64K);
    for (const member of members) {
      const claim = member.claim;
      if (member.handedOver || claim === undefined) continue;
      const losses = lossesOf(registry, claim, handedOver, kernel64k);
      const key = `${claim.name}\0${losses.join('\0')}`;
      if (losses.length === 0 || reported.has(key)) continue;
      reported.add(key);
      report(claim.owner, `once the KMM operator has rewritten MachineConfig "${winner.name}" (handed over by ${ownerOf(registry, winner)}), `
        + `the nodes of MachineConfigPool "${set.pool}" run the operator's boot scripts for every Day 1 module, because that MachineConfig `
        + `comes last in the MCO's merge order (${members.map((m) => m.name).join(', ')}); Day 1 module "${claim.kernelModuleName}" `
        + `(${claim.owner.node.path}, not handed over) would lose ${losses.join('; and ')}. ${fixFor(claim, winner)}`);
    }
  }
}

/** The Day 1 MachineConfigs that reach the set: ours (claims) and plain ones of any release. */
function membersOf(registry: AppRegistry, set: NodeSet): Member[] {
  const claimed = new Set(registry.day1.map((claim) => claim.name));
  const ours = registry.day1.filter((claim) => set.roles.includes(claim.role))
    .map((claim) => ({ name: claim.name, role: claim.role, claim, handedOver: registry.isHandedOver(claim.name) }));
  const plain = registry.scan.machineConfigs.filter((mc: PlainMachineConfig) => mc.day1 && !claimed.has(mc.name) && set.roles.includes(mc.role))
    .map((mc) => ({ name: mc.name, role: mc.role, handedOver: registry.isHandedOver(mc.name) }));
  return [...ours, ...plain];
}

function lossesOf(registry: AppRegistry, claim: Day1Claim, handedOver: readonly Member[], kernel64k: PlainMachineConfig | undefined): string[] {
  const losses: string[] = [];
  if (claim.moduleParameters.length > 0) {
    losses.push(`its module parameters ${JSON.stringify(claim.moduleParameters)} (the operator's replace script passes none)`);
  }
  if (kernel64k !== undefined) {
    losses.push(`its module image on the 64k-pages kernel that MachineConfig "${kernel64k.name}" (${kernel64k.path}) selects: its releases end in `
      + '"+64k", and the operator\'s scripts tag the image with the raw `uname -r`, which is not a valid image tag (ours tag it "_64k")');
  }
  const unordered = handedOver.filter((other) => !registry.topology.ordersAgainst(claim.role, other.role));
  if (unordered.length > 0) {
    losses.push(`its order against ${unordered.map((m) => `"${m.name}"`).join(', ')}: neither replace unit orders itself against the other `
      + `(a "${claim.role}" MachineConfig never lists peers of role ${unordered.map((m) => `"${m.role}"`).join(', ')}), and the operator's `
      + 'replace script names every worker container "kmm-pod", so the two loads would collide');
  }
  return losses;
}

function ownerOf(registry: AppRegistry, member: Member): string {
  const handOver = registry.handOvers.find((claim) => claim.machineConfigName === member.name);
  return handOver !== undefined ? handOver.owner.node.path : 'a BootModuleConfig of the app';
}

/**
 * The fix: a machineConfigName that sorts after the handed-over one, so that our scripts win the
 * merge (they accept the operator's units), unless the module's role is merged before the
 * handed-over one's whatever the name; or handing the module over too.
 */
function fixFor(claim: Day1Claim, winner: Member): string {
  const handOver = `hand ${claim.owner.node.path} over too (handOverToKmm; it then loads without parameters)`;
  if (claim.role === WORKER_ROLE && winner.role !== WORKER_ROLE) {
    return `Its MachineConfig has role "${WORKER_ROLE}", which the MCO merges before role "${winner.role}" whatever the names: load it on `
      + `pool "${winner.role}" with a machineConfigName that sorts after "${winner.name}", or ${handOver}.`;
  }
  const suggestion = `${winner.name}-${dnsNameFromModuleName(claim.kernelModuleName)}`;
  let named = `a machineConfigName that sorts after "${winner.name}" in Go's byte order`;
  try {
    named += ` (for example "${checkMachineConfigName('machineConfigName', suggestion)}")`;
  } catch {
    // Too long to suggest: the rule alone.
  }
  return `Give ${claim.owner.node.path} ${named}, so that the scripts of this library come last and serve every unit of the pool, `
    + `or ${handOver}.`;
}
