import { deepStrictEqual, strictEqual } from 'assert';
import { spawnSync } from 'child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as fc from 'fast-check';
import { produceMachineConfig, ProduceMachineConfigOptions } from '../../../src';
import { bootScripts, environmentAssignment } from '../../../src/boot';
import { BASH, KERNEL, SCRIPTS } from '../../boot/harness';
import { parseUnitFile, serviceEnvironment } from '../../util/systemd';
import { FIELD_VALUES, mostlyValid } from '../arbitraries';
import { PropertyCase } from '../case';
import { IGNITION_RUNS, NODE_RUNS } from '../settings';
import { auditedLoad } from '../yaml-dialects';
import { anyString, carriable } from './systemd-quote';

/*
 * Sampled end to end, because each run starts a process: accepted values go from the
 * MachineConfig YAML through systemd's unquoting of the unit into the replace script, which
 * must write them unchanged into the KMM worker's config; and every Ignition config and unit
 * we emit passes ignition-validate and systemd-analyze verify.
 */

const identity = (name: string) => name.replace(/-/g, '_');
const list = (values: fc.Arbitrary<string>, key: (s: string) => string) =>
  fc.option(fc.uniqueArray(values, { maxLength: 5, selector: key }), { nil: undefined });

/** Whole option sets of unusual but mostly valid values; the rare rejected set is skipped. */
const options: fc.Arbitrary<ProduceMachineConfigOptions> = fc.record({
  machineConfigName: mostlyValid(FIELD_VALUES.dns1123Subdomain),
  machineConfigPoolRef: mostlyValid(FIELD_VALUES.labelValue),
  kernelModuleImage: mostlyValid(FIELD_VALUES.imageRepository),
  kernelModuleName: mostlyValid(FIELD_VALUES.kernelModuleName),
  inTreeModulesToRemove: list(mostlyValid(FIELD_VALUES.kernelModuleName), identity),
  firmwareFilesPath: fc.option(mostlyValid(FIELD_VALUES.firmwarePath), { nil: undefined }),
  workerImage: fc.option(mostlyValid(FIELD_VALUES.imageReference), { nil: undefined }),
  moduleParameters: list(mostlyValid(FIELD_VALUES.moduleParameter), (p) => identity(p.slice(0, p.indexOf('=')))),
}, { requiredKeys: ['machineConfigName', 'machineConfigPoolRef', 'kernelModuleImage', 'kernelModuleName'] });

/** The MachineConfig of accepted options, read back from its YAML; skips the run otherwise. */
function acceptedMachineConfig(given: ProduceMachineConfigOptions): any {
  let yaml: string;
  try {
    yaml = produceMachineConfig(given);
  } catch {
    fc.pre(false);
    throw new Error('unreachable');
  }
  return auditedLoad(yaml);
}

function replaceEnvironment(machineConfig: any): Record<string, string> {
  const unit = machineConfig.spec.config.systemd.units.find((u: any) => u.name.endsWith('-replace-kernel-module.service'));
  return serviceEnvironment(parseUnitFile(unit.contents));
}

/**
 * A directory of fake commands for the replace script: podman that finds every image and
 * succeeds, uname that prints the kernel release, and the three real tools the script uses.
 * The harness in test/boot models podman faithfully for fault scenarios; this property only
 * needs the worker config the script writes, at a tenth of the cost per run.
 */
function fakeBin(base: string): string {
  const bin = join(base, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'podman'), '#!/bin/sh\nexit 0\n');
  writeFileSync(join(bin, 'uname'), `#!/bin/sh\nprintf '%s\\n' '${KERNEL}'\n`);
  chmodSync(join(bin, 'podman'), 0o755);
  chmodSync(join(bin, 'uname'), 0o755);
  for (const tool of ['rm', 'mkdir', 'mv']) {
    const real = ['/usr/bin', '/bin'].map((dir) => join(dir, tool)).find(existsSync);
    symlinkSync(real!, join(bin, tool));
  }
  return bin;
}

function workerConfigCase(): PropertyCase {
  let base: string | undefined;
  return {
    name: `replace-kernel-module.sh writes every accepted value unchanged into the KMM worker config (${NODE_RUNS} sampled configurations)`,
    runs: NODE_RUNS,
    bothOutcomes: false,
    property: (stats) => {
      base = mkdtempSync(join(tmpdir(), 'kmm-day1-property-node-'));
      const bin = fakeBin(base);
      let n = 0;
      return fc.property(options, (given) => {
        const machineConfig = acceptedMachineConfig(given);
        stats.accepted++;
        const root = join(base!, `root-${n++}`);
        const result = spawnSync(BASH, [SCRIPTS.replace], {
          env: { PATH: bin, LANG: 'C.UTF-8', KMM_DAY1_ROOT: root, ...replaceEnvironment(machineConfig) },
          encoding: 'utf8',
          timeout: 15_000,
        });
        strictEqual(result.status, 0, `the replace script failed:\n${result.stdout}${result.stderr}`);
        const written = auditedLoad(readFileSync(join(root, 'var/lib/kmm-day1', given.machineConfigName, 'worker-config.yaml'), 'utf8'));
        rmSync(root, { recursive: true, force: true });
        const inTree = given.inTreeModulesToRemove ?? [];
        const parameters = given.moduleParameters ?? [];
        deepStrictEqual(written, {
          containerImage: `${given.kernelModuleImage}:${KERNEL}`,
          modprobe: {
            dirName: '/opt',
            moduleName: given.kernelModuleName,
            ...(given.firmwareFilesPath ? { firmwarePath: given.firmwareFilesPath } : {}),
            ...(parameters.length > 0 ? { parameters } : {}),
          },
          ...(inTree.length > 0 ? { inTreeModulesToRemove: inTree } : {}),
        });
      });
    },
    after: () => {
      if (base !== undefined) rmSync(base, { recursive: true, force: true });
    },
  };
}

