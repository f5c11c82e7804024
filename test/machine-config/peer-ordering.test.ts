import { spawnSync } from 'child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { load } from 'js-yaml';
import { produceMachineConfig, ProduceMachineConfigOptions, renderDay1Ignition } from '../../src';
import { BootUnit, bootScripts, pullUnit, replaceUnit } from '../../src/boot';
import { resolveMachineConfigOptions } from '../../src/machine-config';
import { withSystemdAnalyze } from '../util/oracles';
import { directives, parseUnitFile } from '../util/systemd';

/*
 * peerMachineConfigNames: the replace units of one pool in one total order by name, so that
 * no two loads overlap, written so that systemd accepts it.
 */

function options(name: string, peers?: string[]): ProduceMachineConfigOptions {
  return {
    machineConfigName: name,
    machineConfigPoolRef: 'sfc',
    kernelModuleImage: `quay.io/example/${name}`,
    kernelModuleName: name.replace(/-/g, '_'),
    ...(peers === undefined ? {} : { peerMachineConfigNames: peers }),
  };
}

function replaceUnitOf(name: string, peers?: string[]) {
  return parseUnitFile(replaceUnit(resolveMachineConfigOptions(options(name, peers))).contents);
}

describe('peerMachineConfigNames', () => {
  test('validated: names checked, duplicates and this MachineConfig dropped, the rest sorted by bytes', () => {
    expect(resolveMachineConfigOptions(options('m', ['z', 'b', 'm', 'a.b', 'b', '10-x', '9-x', 'a-b'])).peerMachineConfigNames)
      .toEqual(['10-x', '9-x', 'a-b', 'a.b', 'b', 'z']);
    expect(resolveMachineConfigOptions(options('m')).peerMachineConfigNames).toEqual([]);
    expect(resolveMachineConfigOptions(options('m', [])).peerMachineConfigNames).toEqual([]);
  });

  test.each<[string, unknown, string]>([
    ['not a list', 'a,b', 'Invalid peerMachineConfigNames "a,b": must be a list of MachineConfig names'],
    ['an invalid name', ['ok', 'Not_OK'], 'Invalid peerMachineConfigNames[1] "Not_OK": must be a DNS-1123 subdomain'],
    ['an empty name', [''], 'Invalid peerMachineConfigNames[0] "": is required and must not be empty'],
    ['a name too long for the unit names', ['a'.repeat(223)], 'Invalid peerMachineConfigNames[0] "aaaa'],
  ])('%s: an error naming the entry', (_, peers, message) => {
    expect(() => produceMachineConfig(options('m', peers as string[]))).toThrow(message);
  });

  test('the replace unit loads after the peers that sort before it and before the others', () => {
    const unit = replaceUnitOf('99-sfc-m', ['99-sfc-z', '00-sfc-a', '99-sfc-b']);
    expect(directives(unit, 'Unit', 'After')).toEqual([
      'local-fs.target', '00-sfc-a-replace-kernel-module.service', '99-sfc-b-replace-kernel-module.service',
    ]);
    expect(directives(unit, 'Unit', 'Before')).toEqual(['network-pre.target', '99-sfc-z-replace-kernel-module.service']);
    // Ordering only: a peer missing on a node (another pool, or rewritten under another name) does not block the load.
    for (const key of ['Requires', 'Wants', 'BindsTo', 'Requisite']) {
      expect(directives(unit, 'Unit', key).filter((v) => v.includes('kernel-module'))).toEqual([]);
    }
  });

  test('every pair of a pool is ordered the same way from both sides: one total order by name', () => {
    const names = ['99-sfc-c', '99-sfc-a', '50-worker-x', '99-sfc-b'];
    const units = new Map(names.map((name) => [name, replaceUnitOf(name, names)]));
    const sorted = [...names].sort();
    for (const [i, first] of sorted.entries()) {
      for (const second of sorted.slice(i + 1)) {
        expect(directives(units.get(first)!, 'Unit', 'Before')).toContain(`${second}-replace-kernel-module.service`);
        expect(directives(units.get(second)!, 'Unit', 'After')).toContain(`${first}-replace-kernel-module.service`);
        expect(directives(units.get(first)!, 'Unit', 'After')).not.toContain(`${second}-replace-kernel-module.service`);
      }
    }
  });

  test('no peers: no ordering line, the same MachineConfig as before the option existed', () => {
    const unit = replaceUnitOf('99-sfc-m');
    expect(directives(unit, 'Unit', 'After')).toEqual(['local-fs.target']);
    expect(directives(unit, 'Unit', 'Before')).toEqual(['network-pre.target']);
    expect(produceMachineConfig(options('99-sfc-m', []))).toBe(produceMachineConfig(options('99-sfc-m')));
    expect(produceMachineConfig(options('99-sfc-m', ['99-sfc-m']))).toBe(produceMachineConfig(options('99-sfc-m')));
  });

  test('only the replace unit is ordered; the pull unit and the rest of the MachineConfig do not change', () => {
    const alone = load(produceMachineConfig(options('99-sfc-m'))) as any;
    const withPeers = load(produceMachineConfig(options('99-sfc-m', ['99-sfc-a']))) as any;
    expect(withPeers.spec.config.systemd.units[1]).toEqual(alone.spec.config.systemd.units[1]);
    expect(withPeers.spec.config.systemd.units[2]).toEqual(alone.spec.config.systemd.units[2]);
    expect(withPeers.spec.config.storage).toEqual(alone.spec.config.storage);
    expect(withPeers.metadata).toEqual(alone.metadata);
    expect(withPeers.spec.config.systemd.units[0].contents).toBe(
      alone.spec.config.systemd.units[0].contents.replace('RequiresMountsFor=/var/lib/containers\n',
        'RequiresMountsFor=/var/lib/containers\nAfter=99-sfc-a-replace-kernel-module.service\n'));
    expect(renderDay1Ignition(options('99-sfc-m', ['99-sfc-a']))).toEqual(withPeers.spec.config);
  });
});

