import { availableParallelism } from 'os';
import { IN_CI } from '../util/oracles';

/*
 * One place for the knobs of the property suite, so that CI and a developer reproducing a
 * failure run exactly the same cases. A failure report starts with fast-check's `seed` and
 * `path`; KMM_DAY1_FC_SEED=<seed> KMM_DAY1_FC_PATH=<path> replays it without the search.
 *
 * Depth: with CI=true (CI runs the full suite) 10,000 runs per input field; without it a
 * local depth that keeps `npx projen test` within two minutes on two cores. The seed is the
 * same, so the local runs are the first runs of CI's. The KMM_DAY1_FC_* variables override
 * either (KMM_DAY1_FC_RUNS=10000 runs CI's depth locally).
 */

function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Runs per input field. */
export const RUNS = envInt('KMM_DAY1_FC_RUNS', IN_CI ? 10_000 : 300, 1);
/** Configurations run through bash (each spawns the replace script). */
export const NODE_RUNS = envInt('KMM_DAY1_FC_NODE_RUNS', IN_CI ? 200 : 8, 1);
/** Ignition configs checked with ignition-validate (one process each); half as many systemd-analyze runs. */
export const IGNITION_RUNS = envInt('KMM_DAY1_FC_IGNITION_RUNS', IN_CI ? 50 : 4, 1);
/** Which depth runs, for the line the suite prints. */
export const DEPTH = `${IN_CI ? 'CI=true' : 'local (CI unset)'}: ${RUNS} runs per input field, ${NODE_RUNS} bash and ${IGNITION_RUNS} ignition-validate configurations`
  + `${IN_CI ? '' : '; CI=true runs 10000, 200 and 50'}`;
/** Fixed by default: CI must see the same cases on every run, and a red build must be replayable. */
export const SEED = envInt('KMM_DAY1_FC_SEED', 20_240_607, -(2 ** 31));
/** Replays one failure (with its seed) instead of searching. */
export const REPLAY_PATH = process.env.KMM_DAY1_FC_PATH === '' ? undefined : process.env.KMM_DAY1_FC_PATH;
/**
 * Worker threads that run the properties; 0 runs them inside the jest worker (slower, but
 * with coverage and a debugger). Default: one per CPU.
 */
export const WORKERS = envInt('KMM_DAY1_FC_WORKERS', availableParallelism(), 0);
