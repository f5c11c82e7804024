import { gzipSync } from 'zlib';
import { load } from 'js-yaml';
import {
  MachineConfigConflictKind, MachineConfigMerge, mergeMachineConfigs, produceMachineConfig, ProduceMachineConfigOptions,
} from '../../src';
import { bootScripts, PULL_SCRIPT_PATH, REPLACE_SCRIPT_PATH, SCRIPT_PATHS, WAIT_SCRIPT_PATH } from '../../src/boot';
import { dataUrl } from '../../src/ignition';

const ROLE = 'machineconfiguration.openshift.io/role';

/** A Day 1 MachineConfig of this release, as the API server stores it. */
function day1(name: string, role: string, extra: Partial<ProduceMachineConfigOptions> = {}): any {
  return load(produceMachineConfig({
    machineConfigName: name,
    machineConfigPoolRef: role,
    kernelModuleImage: `quay.io/example/${name}`,
    kernelModuleName: 'ice',
    ...extra,
  }));
}

/** A MachineConfig of this library with other scripts: what an older (or newer) release looks like to the merge. */
function day1OtherRelease(name: string, role: string): any {
  const mc = day1(name, role);
  for (const file of mc.spec.config.storage.files) {
    file.contents.source = dataUrl(`#!/bin/bash\n# another release of ${file.path}\n`);
  }
  return mc;
}

function machineConfig(name: string, role: string | undefined, config: { files?: any[]; units?: any[] }): any {
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: { name, ...(role === undefined ? {} : { labels: { [ROLE]: role } }) },
    spec: { config: { ignition: { version: '3.2.0' }, storage: { files: config.files ?? [] }, systemd: { units: config.units ?? [] } } },
  };
}

/**
 * What the KMM operator makes of a handed-over MachineConfig: its own two units (no
 * MACHINE_CONFIG_NAME) and its own scripts at our three paths.
 */
function rewrittenByOperator(name: string, role: string): any {
  return machineConfig(name, role, {
    files: SCRIPT_PATHS.map((path) => ({ path, mode: 511, overwrite: true, contents: { source: dataUrl(`#!/bin/bash\n# operator ${path}\n`) } })),
    units: [
      {
        name: `${name}-replace-kernel-module.service`,
        enabled: true,
        contents: '[Unit]\nBefore=network-pre.target\n[Service]\nType=oneshot\nEnvironment="KERNEL_MODULE=ice"\nExecStart=/usr/local/bin/replace-kernel-module.sh\n',
      },
      { name: `${name}-pull-kernel-module-image.service`, enabled: true, contents: '[Service]\nType=oneshot\nExecStart=/usr/local/bin/pull-kernel-module-image.sh\n' },
      { name: 'crio-wipe.service', enabled: false, mask: true },
    ],
  });
}

const scriptText = (path: string) => bootScripts().find((s) => s.path === path)!.contents;
const percentEncoded = (text: string) => `data:,${encodeURIComponent(text)}`;

describe('mergeMachineConfigs: order', () => {
  test('base-role MachineConfigs first, then the others, each group by name', () => {
    const merged = mergeMachineConfigs([
      machineConfig('99-sfc-b', 'sfc', {}),
      machineConfig('99-worker-z', 'worker', {}),
      machineConfig('00-sfc-a', 'sfc', {}),
      machineConfig('50-worker', 'worker', {}),
      machineConfig('10-no-role', undefined, {}),
    ]);
    expect(merged.order).toEqual(['50-worker', '99-worker-z', '00-sfc-a', '10-no-role', '99-sfc-b']);
  });

  test('names compare byte by byte, not by locale or number', () => {
    const merged = mergeMachineConfigs(['a', 'B', '9-x', '10-x', 'a-b', 'a.b'].map((name) => machineConfig(name, 'sfc', {})));
    expect(merged.order).toEqual(['10-x', '9-x', 'B', 'a', 'a-b', 'a.b']);
  });

  test('baseRole chooses the group that comes first', () => {
    const list = [machineConfig('a', 'worker', {}), machineConfig('b', 'infra', {})];
    expect(mergeMachineConfigs(list).order).toEqual(['a', 'b']);
    expect(mergeMachineConfigs(list, { baseRole: 'infra' }).order).toEqual(['b', 'a']);
  });

  test('the input is not reordered or changed', () => {
    const list = [day1('b', 'sfc'), day1('a', 'sfc')];
    const before = JSON.stringify(list);
    mergeMachineConfigs(list);
    expect(JSON.stringify(list)).toBe(before);
  });
});

