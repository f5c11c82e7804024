import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { load } from 'js-yaml';
import { Day1MachineConfigProducer, IgnitionConfig, produceMachineConfig, ProduceMachineConfigOptions, renderDay1Ignition } from '../../src';
import { assembledScript } from '../../src/boot/scripts';
import { decodeDataUrl } from '../../src/ignition';
import { crdViolations } from '../util/crd';
import { withIgnitionValidate } from '../util/oracles';
import { REFERENCE_OPTIONS } from '../util/reference';
import { directives, parseUnitFile, serviceEnvironment } from '../util/systemd';

const GOLDEN = join(__dirname, 'golden', 'reference.yaml');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels: Record<string, string> };
  spec: { config: IgnitionConfig };
}

function manifest(options: ProduceMachineConfigOptions): Manifest {
  return load(produceMachineConfig(options)) as Manifest;
}

function unit(config: IgnitionConfig, name: string) {
  const found = config.systemd.units.find((u) => u.name === name);
  if (!found?.contents) throw new Error(`unit ${name} not found`);
  return parseUnitFile(found.contents);
}

const FULL: ProduceMachineConfigOptions = {
  ...REFERENCE_OPTIONS,
  workerImage: 'registry.example.com:5000/kmm/worker@sha256:' + 'a'.repeat(64),
  moduleParameters: ['debug=1', 'rss=4,4'],
};

const OPTION_SETS: Record<string, ProduceMachineConfigOptions> = {
  reference: REFERENCE_OPTIONS,
  minimal: { machineConfigName: 'm', machineConfigPoolRef: 'worker', kernelModuleImage: 'repo', kernelModuleName: 'ice' },
  full: FULL,
};

