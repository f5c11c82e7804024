import { spawnSync } from 'child_process';
import { resolve } from 'path';

const ROOT = resolve(__dirname, '..', '..');

/** Runs jest on the fixture suite (one passing, one skipped test) with the reporter. */
function runFixture(ci: string, extraArgs: string[] = []) {
  const config = {
    rootDir: ROOT,
    testMatch: ['<rootDir>/test/fixtures/skipped-test/*.fixture.js'],
    reporters: ['<rootDir>/test/util/no-skipped-tests-reporter.js'],
  };
  const env: NodeJS.ProcessEnv = { ...process.env, CI: ci };
  return spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--config', JSON.stringify(config), ...extraArgs], {
    cwd: ROOT, env, encoding: 'utf8',
  });
}

describe('the no-skipped-tests reporter', () => {
  test('fails a run with a skipped test under CI=true, naming the test', () => {
    const run = runFixture('true');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('CI=true: 1 test(s) skipped');
    expect(run.stderr).toContain('test/fixtures/skipped-test/one-skipped.fixture.js: is skipped');
  });

  test('only reports the skipped test outside CI', () => {
    const run = runFixture('false');
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('1 test(s) skipped (this fails with CI=true)');
  });

  test('leaves a run narrowed with -t alone', () => {
    const run = runFixture('true', ['-t', 'runs']);
    expect(run.status).toBe(0);
  });
});