describe('mergeMachineConfigs: files', () => {
  test('a later file of the same path wins, field by field; writers in merge order', () => {
    const merged = mergeMachineConfigs([
      machineConfig('b', 'sfc', { files: [{ path: '/etc/x', mode: 384 }] }),
      machineConfig('a', 'sfc', { files: [{ path: '/etc/x', mode: 420, overwrite: false, contents: { source: 'data:,first' } }] }),
      machineConfig('c', 'sfc', { files: [{ path: '/etc/x', contents: { source: 'data:;base64,c2Vjb25k' } }] }),
    ]);
    expect(merged.files).toEqual([{
      path: '/etc/x', contents: 'second', source: 'data:;base64,c2Vjb25k', mode: 384, overwrite: false, machineConfigName: 'c', writers: ['a', 'b', 'c'],
    }]);
  });

  test('the winner is the last writer of contents, not the last writer', () => {
    const merged = mergeMachineConfigs([
      machineConfig('a', 'sfc', { files: [{ path: '/etc/x', contents: { source: 'data:,a' } }] }),
      machineConfig('b', 'sfc', { files: [{ path: '/etc/x', mode: 420 }] }),
    ]);
    expect(merged.files[0]).toMatchObject({ contents: 'a', machineConfigName: 'a', writers: ['a', 'b'], mode: 420 });
  });

  test('overwrite: true unless some writer set it; the last value set wins', () => {
    const merged = mergeMachineConfigs([
      machineConfig('a', 'sfc', { files: [{ path: '/none' }, { path: '/false', overwrite: false }, { path: '/again', overwrite: false }] }),
      machineConfig('b', 'sfc', { files: [{ path: '/again', overwrite: true }] }),
    ]);
    expect(merged.files.map((f) => [f.path, f.overwrite])).toEqual([['/none', true], ['/false', false], ['/again', true]]);
    expect(merged.files[0].source).toBeUndefined();
    expect(merged.files[0].contents).toBeUndefined();
    expect(merged.files[0].machineConfigName).toBe('a');
  });

  // One case per encoding: the codec's own cases are in test/ignition/data-url.test.ts.
  test.each([
    ['base64', 'data:text/plain;charset=utf-8;base64,aMOpCg==', 'hé\n'],
    ['percent-encoded', 'data:,h%C3%A9%0A', 'hé\n'],
  ])('contents decoded from a %s data URL', (_, source, text) => {
    const merged = mergeMachineConfigs([machineConfig('a', 'sfc', { files: [{ path: '/f', contents: { source } }] })]);
    expect(merged.files[0].contents).toBe(text);
    expect(merged.files[0].source).toBe(source);
  });

  test('gzip-compressed contents are decompressed; a remote source has no known contents', () => {
    const gzipped = `data:;base64,${gzipSync(Buffer.from('zipped\n')).toString('base64')}`;
    const merged = mergeMachineConfigs([machineConfig('a', 'sfc', {
      files: [
        { path: '/gz', contents: { source: gzipped, compression: 'gzip' } },
        { path: '/remote', contents: { source: 'https://example.com/x' } },
      ],
    })]);
    expect(merged.files.map((f) => f.contents)).toEqual(['zipped\n', undefined]);
    expect(merged.files[1].source).toBe('https://example.com/x');
  });

  test('the Day 1 scripts of a MachineConfig decode to the scripts of this release', () => {
    const merged = mergeMachineConfigs([day1('a', 'sfc')]);
    expect(merged.files.map((f) => [f.path, f.contents, f.mode, f.overwrite]))
      .toEqual(SCRIPT_PATHS.map((path) => [path, scriptText(path), 493, true]));
  });
});

