import { BootJournal, ProbeReport, TierNode, timestamp } from './tier';
import { pullUnitName, replaceUnitName } from '../../src/boot';
import { ResolvedMachineConfigOptions } from '../../src/machine-config';

/*
 * Assertions on what systemd recorded: journal entries (systemd's own job messages and the
 * stand-ins' entries) and the probe's `systemctl show` timestamps. Each failure names the
 * boot and carries that boot's journal lines about the units involved.
 */

export type Moment = readonly [label: string, at: number | undefined];

function excerpt(journal: BootJournal, units: readonly string[]): string {
  const pattern = new RegExp(units.map((u) => u.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|') + '|kmm-worker');
  return journal.text(pattern);
}

/** Fails unless `a` happened, `b` happened, and `a` not after `b`. */
export function expectOrder(journal: BootJournal, a: Moment, b: Moment, units: readonly string[] = []): void {
  const [labelA, atA] = a;
  const [labelB, atB] = b;
  if (atA === undefined || atB === undefined || atA > atB) {
    throw new Error(`boot ${journal.bootId}: expected ${labelA} (${atA ?? 'never'}) before ${labelB} (${atB ?? 'never'})`
      + `\n${excerpt(journal, units)}`);
  }
}

/**
 * The Day 1 contract before the network: the replace unit of each module finished before
 * network-pre.target was reached, by the journal's job messages and by systemctl's timestamps.
 */
export function expectReplaceBeforeNetworkPre(node: TierNode, n: number, modules: readonly ResolvedMachineConfigOptions[]): void {
  const journal = node.bootJournal(n);
  const report = node.report(n);
  for (const options of modules) {
    const unit = replaceUnitName(options.machineConfigName);
    expectOrder(journal, [`${unit} finished`, journal.jobDone(unit)], ['network-pre.target reached', journal.jobDone('network-pre.target')],
      [unit, 'network-pre.target']);
    if (report !== undefined) {
      const exited = timestamp(report, unit, 'ExecMainExit');
      const reached = timestamp(report, 'network-pre.target', 'ActiveEnter');
      if (exited > reached) {
        throw new Error(`boot ${n}: systemctl show: ${unit} ExecMainExitTimestampMonotonic ${exited} is after`
          + ` network-pre.target ActiveEnterTimestampMonotonic ${reached}\n${excerpt(journal, [unit, 'network-pre.target'])}`);
      }
    }
  }
}

/** Each module was loaded by the worker in boot `n`, before network-pre.target and before NetworkManager started. */
export function expectLoadedBeforeNetwork(node: TierNode, n: number, modules: readonly ResolvedMachineConfigOptions[]): void {
  expectReplaceBeforeNetworkPre(node, n, modules);
  const journal = node.bootJournal(n);
  for (const options of modules) {
    const module = options.kernelModuleName;
    const units = [replaceUnitName(options.machineConfigName), 'network-pre.target', 'NetworkManager.service'];
    expectOrder(journal, [`${module} loaded`, journal.loaded(module)], ['network-pre.target reached', journal.jobDone('network-pre.target')], units);
    expectOrder(journal, [`${module} loaded`, journal.loaded(module)], ['NetworkManager starting', journal.starting('NetworkManager.service')], units);
  }
}

/**
 * The pull unit's script ran after network-online.target and after the dispatcher had
 * finished: its first line (written after its first podman call, which follows the wait of
 * ExecStartPre) came after both.
 */
export function expectPullAfterNetworkOnlineAndDispatcher(journal: BootJournal, options: ResolvedMachineConfigOptions): void {
  const unit = pullUnitName(options.machineConfigName);
  const firstCall = journal.output(unit).find((e) => e.identifier === 'pull-kernel-module-image.sh')?.mono;
  const units = [unit, 'network-online.target', 'NetworkManager-dispatcher.service'];
  expectOrder(journal, ['network-online.target reached', journal.jobDone('network-online.target')], [`${unit} starting`, journal.starting(unit)], units);
  expectOrder(journal, ['NetworkManager-dispatcher started', journal.jobDone('NetworkManager-dispatcher.service')],
    [`${unit}'s script's first line`, firstCall], units);
  // The dispatcher was still busy when the unit started: the wait script had something to wait for.
  expectOrder(journal, [`${unit} starting`, journal.starting(unit)],
    ['NetworkManager-dispatcher finished', journal.deactivated('NetworkManager-dispatcher.service')], units);
  expectOrder(journal, ['NetworkManager-dispatcher finished', journal.deactivated('NetworkManager-dispatcher.service')],
    [`${unit}'s script's first line`, firstCall], units);
}

/** No unit of the boot left a process in its control group for systemd to find. */
export function expectNoLeftovers(journal: BootJournal): void {
  const found = journal.leftovers();
  if (found.length > 0) {
    throw new Error(`boot ${journal.bootId}: systemd found left-over processes:\n${found.map((e) => `[${e.mono}] ${e.message}`).join('\n')}`);
  }
}

/**
 * No two worker runs overlapped in the boot: every "loading M" is followed by its "loaded M"
 * (or an error) before the next "loading" (issue #10: one load at a time in a pool).
 */
export function expectNoConcurrentLoads(journal: BootJournal): void {
  let running: string | undefined;
  for (const entry of journal.worker()) {
    const loading = /^loading (\S+)/.exec(entry.message);
    const loaded = /^loaded (\S+)$/.exec(entry.message);
    if (loading) {
      if (running !== undefined) {
        throw new Error(`boot ${journal.bootId}: ${loading[1]} started loading while ${running} was still loading`
          + `\n${journal.text(/kmm-worker|replace-kernel-module/)}`);
      }
      running = loading[1];
    } else if (loaded === null || loaded[1] === running) {
      // Its load ended (or the worker failed, which ends it too).
      running = undefined;
    }
  }
}

/** No unit failed in the boot the report is of; a failure carries those units' journal lines. */
export function expectNoFailedUnits(journal: BootJournal, report: ProbeReport): void {
  if (report.failed.length > 0) {
    throw new Error(`boot ${journal.bootId}: failed units ${report.failed.join(', ')}\n${report.failed.map((unit) => journal.unitText(unit)).join('\n')}`);
  }
}
