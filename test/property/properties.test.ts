import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Chart, Yaml } from 'cdk8s';
import { Outcome, PropertyCase, shareProblem } from './case';
import { CASES } from './cases';
import { isLabelKey, isSubdomain } from './cases/constructs';
import { PropertyPool } from './pool';
import { DEPTH } from './settings';
import { plainScalarDisagreement } from './yaml-dialects';
import { Day1KernelModule, KmmMachineConfigPool } from '../../src';
import { withIgnitionValidate, withSystemdAnalyze } from '../util/oracles';

/*
 * Every input of produceMachineConfig and of the constructs, 10,000 values each in CI (see
 * settings.ts for the knobs and the local depth): rejected with an error that names the input, or intact wherever
 * it lands (the YAML in every dialect, the unit's environment, the worker config). The
 * properties themselves live in cases/; here they are run (in worker threads, see pool.ts)
 * and their oracles are checked for not being vacuous.
 */

// Visible in every run, so that a quick local pass is never mistaken for CI's depth.
process.stderr.write(`\nproperty suite depth: ${DEPTH}\n`);

const pool = new PropertyPool();
const outcomes: Outcome[] = [];
afterAll(async () => {
  await pool.close();
  if (process.env.KMM_DAY1_FC_REPORT === '1') {
    // eslint-disable-next-line no-console
    console.log(['| property | runs | accepted | rejected | ms |', '| --- | ---: | ---: | ---: | ---: |',
      ...outcomes.map((o) => `| ${o.name.replace(/ \(.*\)$/, '')} | ${o.runs} | ${o.accepted} | ${o.rejected} | ${o.ms} |`)].join('\n'));
  }
});

const TIMEOUT = 600_000;

async function runAndJudge(c: PropertyCase): Promise<void> {
  const outcome = await pool.run(c.name);
  outcomes.push(outcome);
  if (outcome.failed) {
    throw new Error(outcome.report);
  }
  const problem = shareProblem(c, outcome);
  if (problem !== undefined) {
    throw new Error(problem);
  }
}


describe('oracles', () => {
  test.each([
    ['0o17', 'number'], ['1_0', 'string'], ['0B101', 'string'], ['yes', 'string'], ['2001-12-14', 'timestamp'], ['e5', 'string'],
  ] as const)('the YAML dialect oracle flags %s (a %s to js-yaml)', (plain, kind) => {
    expect(plainScalarDisagreement(plain, kind)).toBeDefined();
  });

  test.each([
    ['ice', 'string'], ['8250', 'number'], ['3.2.0', 'string'], ['493', 'number'], ['true', 'boolean'], ['quay.io/a/b:1', 'string'],
  ] as const)('the YAML dialect oracle passes %s (a %s to every reader)', (plain, kind) => {
    expect(plainScalarDisagreement(plain, kind)).toBeUndefined();
  });

  test('the Kubernetes grammar checks tell valid from invalid', () => {
    expect([isSubdomain('a.b-c'), isSubdomain('A'), isLabelKey('node-role.kubernetes.io/worker'), isLabelKey('a b'), isLabelKey('x/')])
      .toEqual([true, false, true, false, false]);
  });

  test('each file `cdk8s synth` writes is Yaml.stringify(...chart.toJson()), which the construct properties load', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'kmm-day1-synth-'));
    try {
      const app = new App({ outdir });
      const pools = new Chart(app, 'pools');
      const sfc = new KmmMachineConfigPool(pools, 'p', { name: 'sfc' });
      const modules = new Chart(app, 'modules');
      const kmm = new Chart(app, 'kmm');
      new Day1KernelModule(modules, 'm', { pool: sfc, kernelModuleImage: 'quay.io/a/ice', kernelModuleName: 'ice' }).handOverToKmm({ scope: kmm });
      const expected = [pools, modules, kmm].map((chart) => Yaml.stringify(...chart.toJson()));
      app.synth();
      const written = ['pools', 'modules', 'kmm'].map((chart) => {
        const file = readdirSync(outdir).find((f) => f.endsWith(`${chart}.k8s.yaml`));
        return readFileSync(join(outdir, file!), 'utf8');
      });
      expect(written).toEqual(expected);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

/**
 * Concurrent when the oracle is there; otherwise whatever test/util/oracles.ts decides (a loud
 * skip locally, a failure in CI).
 */
function concurrentWith(oracle: jest.It): jest.It | typeof test.concurrent {
  return oracle === test ? test.concurrent : oracle;
}

// The sampled runs start processes and take longest: first in the queue, so that the other
// worker thread works through the fuzzed inputs meanwhile.
describe('on a node (sampled)', () => {
  const [bash, ignition, systemd, quote] = CASES.node;
  test.concurrent(bash.name, () => runAndJudge(bash), TIMEOUT);
  concurrentWith(withIgnitionValidate())(ignition.name, () => runAndJudge(ignition), TIMEOUT);
  concurrentWith(withSystemdAnalyze())(systemd.name, () => runAndJudge(systemd), TIMEOUT);
  concurrentWith(withSystemdAnalyze())(quote.name, () => runAndJudge(quote), TIMEOUT);
});

for (const [group, cases] of Object.entries({
  'produceMachineConfig': CASES.produce,
  'constructs': CASES.constructs,
  'systemd quoting': CASES.systemd,
  'data URLs': CASES.dataUrl,
})) {
  describe(group, () => {
    for (const c of cases) {
      test.concurrent(c.name, () => runAndJudge(c), TIMEOUT);
    }
  });
}