describe('systemd-analyze verify, a pool of three MachineConfigs that name each other', () => {
  const testVerify = withSystemdAnalyze();
  let root: string | undefined;
  afterEach(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
    root = undefined;
  });

  function hostUnitDir(): string {
    const dir = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((candidate) => existsSync(join(candidate, 'multi-user.target')));
    if (dir === undefined) throw new Error('systemd-analyze is installed but its unit directory (with multi-user.target) was not found');
    return dir;
  }

  function verify(units: BootUnit[]): { status: number | null; output: string } {
    root = mkdtempSync(join(tmpdir(), 'kmm-day1-peers-'));
    cpSync(hostUnitDir(), join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    for (const unit of units) writeFileSync(join(root, 'etc/systemd/system', unit.name), unit.contents);
    for (const script of bootScripts()) {
      const file = join(root, script.path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, script.contents);
      chmodSync(file, 0o755);
    }
    const result = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units.map((unit) => `/etc/systemd/system/${unit.name}`)], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '', SYSTEMD_LOG_LEVEL: 'info' },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  const names = ['99-sfc-kmm-day1-sfc', '99-sfc-kmm-day1-ice', '50-worker-kmm-day1-mlx'];
  const pool = names.map((name) => resolveMachineConfigOptions(options(name, names)));

  testVerify('all six units: no output at all', () => {
    const units = pool.flatMap((o) => [replaceUnit(o), pullUnit(o)]);
    expect(units.filter((u) => u.contents.includes('-replace-kernel-module.service\n'))).toHaveLength(3);
    expect(verify(units)).toEqual({ status: 0, output: '' });
  });

  testVerify('a peer that is not on the node (handed over and renamed, or another pool): still no output', () => {
    const units = [replaceUnit(pool[0]), pullUnit(pool[0])];
    expect(verify(units)).toEqual({ status: 0, output: '' });
  });

  testVerify('the oracle is live: a bad directive among the peer lines is reported', () => {
    const a = replaceUnit(pool[2]);
    const broken = { name: a.name, contents: a.contents.replace('\n\n[Service]', '\nBogus=1\n\n[Service]') };
    expect(broken.contents).toContain('-replace-kernel-module.service\nBogus=1\n');
    expect(verify([broken]).output).toContain("Unknown key 'Bogus' in section [Unit]");
  });
});