describe('mergeMachineConfigs: units', () => {
  test('merged by name, field by field; drop-ins by name', () => {
    const merged = mergeMachineConfigs([
      machineConfig('a', 'sfc', {
        units: [{
          name: 'x.service',
          enabled: true,
          contents: '[Service]\nExecStart=/bin/a\n',
          dropins: [{ name: '10-a.conf', contents: 'A' }, { name: '20-b.conf', contents: 'B' }],
        }],
      }),
      machineConfig('b', 'sfc', { units: [{ name: 'x.service', mask: true, dropins: [{ name: '20-b.conf', contents: 'B2' }, { name: '30-c.conf' }] }] }),
      machineConfig('c', 'sfc', { units: [{ name: 'y.service', enabled: false }] }),
    ]);
    expect(merged.units).toEqual([
      {
        name: 'x.service',
        enabled: true,
        mask: true,
        contents: '[Service]\nExecStart=/bin/a\n',
        dropins: [{ name: '10-a.conf', contents: 'A' }, { name: '20-b.conf', contents: 'B2' }, { name: '30-c.conf' }],
        machineConfigNames: ['a', 'b'],
      },
      { name: 'y.service', enabled: false, dropins: [], machineConfigNames: ['c'] },
    ]);
  });

  test('a later enabled: true does not unmask; a later mask: false does', () => {
    const masked = { name: 'crio-wipe.service', enabled: false, mask: true };
    const enabled = mergeMachineConfigs([machineConfig('a', 'sfc', { units: [masked] }), machineConfig('b', 'sfc', { units: [{ name: 'crio-wipe.service', enabled: true }] })]);
    expect(enabled.units[0]).toMatchObject({ enabled: true, mask: true });
    const unmasked = mergeMachineConfigs([machineConfig('a', 'sfc', { units: [masked] }), machineConfig('b', 'sfc', { units: [{ name: 'crio-wipe.service', mask: false }] })]);
    expect(unmasked.units[0]).toMatchObject({ enabled: false, mask: false });
  });

  test('two Day 1 MachineConfigs: their own units each, one crio-wipe.service, disabled and masked', () => {
    const merged = mergeMachineConfigs([day1('99-sfc-b', 'sfc'), day1('99-sfc-a', 'sfc')]);
    expect(merged.units.map((u) => [u.name, u.enabled, u.mask, u.machineConfigNames])).toEqual([
      ['99-sfc-a-replace-kernel-module.service', true, undefined, ['99-sfc-a']],
      ['99-sfc-a-pull-kernel-module-image.service', true, undefined, ['99-sfc-a']],
      ['crio-wipe.service', false, true, ['99-sfc-a', '99-sfc-b']],
      ['99-sfc-b-replace-kernel-module.service', true, undefined, ['99-sfc-b']],
      ['99-sfc-b-pull-kernel-module-image.service', true, undefined, ['99-sfc-b']],
    ]);
    expect(merged.files.map((f) => f.writers)).toEqual([['99-sfc-a', '99-sfc-b'], ['99-sfc-a', '99-sfc-b'], ['99-sfc-a', '99-sfc-b']]);
  });
});

