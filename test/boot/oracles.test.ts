import { spawnSync } from 'child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { moduleOptions, SCRIPTS } from './harness';
import {
  BootUnit, bootScripts, PULL_TIMEOUT_SECONDS, pullUnit, REPLACE_TIMEOUT_SECONDS, replaceUnit,
} from '../../src/boot';
import {
  KMM_OPERATOR_FIXTURES, KMM_OPERATOR_SCRIPTS, kmmOperatorMachineConfig, kmmOperatorScript,
} from '../util/kmm-operator';
import { withShellcheck, withSystemdAnalyze } from '../util/oracles';
import { directives, parseUnitFile } from '../util/systemd';

/*
 * The real tools judge what we ship: shellcheck every script, systemd-analyze verify both
 * units with the scripts installed where the units expect them. Each oracle also gets a
 * known-bad input, so a setup that silently checks nothing fails here.
 */

const FAKEBIN = join(__dirname, 'fakes', 'fakebin.sh');

function shellcheck(file: string): { status: number | null; output: string } {
  // --norc: a stray .shellcheckrc must not switch checks off.
  const result = spawnSync('shellcheck', ['--norc', '--format=gcc', file], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('shellcheck', () => {
  const testShellcheck = withShellcheck();

  testShellcheck.each(Object.entries(SCRIPTS))('%s script: no finding at the default severity', (_, file) => {
    expect(shellcheck(file)).toEqual({ status: 0, output: '' });
  });

  testShellcheck('the test double fakebin.sh: no finding either', () => {
    expect(shellcheck(FAKEBIN)).toEqual({ status: 0, output: '' });
  });

  testShellcheck.each(KMM_OPERATOR_SCRIPTS.map((script) => script.file))('the KMM operator stand-in %s: no finding either', (file) => {
    expect(shellcheck(join(KMM_OPERATOR_FIXTURES, file))).toEqual({ status: 0, output: '' });
  });

  testShellcheck('reports what the reference pull script got wrong (the oracle is live)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmm-day1-shellcheck-'));
    try {
      const file = join(dir, 'bad.sh');
      writeFileSync(file, '#!/bin/bash\nrm -f $kmm_config_file_filepath\n');
      const result = shellcheck(file);
      expect(result.status).toBe(1);
      expect(result.output).toContain('[SC2154]');
      expect(result.output).toContain('[SC2086]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Where this machine's systemd keeps its own units (targets and the like). */
function hostUnitDir(): string {
  const dir = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((candidate) => existsSync(join(candidate, 'multi-user.target')));
  if (dir === undefined) {
    throw new Error('systemd-analyze is installed but its unit directory (with multi-user.target) was not found');
  }
  return dir;
}

/**
 * A root filesystem with the host's systemd units (so network-pre.target and friends
 * resolve), our units in /etc/systemd/system as Ignition writes them, and our scripts in
 * /usr/local/bin with mode 0755.
 */
function nodeRoot(units: BootUnit[], scripts = bootScripts()): string {
  const root = mkdtempSync(join(tmpdir(), 'kmm-day1-verify-'));
  cpSync(hostUnitDir(), join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  for (const unit of units) {
    writeFileSync(join(root, 'etc/systemd/system', unit.name), unit.contents);
  }
  for (const script of scripts) {
    const file = join(root, script.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, script.contents);
    chmodSync(file, 0o755);
  }
  return root;
}

function verify(root: string, units: BootUnit[]): { status: number | null; output: string } {
  const result = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units.map((unit) => `/etc/systemd/system/${unit.name}`)], {
    encoding: 'utf8',
    env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '', SYSTEMD_LOG_LEVEL: 'info' },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('systemd-analyze verify', () => {
  const testVerify = withSystemdAnalyze();
  const roots: string[] = [];
  afterEach(() => {
    for (const root of roots.splice(0)) {
      rmSync(root, { recursive: true, force: true });
    }
  });
  function tempRoot(units: BootUnit[], scripts = bootScripts()): string {
    const dir = nodeRoot(units, scripts);
    roots.push(dir);
    return dir;
  }

  const everything = moduleOptions({
    firmwareFilesPath: '/firmware/ice',
    inTreeModulesToRemove: ['ice', 'irdma'],
    moduleParameters: ['debug=1', 'rss_queues=4,4'],
    workerImage: 'registry.example.com:5000/kmm/worker@sha256:' + 'ab'.repeat(32),
  });
  const minimal = moduleOptions({ machineConfigName: 'm' });

  testVerify.each([
    ['every option set', everything],
    ['only the required options', minimal],
  ])('both units, %s: no output at all', (_, options) => {
    const units = [replaceUnit(options), pullUnit(options)];
    expect(verify(tempRoot(units), units)).toEqual({ status: 0, output: '' });
  });

  testVerify('the units of two MachineConfigs side by side: no output at all', () => {
    const units = [replaceUnit(everything), pullUnit(everything), replaceUnit(minimal), pullUnit(minimal)];
    expect(verify(tempRoot(units), units)).toEqual({ status: 0, output: '' });
  });

  testVerify('the KMM operator stand-in\'s units, with its scripts: no output at all (the stand-in is a valid unit pair)', () => {
    const machineConfig = kmmOperatorMachineConfig({
      machineConfigName: '99-oot-nic-kmm-day1-ice',
      machineConfigPoolName: 'oot-nic',
      kernelModuleImage: 'quay.io/example/ice-driver',
      kernelModuleName: 'ice',
      inTreeModulesToRemove: ['ice'],
      firmwareFilesPath: '/opt/lib/firmware/intel/ice',
    });
    const units: BootUnit[] = machineConfig.spec.config.systemd.units.filter((unit: BootUnit) => unit.contents !== undefined);
    const scripts = KMM_OPERATOR_SCRIPTS.map((script) => ({ path: script.path, contents: kmmOperatorScript(script.path) }));
    expect(units).toHaveLength(2);
    expect(verify(tempRoot(units, scripts), units)).toEqual({ status: 0, output: '' });
  });

  testVerify('reports a script missing from the root (the units really point at our files)', () => {
    const units = [replaceUnit(minimal), pullUnit(minimal)];
    const output = verify(tempRoot(units, bootScripts().filter((s) => !s.path.endsWith('/wait-for-dispatcher.sh'))), units).output;
    expect(output).toContain(`${units[1].name}: Command /usr/local/bin/wait-for-dispatcher.sh is not executable: No such file or directory`);
  });

  testVerify('reports a directive systemd does not know (the oracle is live)', () => {
    const unit = replaceUnit(minimal);
    const broken = { name: unit.name, contents: unit.contents.replace('[Install]\n', '[Install]\nWantedBy=multi-user.target\nBogus=1\n') };
    expect(verify(tempRoot([broken]), [broken]).output).toContain("Unknown key 'Bogus' in section [Install], ignoring.");
  });
});

function scriptDefault(file: string, pattern: RegExp): number {
  const match = pattern.exec(readFileSync(file, 'utf8'));
  if (!match) {
    throw new Error(`${pattern} not found in ${file}`);
  }
  return Number(match[1]);
}

describe('time budget', () => {
  test('the worst case of the pull unit (dispatcher wait, then two images each retried to the limit) fits its TimeoutStartSec', () => {
    const attempts = scriptDefault(SCRIPTS.pull, /KMM_DAY1_PULL_ATTEMPTS:-(\d+)/);
    const perAttempt = scriptDefault(SCRIPTS.pull, /KMM_DAY1_PULL_TIMEOUT:-(\d+)/) + scriptDefault(SCRIPTS.pull, /^kill_after=(\d+)$/m);
    const firstDelay = scriptDefault(SCRIPTS.pull, /KMM_DAY1_RETRY_DELAY:-(\d+)/);
    const dispatcherTimeout = scriptDefault(SCRIPTS.wait, /KMM_DAY1_DISPATCHER_TIMEOUT:-(\d+)/);
    const interval = scriptDefault(SCRIPTS.wait, /KMM_DAY1_DISPATCHER_INTERVAL:-(\d+)/);

    const waiting = Math.ceil(dispatcherTimeout / interval) * interval;
    let backOff = 0;
    for (let retry = 0; retry < attempts - 1; retry++) {
      backOff += firstDelay * 2 ** retry;
    }
    // The first image may succeed only on its last attempt before the second exhausts its own.
    const worst = waiting + 2 * (attempts * perAttempt + backOff);
    // Room for the quick calls in between: uname, podman image exists, systemctl show.
    const slack = 60;

    expect(worst).toBe(3470);
    expect(worst + slack).toBeLessThanOrEqual(PULL_TIMEOUT_SECONDS);
    expect(directives(parseUnitFile(pullUnit(moduleOptions()).contents), 'Service', 'TimeoutStartSec')).toEqual([String(PULL_TIMEOUT_SECONDS)]);
  });

  test('the reboot wait is bounded by what is left of the budget of the unit that runs the script: ours and the KMM operator\'s', () => {
    const operatorPull = parseUnitFile(readFileSync(join(KMM_OPERATOR_FIXTURES, 'pull-kernel-module-image.service'), 'utf8'));
    expect(scriptDefault(SCRIPTS.pull, /^ours_budget=(\d+)$/m)).toBe(PULL_TIMEOUT_SECONDS);
    expect(scriptDefault(SCRIPTS.pull, /^kmm_budget=(\d+)$/m)).toBe(Number(directives(operatorPull, 'Service', 'TimeoutSec')[0]));
    expect(scriptDefault(SCRIPTS.pull, /^dispatcher_wait=(\d+)$/m)).toBe(scriptDefault(SCRIPTS.wait, /KMM_DAY1_DISPATCHER_TIMEOUT:-(\d+)/));
    expect(scriptDefault(SCRIPTS.pull, /^margin=(\d+)$/m)).toBeGreaterThanOrEqual(30);
    expect(scriptDefault(SCRIPTS.pull, /KMM_DAY1_REBOOT_WAIT:-(\d+)/)).toBe(600);
  });

  test('the replace unit, which holds back the network, is bounded too', () => {
    expect(directives(parseUnitFile(replaceUnit(moduleOptions()).contents), 'Service', 'TimeoutStartSec')).toEqual([String(REPLACE_TIMEOUT_SECONDS)]);
    expect(REPLACE_TIMEOUT_SECONDS).toBeLessThanOrEqual(300);
  });
});