function ignitionCase(): PropertyCase {
  let base: string | undefined;
  return {
    name: `ignition-validate accepts the Ignition config of every accepted configuration (${IGNITION_RUNS} sampled configurations)`,
    runs: IGNITION_RUNS,
    bothOutcomes: false,
    property: (stats) => {
      base = mkdtempSync(join(tmpdir(), 'kmm-day1-property-ignition-'));
      let n = 0;
      return fc.property(options, (given) => {
        const machineConfig = acceptedMachineConfig(given);
        stats.accepted++;
        const file = join(base!, `config-${n++}.ign`);
        writeFileSync(file, JSON.stringify(machineConfig.spec.config));
        const result = spawnSync('ignition-validate', [file], { encoding: 'utf8' });
        strictEqual(`${result.status} ${result.stdout}${result.stderr}`.trim(), '0');
      });
    },
    after: () => {
      if (base !== undefined) rmSync(base, { recursive: true, force: true });
    },
  };
}

/** A root with the host's units (targets resolve), our scripts at their paths, and room for our units. */
function systemdRoot(base: string): string {
  const root = join(base, 'root');
  const hostUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((dir) => existsSync(join(dir, 'multi-user.target')));
  if (hostUnits === undefined) throw new Error('systemd-analyze is installed but multi-user.target was not found');
  cpSync(hostUnits, join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  for (const script of bootScripts()) {
    mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
    writeFileSync(join(root, script.path), script.contents);
    chmodSync(join(root, script.path), 0o755);
  }
  return root;
}

function systemdCase(): PropertyCase {
  let base: string | undefined;
  const runs = Math.max(1, Math.ceil(IGNITION_RUNS / 2));
  return {
    name: `systemd-analyze verify accepts both units of every accepted configuration (${runs} sampled configurations)`,
    runs,
    bothOutcomes: false,
    property: (stats) => {
      base = mkdtempSync(join(tmpdir(), 'kmm-day1-property-systemd-'));
      const root = systemdRoot(base);
      return fc.property(options, (given) => {
        const units = acceptedMachineConfig(given).spec.config.systemd.units.filter((u: any) => u.contents !== undefined);
        stats.accepted++;
        for (const unit of units) writeFileSync(join(root, 'etc/systemd/system', unit.name), unit.contents);
        const result = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units.map((u: any) => `/etc/systemd/system/${u.name}`)], {
          encoding: 'utf8',
          env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '', SYSTEMD_LOG_LEVEL: 'info' },
        });
        for (const unit of units) rmSync(join(root, 'etc/systemd/system', unit.name));
        strictEqual(`${result.status} ${result.stdout}${result.stderr}`.trim(), '0');
      });
    },
    after: () => {
      if (base !== undefined) rmSync(base, { recursive: true, force: true });
    },
  };
}

/**
 * systemd itself on what systemdQuote writes for any string at all: no "invalid escaping" or
 * "invalid environment assignment" (the unit-file parser in test/util checks the values).
 */
function systemdQuoteCase(): PropertyCase {
  let base: string | undefined;
  const runs = Math.max(1, Math.ceil(IGNITION_RUNS / 2));
  const perUnit = 20;
  return {
    name: `systemd-analyze verify accepts the Environment= lines systemdQuote writes for any string (${runs} units of ${perUnit} strings)`,
    runs,
    bothOutcomes: false,
    property: (stats) => {
      base = mkdtempSync(join(tmpdir(), 'kmm-day1-property-quote-'));
      const root = systemdRoot(base);
      return fc.property(fc.array(anyString.filter(carriable), { minLength: perUnit, maxLength: perUnit }), (values) => {
        stats.accepted++;
        const unit = ['[Unit]', 'Description=systemdQuote', '', '[Service]', 'Type=oneshot',
          ...values.map((value, i) => `Environment=${environmentAssignment(`V${i}`, value)}`),
          'ExecStart=/usr/local/bin/replace-kernel-module.sh', ''].join('\n');
        writeFileSync(join(root, 'etc/systemd/system/quote.service'), unit);
        const result = spawnSync('systemd-analyze', ['verify', `--root=${root}`, '/etc/systemd/system/quote.service'], {
          encoding: 'utf8',
          env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '', SYSTEMD_LOG_LEVEL: 'info' },
        });
        strictEqual(`${result.status} ${result.stdout}${result.stderr}`.trim(), '0');
      });
    },
    after: () => {
      if (base !== undefined) rmSync(base, { recursive: true, force: true });
    },
  };
}

export const NODE_CASES: PropertyCase[] = [workerConfigCase(), ignitionCase(), systemdCase(), systemdQuoteCase()];