describe('mergeMachineConfigs: conflicts', () => {
  test('none between two Day 1 MachineConfigs of this release, in a custom pool and its base role', () => {
    expect(mergeMachineConfigs([day1('99-sfc-ice', 'sfc'), day1('99-worker-mlx', 'worker')]).conflicts).toEqual([]);
  });

  test('none between this release and another release of this library (its units set MACHINE_CONFIG_NAME), in either order', () => {
    for (const names of [['a', 'b'], ['b', 'a']]) {
      const merged = mergeMachineConfigs([day1(names[0], 'sfc'), day1OtherRelease(names[1], 'sfc')]);
      expect(merged.conflicts).toEqual([]);
      // The other release's scripts do win when it sorts last: that is what its units accept.
      expect(merged.files[0].machineConfigName).toBe('b');
    }
  });

  test('none with unrelated foreign MachineConfigs (other files, other units, crio-wipe left masked)', () => {
    const merged = mergeMachineConfigs([
      day1('99-sfc-ice', 'sfc'),
      machineConfig('00-worker-chrony', 'worker', {
        files: [{ path: '/etc/chrony.conf', contents: { source: 'data:,server%20x' } }, { path: '/usr/local/bin/other.sh', contents: { source: 'data:,x' } }],
        units: [{ name: 'chronyd.service', enabled: true }, { name: 'crio-wipe.service', enabled: false }, { name: 'ice-replace-kernel-module.service', enabled: true }],
      }),
      machineConfig('99-sfc-kargs', 'sfc', {}),
    ]);
    expect(merged.conflicts).toEqual([]);
  });

  test('none with a foreign MachineConfig that writes exactly this release\'s scripts, however encoded', () => {
    const merged = mergeMachineConfigs([
      day1('99-sfc-ice', 'sfc'),
      machineConfig('00-copy', 'sfc', {
        files: [
          { path: REPLACE_SCRIPT_PATH, contents: { source: percentEncoded(scriptText(REPLACE_SCRIPT_PATH)) } },
          { path: PULL_SCRIPT_PATH, contents: { source: `data:;base64,${gzipSync(scriptText(PULL_SCRIPT_PATH)).toString('base64')}`, compression: 'gzip' } },
          { path: WAIT_SCRIPT_PATH, mode: 493 },
        ],
      }),
    ]);
    expect(merged.conflicts).toEqual([]);
  });

  test('SCRIPT_CONTENTS: a foreign script at one of our paths, whatever the order; the message names the winner', () => {
    const other = (name: string) => machineConfig(name, 'sfc', { files: [{ path: PULL_SCRIPT_PATH, contents: { source: 'data:,%23!/bin/sh%0A' } }] });
    for (const [foreignName, winner] of [['00-first', '50-ours'], ['99-last', '99-last']]) {
      const merged = mergeMachineConfigs([day1('50-ours', 'sfc'), other(foreignName)]);
      expect(merged.conflicts).toEqual([{
        kind: MachineConfigConflictKind.SCRIPT_CONTENTS,
        machineConfigName: '50-ours',
        foreignMachineConfigName: foreignName,
        subject: PULL_SCRIPT_PATH,
        message: `MachineConfig "${foreignName}" writes ${PULL_SCRIPT_PATH} with other contents than the Day 1 scripts of MachineConfig "50-ours": `
          + `a node runs one copy of it, the one of the MachineConfig that comes last in the merge (here "${winner}"), and the units of both call it`,
      }]);
    }
  });

  test('SCRIPT_CONTENTS: our script at the wrong path is other contents too', () => {
    const merged = mergeMachineConfigs([
      day1('50-ours', 'sfc'),
      machineConfig('99-swapped', 'sfc', { files: [{ path: WAIT_SCRIPT_PATH, contents: { source: dataUrl(scriptText(PULL_SCRIPT_PATH)) } }] }),
    ]);
    expect(merged.conflicts.map((c) => [c.kind, c.subject])).toEqual([[MachineConfigConflictKind.SCRIPT_CONTENTS, WAIT_SCRIPT_PATH]]);
  });

  test.each([
    ['enables', { enabled: true }],
    ['unmasks', { mask: false }],
    ['enables and unmasks', { enabled: true, mask: false }],
  ])('CRIO_WIPE_ENABLED: a foreign MachineConfig that %s crio-wipe.service', (verb, fields) => {
    const merged = mergeMachineConfigs([day1('99-sfc-ice', 'sfc'), machineConfig('00-worker-wipe', 'worker', { units: [{ name: 'crio-wipe.service', ...fields }] })]);
    expect(merged.conflicts).toHaveLength(1);
    expect(merged.conflicts[0]).toMatchObject({
      kind: MachineConfigConflictKind.CRIO_WIPE_ENABLED, machineConfigName: '99-sfc-ice', foreignMachineConfigName: '00-worker-wipe', subject: 'crio-wipe.service',
    });
    expect(merged.conflicts[0].message).toMatch(new RegExp(`^MachineConfig "00-worker-wipe" ${verb} crio-wipe.service, which MachineConfig "99-sfc-ice" disables and masks`));
  });

  test('UNIT_NAME: a foreign MachineConfig that defines one of our unit names', () => {
    const merged = mergeMachineConfigs([
      day1('99-sfc-ice', 'sfc'),
      machineConfig('99-sfc-other', 'sfc', { units: [{ name: '99-sfc-ice-pull-kernel-module-image.service', mask: true }] }),
    ]);
    expect(merged.conflicts).toEqual([{
      kind: MachineConfigConflictKind.UNIT_NAME,
      machineConfigName: '99-sfc-ice',
      foreignMachineConfigName: '99-sfc-other',
      subject: '99-sfc-ice-pull-kernel-module-image.service',
      message: 'MachineConfig "99-sfc-other" defines unit 99-sfc-ice-pull-kernel-module-image.service, a boot unit of Day 1 MachineConfig "99-sfc-ice": '
        + 'units are merged by name, so the node runs one unit made of the fields of both',
    }]);
  });

  test('a MachineConfig rewritten by the KMM operator is foreign: it conflicts with every other Day 1 MachineConfig, script by script', () => {
    const merged = mergeMachineConfigs([day1('99-oot-nic-kmm-day1-sfc', 'oot-nic'), rewrittenByOperator('99-oot-nic-kmm-day1-ice', 'oot-nic'), day1('99-worker-a', 'worker')]);
    expect(merged.conflicts.map((c) => [c.kind, c.machineConfigName, c.foreignMachineConfigName, c.subject])).toEqual(
      ['99-worker-a', '99-oot-nic-kmm-day1-sfc'].flatMap((ours) => SCRIPT_PATHS.map((path) =>
        [MachineConfigConflictKind.SCRIPT_CONTENTS, ours, '99-oot-nic-kmm-day1-ice', path])));
    // The operator's scripts lose here: sfc sorts after ice.
    expect(merged.files.map((f) => f.machineConfigName)).toEqual(['99-oot-nic-kmm-day1-sfc', '99-oot-nic-kmm-day1-sfc', '99-oot-nic-kmm-day1-sfc']);
  });

  test('a replace unit without MACHINE_CONFIG_NAME, or named after another MachineConfig, does not make a MachineConfig ours', () => {
    const renamed = day1('99-sfc-ice', 'sfc');
    renamed.metadata.name = '99-sfc-renamed';
    const foreignScripts = machineConfig('00-scripts', 'sfc', { files: [{ path: REPLACE_SCRIPT_PATH, contents: { source: 'data:,x' } }] });
    expect(mergeMachineConfigs([renamed, foreignScripts]).conflicts).toEqual([]);
    expect(mergeMachineConfigs([rewrittenByOperator('99-sfc-ice', 'sfc'), foreignScripts]).conflicts).toEqual([]);
  });

  test('no Day 1 MachineConfig in the list: no conflict at all', () => {
    expect(mergeMachineConfigs([rewrittenByOperator('a', 'sfc'), rewrittenByOperator('b', 'sfc')]).conflicts).toEqual([]);
  });
});

