import { spawnSync } from 'child_process';

/*
 * External oracles (ignition-validate, shellcheck, systemd-analyze, kubectl ...). Missing locally: the tests that need one are skipped with a loud banner.
 * Missing with CI=true: those tests fail, because CI must install them (.ci/run).
 */

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
}

const warned = new Set<string>();

/**
 * `test` when the oracle is available; otherwise `test.skip` with a banner, or, in CI, a test
 * that fails with the reason (`remedy` says what to do about it).
 */
export function testWithOracle(oracle: string, available: boolean, remedy = 'install it: see .ci/run'): jest.It {
  if (available) {
    return test;
  }
  const reason = `${oracle} is not available (${remedy})`;
  if (IN_CI) {
    const failing = ((name: string) => test(name, () => {
      throw new Error(`CI=true but ${reason}`);
    })) as unknown as jest.It;
    return failing;
  }
  if (!warned.has(oracle)) {
    warned.add(oracle);
    // eslint-disable-next-line no-console
    console.warn(`\n${'!'.repeat(72)}\n!! SKIPPING tests that need ${reason}\n${'!'.repeat(72)}\n`);
  }
  return test.skip;
}

export const withIgnitionValidate = () => testWithOracle('ignition-validate', commandExists('ignition-validate'));
export const withShellcheck = () => testWithOracle('shellcheck', commandExists('shellcheck'));
export const withSystemdAnalyze = () => testWithOracle('systemd-analyze', commandExists('systemd-analyze'));
export const withKubectl = () => testWithOracle('kubectl', commandExists('kubectl'));