describe('produceMachineConfig', () => {
  test('matches the golden YAML for the reference case (read the diff before updating test/machine-config/golden/)', () => {
    const actual = produceMachineConfig(REFERENCE_OPTIONS);
    if (process.env.UPDATE_GOLDEN === '1' && process.env.CI !== 'true') {
      writeFileSync(GOLDEN, actual);
    }
    expect(actual).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  test('is one YAML document with a trailing newline and the MachineConfig envelope', () => {
    const yaml = produceMachineConfig(REFERENCE_OPTIONS);
    expect(yaml.endsWith('\n')).toBe(true);
    expect(yaml.endsWith('\n\n')).toBe(false);
    expect(yaml).not.toMatch(/^---/m);
    const mc = manifest(REFERENCE_OPTIONS);
    expect(mc.apiVersion).toBe('machineconfiguration.openshift.io/v1');
    expect(mc.kind).toBe('MachineConfig');
    expect(mc.metadata).toEqual({ name: 'name', labels: { 'machineconfiguration.openshift.io/role': 'mcpRef' } });
    expect(mc.spec.config.ignition).toEqual({ version: '3.2.0' });
  });

  test('installs the three scripts at their contract paths, 0755, root-owned, byte-equal to src/boot with its fragments inlined', () => {
    const files = manifest(REFERENCE_OPTIONS).spec.config.storage.files;
    expect(files.map((f) => f.path)).toEqual([
      '/usr/local/bin/replace-kernel-module.sh',
      '/usr/local/bin/pull-kernel-module-image.sh',
      '/usr/local/bin/wait-for-dispatcher.sh',
    ]);
    for (const file of files) {
      expect(file.mode).toBe(0o755);
      expect(file.overwrite).toBe(true);
      expect(file.user).toEqual({ name: 'root' });
      expect(file.group).toEqual({ name: 'root' });
      expect(file.contents.source).toMatch(/^data:text\/plain;charset=utf-8;base64,[A-Za-z0-9+/]+=*$/);
      // The source with its fragments inlined: what the node runs is what the tests run.
      expect(decodeDataUrl(file.contents.source)).toBe(assembledScript(file.path.split('/').pop()!));
    }
  });

  test('scripts are identical across MachineConfigs so several merge cleanly in one pool', () => {
    const a = manifest(REFERENCE_OPTIONS).spec.config.storage.files;
    const b = manifest(FULL).spec.config.storage.files;
    expect(b).toEqual(a);
  });

  test('enables both units and disables and masks crio-wipe', () => {
    const units = manifest(REFERENCE_OPTIONS).spec.config.systemd.units;
    expect(units.map((u) => [u.name, u.enabled, u.mask])).toEqual([
      ['name-replace-kernel-module.service', true, undefined],
      ['name-pull-kernel-module-image.service', true, undefined],
      ['crio-wipe.service', false, true],
    ]);
    expect(units[2].contents).toBeUndefined();
  });

  test('the replace unit runs before network-pre.target without default dependencies', () => {
    const replace = unit(manifest(REFERENCE_OPTIONS).spec.config, 'name-replace-kernel-module.service');
    expect(directives(replace, 'Unit', 'DefaultDependencies')).toEqual(['no']);
    expect(directives(replace, 'Unit', 'Before')).toEqual(['network-pre.target']);
    expect(directives(replace, 'Unit', 'Wants')).toEqual(['network-pre.target']);
    expect(directives(replace, 'Service', 'Type')).toEqual(['oneshot']);
    expect(directives(replace, 'Service', 'TimeoutStartSec')).toEqual(['300']);
    expect(directives(replace, 'Service', 'EnvironmentFile')).toEqual(['-/etc/mco/proxy.env']);
    expect(directives(replace, 'Service', 'ExecStart')).toEqual(['/usr/local/bin/replace-kernel-module.sh']);
    expect(directives(replace, 'Install', 'WantedBy')).toEqual(['multi-user.target']);
  });

  test('the pull unit runs after network-online.target and the dispatcher, with a registry-sized timeout', () => {
    const pull = unit(manifest(REFERENCE_OPTIONS).spec.config, 'name-pull-kernel-module-image.service');
    expect(directives(pull, 'Unit', 'Wants')).toEqual(['network-online.target']);
    // ostree-finalize-staged.service: stopped after us at shutdown, so the pre-pull reads the next deployment as staged.
    expect(directives(pull, 'Unit', 'After')).toEqual(['network-online.target NetworkManager-dispatcher.service ostree-finalize-staged.service']);
    expect(directives(pull, 'Service', 'Type')).toEqual(['oneshot']);
    expect(Number(directives(pull, 'Service', 'TimeoutStartSec')[0])).toBeGreaterThanOrEqual(1800);
    expect(directives(pull, 'Service', 'EnvironmentFile')).toEqual(['-/etc/mco/proxy.env']);
    expect(directives(pull, 'Service', 'ExecStartPre')).toEqual(['/usr/local/bin/wait-for-dispatcher.sh']);
    expect(directives(pull, 'Service', 'ExecStart')).toEqual(['/usr/local/bin/pull-kernel-module-image.sh']);
    expect(directives(pull, 'Install', 'WantedBy')).toEqual(['multi-user.target']);
  });

  test('the pull unit stays active, so that at shutdown its ExecStop pre-pulls the next kernel\'s images within a stated budget', () => {
    const pull = unit(manifest(REFERENCE_OPTIONS).spec.config, 'name-pull-kernel-module-image.service');
    expect(directives(pull, 'Service', 'RemainAfterExit')).toEqual(['yes']);
    expect(directives(pull, 'Service', 'ExecStop')).toEqual(['/usr/local/bin/pull-kernel-module-image.sh --next-kernel']);
    expect(directives(pull, 'Service', 'TimeoutStopSec')).toEqual(['240']);
    expect(directives(pull, 'Unit', 'RequiresMountsFor')).toEqual(['/var/lib/containers']);
  });

  test('every value reaches the units environment exactly as given', () => {
    const config = manifest(FULL).spec.config;
    expect(serviceEnvironment(unit(config, 'name-replace-kernel-module.service'))).toEqual({
      KMM_DAY1_INTERFACE: '3',
      MACHINE_CONFIG_NAME: 'name',
      KERNEL_MODULE_IMAGE: 'quay.io/project/repo',
      KERNEL_MODULE_NAME: 'testKernelModuleName',
      KERNEL_MODULE: 'testKernelModuleName',
      WORKER_IMAGE: FULL.workerImage,
      IN_TREE_MODULES_TO_REMOVE: 'it1 it2',
      FIRMWARE_FILES_PATH: '/opt/lib/test/firmware',
      WORKER_CONFIG_FILEPATH: '/var/lib/kmm-day1-name.worker-config.yaml',
      MODULE_PARAMETERS: 'debug=1 rss=4,4',
    });
    expect(serviceEnvironment(unit(config, 'name-pull-kernel-module-image.service'))).toEqual({
      KMM_DAY1_INTERFACE: '3',
      MACHINE_CONFIG_NAME: 'name',
      KERNEL_MODULE_IMAGE: 'quay.io/project/repo',
      WORKER_IMAGE: FULL.workerImage,
      KERNEL_MODULE_IMAGE_FILEPATH: '/var/lib/kmm-day1-name.image.tar',
    });
  });

  test('defaults the worker image to KMM\'s; the lists the KMM operator\'s scripts read are set even when empty', () => {
    const env = serviceEnvironment(unit(manifest(OPTION_SETS.minimal).spec.config, 'm-replace-kernel-module.service'));
    expect(env.WORKER_IMAGE).toBe('quay.io/edge-infrastructure/kernel-module-management-worker:latest');
    expect(env.FIRMWARE_FILES_PATH).toBe('');
    expect(env.IN_TREE_MODULES_TO_REMOVE).toBe('');
    expect(env).not.toHaveProperty('MODULE_PARAMETERS');
  });

  test('empty lists give the same bytes as leaving them out', () => {
    const base = OPTION_SETS.minimal;
    expect(produceMachineConfig({ ...base, inTreeModulesToRemove: [], moduleParameters: [], peerMachineConfigNames: [] }))
      .toBe(produceMachineConfig(base));
  });

  test('an empty optional string is rejected, never taken for the default', () => {
    expect(() => produceMachineConfig({ ...OPTION_SETS.minimal, firmwareFilesPath: '', workerImage: '' })).toThrow(
      'Invalid firmwareFilesPath "": must not be empty: leave it out for no firmware\n'
      + 'Invalid workerImage "": must not be empty: leave it out for the default worker image (quay.io/edge-infrastructure/kernel-module-management-worker:latest)');
  });

  test('is deterministic: the same input gives the same bytes', () => {
    for (const options of Object.values(OPTION_SETS)) {
      const first = produceMachineConfig(options);
      expect(produceMachineConfig(JSON.parse(JSON.stringify(options)))).toBe(first);
    }
  });

  test('renderDay1Ignition and the jsii producer class are the same code path', () => {
    expect(renderDay1Ignition(FULL)).toEqual(manifest(FULL).spec.config);
    expect(Day1MachineConfigProducer.renderIgnition(FULL)).toEqual(renderDay1Ignition(FULL));
    expect(Day1MachineConfigProducer.produce(FULL)).toBe(produceMachineConfig(FULL));
  });

  describe('ignition-validate accepts every emitted config', () => {
    const tests = withIgnitionValidate();
    for (const [name, options] of Object.entries(OPTION_SETS)) {
      tests(name, () => {
        const dir = mkdtempSync(join(tmpdir(), 'kmm-day1-ign-'));
        try {
          const file = join(dir, 'config.ign');
          writeFileSync(file, JSON.stringify(renderDay1Ignition(options)));
          const result = spawnSync('ignition-validate', [file], { encoding: 'utf8' });
          expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  });

  describe('conforms to the MachineConfig CRD with nothing pruned', () => {
    for (const [name, options] of Object.entries(OPTION_SETS)) {
      test(name, () => {
        expect(crdViolations(manifest(options))).toEqual([]);
      });
    }
    test('the schema check catches a field the CRD would prune', () => {
      const bad = manifest(REFERENCE_OPTIONS) as unknown as { spec: Record<string, unknown> };
      bad.spec.kernelArgs = ['x'];
      expect(crdViolations(bad as unknown as Manifest)).toEqual(['.spec.kernelArgs: unknown field, would be pruned']);
    });
  });
});
