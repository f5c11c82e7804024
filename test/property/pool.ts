import { join } from 'path';
import { Worker } from 'worker_threads';
import { Outcome, runCase } from './case';
import { caseNamed } from './cases';
import { WORKERS } from './settings';

/*
 * Runs properties in worker threads. Jest gives this suite one worker on a two-CPU machine,
 * and inside its sandbox (coverage, stack traces 100 frames deep for every rejected value)
 * each run costs about twice what it costs in plain node. Worker threads load the same
 * TypeScript sources through ts-node and use every CPU, which is what keeps 10,000 runs per
 * input within a minute. KMM_DAY1_FC_WORKERS=0 runs everything inside jest instead.
 */

const ROOT = join(__dirname, '..', '..');

const WORKER_SOURCE = `
const { parentPort } = require('worker_threads');
require('ts-node').register({ transpileOnly: true, project: ${JSON.stringify(join(ROOT, 'test', 'tsconfig.json'))} });
const { runCase } = require(${JSON.stringify(join(__dirname, 'case.ts'))});
const { caseNamed } = require(${JSON.stringify(join(__dirname, 'cases', 'index.ts'))});
parentPort.on('message', ({ id, name }) => {
  let outcome;
  try {
    outcome = runCase(caseNamed(name));
  } catch (error) {
    outcome = { name, failed: true, report: String(error && error.stack || error), runs: 0, accepted: 0, rejected: 0, ms: 0 };
  }
  parentPort.postMessage({ id, outcome });
});
`;

interface Job {
  readonly id: number;
  readonly name: string;
  readonly resolve: (outcome: Outcome) => void;
  readonly reject: (error: Error) => void;
}

export class PropertyPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private nextId = 0;

  constructor(size: number = WORKERS) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, env: process.env });
      worker.on('message', ({ outcome }: { id: number; outcome: Outcome }) => {
        const job = this.running.get(worker)!;
        this.running.delete(worker);
        this.idle.push(worker);
        job.resolve(outcome);
        this.dispatch();
      });
      worker.on('error', (error) => {
        const job = this.running.get(worker);
        this.running.delete(worker);
        job?.reject(error);
      });
      // Idle workers must not keep jest waiting at the end.
      worker.unref();
      this.all.push(worker);
      this.idle.push(worker);
    }
  }

  /** Runs the named property (in-band when the pool has no workers). */
  public run(name: string): Promise<Outcome> {
    if (this.all.length === 0) {
      return Promise.resolve(runCase(caseNamed(name)));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, name, resolve, reject });
      this.dispatch();
    });
  }

  public async close(): Promise<void> {
    await Promise.all(this.all.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(worker, job);
      worker.ref();
      worker.postMessage({ id: job.id, name: job.name });
    }
    for (const worker of this.idle) worker.unref();
  }
}
