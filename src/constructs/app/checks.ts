import { IConstruct } from 'constructs';
import { argoCdIgnoreProblems } from './argocd-ignore-differences';
import { times } from './claims';
import { handOverProblems } from './hand-over-check';
import { AppRegistry, Day1Claim } from './registry';
import { PlainMachineConfig } from './scan';
import { MachineConfigConflict, MachineConfigConflictKind, mergeMachineConfigs, NodeSet } from '../../machine-config';
import { modprobeName } from '../../validation';
import { bootstrapProblems } from '../gitops/delivery';

/*
 * The checks that only make sense once the whole app is built, run in one pass over the app's
 * registry and topology: two objects with one name (the second silently replaces the first when
 * applied), one kernel module loaded twice on the same nodes (two boot units race to load it), a
 * MachineConfig the user added that breaks a Day 1 one of its pool once merged, a pool that loses
 * something once the KMM operator has rewritten the MachineConfigs handed over to it, an Argo CD
 * Application that would revert that rewrite, GitOps bootstrap charts that hold app objects.
 * Each problem is reported once, by one construct, naming every construct involved. Not part of
 * the public API.
 */

/** Reports a problem on a construct. */
export type Report = (owner: IConstruct, message: string) => void;

/** Every app-wide problem of the registry's app, keyed by the construct that reports it. */
export function analyseApp(registry: AppRegistry): Map<IConstruct, string[]> {
  const problems = new Map<IConstruct, string[]>();
  const report: Report = (owner, message) => {
    const messages = problems.get(owner);
    if (messages) messages.push(message);
    else problems.set(owner, [message]);
  };
  checkUniqueClaims(registry, report);
  checkDuplicateModules(registry, report);
  checkPoolMerge(registry, report);
  handOverProblems(registry, report);
  argoCdIgnoreProblems(registry, report);
  for (const bootstrap of registry.bootstrap) {
    for (const message of bootstrapProblems(registry, bootstrap)) report(bootstrap.construct, message);
  }
  return problems;
}

function checkUniqueClaims(registry: AppRegistry, report: Report): void {
  for (const group of groupBy(registry.unique, (c) => c.key)) {
    if (group.length < 2) continue;
    report(group[0].owner, group[0].describe(group.map((c) => c.owner.node.path).join(' and '), group.length));
  }
}

/**
 * A MachineConfig of role r reaches the nodes of every pool that applies r, so a module is
 * loaded twice when two Day 1 MachineConfigs of roles that one pool applies both load it.
 */
function checkDuplicateModules(registry: AppRegistry, report: Report): void {
  const reported = new Set<string>();
  for (const { pool, roles } of registry.topology.nodeSets) {
    const loaded = registry.day1.filter((claim) => roles.includes(claim.role));
    for (const group of groupBy(loaded, (c) => modprobeName(c.kernelModuleName))) {
      if (group.length < 2) continue;
      const key = group.map((c) => c.owner.node.path).join('\0');
      if (reported.has(key)) continue;
      reported.add(key);
      const sameRole = group.every((c) => c.role === group[0].role);
      const [first, ...aliases] = [...new Set(group.map((c) => JSON.stringify(c.kernelModuleName)))];
      const names = aliases.length === 0 ? first : `${first} (also written ${aliases.join(' and ')})`;
      const why = sameRole
        ? `in MachineConfigPool "${pool}"`
        : `on the nodes of MachineConfigPool "${pool}", which applies the MachineConfigs of roles ${roles.map((r) => `"${r}"`).join(' and ')}`;
      report(group[0].owner, `kernel module ${names} is loaded ${times(group.length)} ${why}, by `
        + `${group.map((c) => `${c.owner.node.path} (role "${c.role}")`).join(', ')}: `
        + 'their boot units would race to replace the same module ("-" and "_" are the same character to modprobe). '
        + (sameRole ? 'Keep one.' : `Keep one: the nodes of "${pool}" receive the MachineConfigs of every role it applies, so one module on `
          + `role "${roles[roles.length - 1]}" or on "${roles[0]}" alone is enough; if pool "${pool}" does not apply them all, `
          + 'say which roles it applies (KmmMachineConfigPool.fromPoolName\'s machineConfigRoles option).'));
    }
  }
}

/**
 * Merges every node set as the MCO does and reports each conflict once, on the construct of the
 * Day 1 side (or on the registry when that side is a plain object too), naming both paths.
 */
function checkPoolMerge(registry: AppRegistry, report: Report): void {
  const scan = registry.scan;
  const claims = new Map<string, Day1Claim>();
  for (const claim of registry.day1) if (!claims.has(claim.name)) claims.set(claim.name, claim);
  const plain = new Map<string, PlainMachineConfig>();
  for (const mc of scan.machineConfigs) if (!plain.has(mc.name) && !claims.has(mc.name)) plain.set(mc.name, mc);
  const reported = new Set<string>();
  for (const set of registry.topology.nodeSets) {
    const members = membersOf(set, registry.day1, scan.machineConfigs, (claim) => registry.manifestOf(claim));
    if (members.length < 2) continue;
    for (const conflict of mergeMachineConfigs(members).conflicts) {
      const key = [conflict.kind, conflict.machineConfigName, conflict.foreignMachineConfigName, conflict.subject].join('\0');
      if (reported.has(key)) continue;
      reported.add(key);
      const ours = claims.get(conflict.machineConfigName);
      const oursPath = ours?.owner.node.path ?? plain.get(conflict.machineConfigName)?.path ?? '?';
      const foreignPath = plain.get(conflict.foreignMachineConfigName)?.path ?? '?';
      report(ours?.owner ?? registry, `${conflict.message}. Both reach the nodes of MachineConfigPool "${set.pool}": `
        + `"${conflict.foreignMachineConfigName}" is ${foreignPath}, "${conflict.machineConfigName}" is ${oursPath}. ${advice(conflict)}`);
    }
  }
}

/** The MachineConfig objects that reach the nodes of `set`: ours rendered, the plain ones as written. */
function membersOf(set: NodeSet, day1: readonly Day1Claim[], plain: readonly PlainMachineConfig[], render: (claim: Day1Claim) => any): any[] {
  return [
    ...day1.filter((claim) => set.roles.includes(claim.role)).map(render),
    ...plain.filter((mc) => set.roles.includes(mc.role)).map((mc) => mc.json),
  ];
}

function advice(conflict: MachineConfigConflict): string {
  const foreign = `MachineConfig "${conflict.foreignMachineConfigName}"`;
  switch (conflict.kind) {
    case MachineConfigConflictKind.SCRIPT_CONTENTS:
      return `Remove ${conflict.subject} from ${foreign} (the three script paths belong to the Day 1 MachineConfigs of this library), `
        + 'make it with this library (Day1KernelModule or produceMachineConfig), or keep the two on different pools.';
    case MachineConfigConflictKind.CRIO_WIPE_ENABLED:
      return `Remove crio-wipe.service from ${foreign} (or leave it enabled: false, mask: true), or keep the two on different pools.`;
    default:
      return `Rename the unit in ${foreign}, or give the Day1KernelModule another machineConfigName.`;
  }
}

/** `items` grouped by `key`, groups in the order of their first item. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}
