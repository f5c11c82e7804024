import * as fc from 'fast-check';
import { REPLAY_PATH, SEED } from './settings';

/*
 * A property of the suite, in a form that runs anywhere: inside jest, or in a worker thread
 * (see pool.ts), where there is no `expect`. Properties count how many values were accepted
 * and how many rejected, so that the suite can tell when its generators drift towards only
 * one outcome, which would prove little.
 */

export interface Stats {
  accepted: number;
  rejected: number;
}

export interface PropertyCase {
  /** Unique; also the test title. */
  readonly name: string;
  readonly runs: number;
  /** Both outcomes must be common: true for a fuzzed input, false for samples of accepted values. */
  readonly bothOutcomes: boolean;
  readonly property: (stats: Stats) => fc.IProperty<any>;
  /** Removes what `property` set up (temporary files). */
  readonly after?: () => void;
  /** Some values must be refused (for properties where refusals are rare but must exist). */
  readonly mustRefuseSome?: boolean;
}

export interface Outcome {
  readonly name: string;
  readonly failed: boolean;
  /** fast-check's report (seed, path, counterexample) and the error, when failed. */
  readonly report?: string;
  readonly runs: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly ms: number;
}

export function runCase(c: PropertyCase): Outcome {
  const stats: Stats = { accepted: 0, rejected: 0 };
  const started = Date.now();
  let details: fc.RunDetails<unknown>;
  try {
    details = fc.check(c.property(stats), {
      numRuns: c.runs,
      seed: SEED,
      ...(REPLAY_PATH === undefined ? {} : { path: REPLAY_PATH }),
      // A property that rarely accepts a value proves little; fast-check fails it after this many skips.
      maxSkipsPerRun: 100,
    });
  } finally {
    c.after?.();
  }
  const error = details.errorInstance;
  const cause = error instanceof Error ? error.stack ?? error.message : error === undefined ? '' : String(error);
  return {
    name: c.name,
    failed: details.failed,
    report: details.failed ? `${fc.defaultReportMessage(details)}\n\n${cause}` : undefined,
    runs: details.numRuns,
    accepted: stats.accepted,
    rejected: stats.rejected,
    ms: Date.now() - started,
  };
}

/** Why the outcome counts prove too little: one outcome missing, or rare where both must be common. */
export function shareProblem(c: PropertyCase, outcome: Outcome): string | undefined {
  if (c.mustRefuseSome && outcome.rejected === 0) {
    return `${outcome.name}: no value was refused in ${outcome.accepted} runs; the generators miss the refused kind`;
  }
  if (!c.bothOutcomes) return undefined;
  const total = outcome.accepted + outcome.rejected;
  // Below a few hundred values the share says little; the local depth (300) is just above.
  if (total < 250) return undefined;
  const share = outcome.accepted / total;
  return share < 0.15 || share > 0.85
    ? `${outcome.name}: ${(share * 100).toFixed(1)} % of ${total} values accepted; adjust test/property/arbitraries.ts so both outcomes stay common`
    : undefined;
}