describe('mergeMachineConfigs: input', () => {
  test('MachineConfigMerge.merge is the same function', () => {
    const list = [day1('a', 'sfc'), rewrittenByOperator('b', 'sfc')];
    expect(MachineConfigMerge.merge(list, { baseRole: 'sfc' })).toEqual(mergeMachineConfigs(list, { baseRole: 'sfc' }));
  });

  test('a MachineConfig without spec.config merges as empty', () => {
    expect(mergeMachineConfigs([{ metadata: { name: 'kargs' }, spec: { kernelArguments: ['x'] } }])).toEqual({ order: ['kargs'], files: [], units: [], conflicts: [] });
  });

  test.each<[string, unknown, string]>([
    ['not a list', 'x', 'Invalid machineConfigs "x": must be a list of MachineConfig objects'],
    ['an entry that is not an object', [1], 'Invalid machineConfigs[0] 1: must be a MachineConfig object'],
    ['no name', [{ metadata: {} }], 'Invalid machineConfigs[0].metadata.name undefined: must be a non-empty string'],
    ['a file without path', [machineConfig('a', 'sfc', { files: [{ mode: 420 }] })], 'Invalid machineConfigs[0].spec.config.storage.files[0].path undefined'],
    ['a unit with a numeric enabled', [machineConfig('a', 'sfc', { units: [{ name: 'x', enabled: 1 }] })], 'Invalid machineConfigs[0].spec.config.systemd.units[0].enabled 1: must be a boolean'],
    ['files that are not a list', [{ metadata: { name: 'a' }, spec: { config: { storage: { files: {} } } } }], 'Invalid machineConfigs[0].spec.config.storage.files {}: must be a list'],
  ])('%s: an error naming the field', (_, input, message) => {
    expect(() => mergeMachineConfigs(input as any[])).toThrow(message);
  });

  test('an invalid baseRole', () => {
    expect(() => mergeMachineConfigs([], { baseRole: 'a b' })).toThrow('Invalid options.baseRole "a b": must be a Kubernetes label value');
  });
});
