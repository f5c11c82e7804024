import { availableParallelism } from 'os';

/*
 * One place for the knobs of the property suite, so that CI and a developer reproducing a
 * failure run exactly the same cases. A failure report starts with fast-check's `seed` and
 * `path`; KMM_DAY1_FC_SEED=<seed> KMM_DAY1_FC_PATH=<path> replays it without the search.
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
export const RUNS = envInt('KMM_DAY1_FC_RUNS', 10_000, 1);
/** Configurations run through bash (each spawns the replace script). */
export const NODE_RUNS = envInt('KMM_DAY1_FC_NODE_RUNS', 200, 1);
/** Ignition configs checked with ignition-validate (one process each). */
export const IGNITION_RUNS = envInt('KMM_DAY1_FC_IGNITION_RUNS', 50, 1);
/** Fixed by default: CI must see the same cases on every run, and a red build must be replayable. */
export const SEED = envInt('KMM_DAY1_FC_SEED', 20_240_607, -(2 ** 31));
/** Replays one failure (with its seed) instead of searching. */
export const REPLAY_PATH = process.env.KMM_DAY1_FC_PATH === '' ? undefined : process.env.KMM_DAY1_FC_PATH;
/**
 * Worker threads that run the properties; 0 runs them inside the jest worker (slower, but
 * with coverage and a debugger). Default: one per CPU.
 */
export const WORKERS = envInt('KMM_DAY1_FC_WORKERS', availableParallelism(), 0);
