import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { load } from 'js-yaml';
import { pullUnit, replaceUnit, replaceUnitName, UNIT_INTERFACE_VERSION } from '../../src/boot';
import { mergeMachineConfigs, resolveMachineConfigOptions } from '../../src/machine-config';
import { parseUnitFile, serviceEnvironment } from '../util/systemd';

/*
 * The frozen fixtures of every interface version (test/fixtures/interface-v<N>): each folder
 * is self-consistent (its plain units and scripts are what its MachineConfigs carry) and
 * states the version its units speak. They are never regenerated; these checks only catch a
 * folder that was edited by hand or half-written.
 */

const FIXTURES = join(__dirname, '..', 'fixtures');
const VERSIONS = readdirSync(FIXTURES).filter((dir) => /^interface-v[0-9]+$/.test(dir)).sort();

describe.each(VERSIONS)('%s', (version) => {
  const dir = join(FIXTURES, version);
  const number = Number(version.slice('interface-v'.length));
  const machineConfigs = readdirSync(dir).filter((file) => file.endsWith('.yaml')).map((file) => load(readFileSync(join(dir, file), 'utf8')) as any);

  test('has a README saying it is frozen, and two MachineConfigs', () => {
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/never regenerate/i);
    expect(machineConfigs.map((mc) => mc.metadata.name).sort()).toEqual(['99-oot-nic-kmm-day1-ice', '99-oot-nic-kmm-day1-sfc']);
  });

  test('its plain units and scripts are exactly what its MachineConfigs carry', () => {
    const merged = mergeMachineConfigs(machineConfigs);
    for (const mc of machineConfigs) {
      for (const unit of mc.spec.config.systemd.units.filter((u: any) => u.contents !== undefined)) {
        expect({ unit: unit.name, contents: unit.contents }).toEqual({ unit: unit.name, contents: readFileSync(join(dir, 'units', unit.name), 'utf8') });
      }
    }
    expect(readdirSync(join(dir, 'units')).sort()).toEqual(merged.units.filter((u) => u.contents !== undefined).map((u) => u.name).sort());
    for (const file of merged.files) {
      expect({ path: file.path, mode: file.mode, writers: file.writers.length, contents: file.contents }).toEqual({
        path: file.path, mode: 0o755, writers: 2, contents: readFileSync(join(dir, 'scripts', file.path.slice(file.path.lastIndexOf('/') + 1)), 'utf8'),
      });
    }
  });

  test(`its units speak interface ${number}`, () => {
    for (const unit of readdirSync(join(dir, 'units'))) {
      const environment = serviceEnvironment(parseUnitFile(readFileSync(join(dir, 'units', unit), 'utf8')));
      // Version 1 predates the variable: its absence means version 1.
      expect({ unit, interface: environment.KMM_DAY1_INTERFACE }).toEqual({ unit, interface: number === 1 ? undefined : String(number) });
    }
  });
});

describe(`the newest interface (${VERSIONS[VERSIONS.length - 1]})`, () => {
  const dir = join(FIXTURES, VERSIONS[VERSIONS.length - 1]);
  const machineConfigs = readdirSync(dir).filter((file) => file.endsWith('.yaml')).map((file) => load(readFileSync(join(dir, file), 'utf8')) as any);

  test('is the one this release speaks, and its units are exactly what this release generates for the same modules', () => {
    expect(VERSIONS[VERSIONS.length - 1]).toBe(`interface-v${UNIT_INTERFACE_VERSION}`);
    for (const mc of machineConfigs) {
      const replace = mc.spec.config.systemd.units.find((u: any) => u.name === replaceUnitName(mc.metadata.name));
      const environment = serviceEnvironment(parseUnitFile(replace.contents));
      const options = resolveMachineConfigOptions({
        machineConfigName: mc.metadata.name,
        machineConfigPoolRef: mc.metadata.labels['machineconfiguration.openshift.io/role'],
        kernelModuleImage: environment.KERNEL_MODULE_IMAGE,
        kernelModuleName: environment.KERNEL_MODULE_NAME,
        inTreeModulesToRemove: environment.IN_TREE_MODULES_TO_REMOVE === '' ? [] : environment.IN_TREE_MODULES_TO_REMOVE.split(' '),
        ...(environment.FIRMWARE_FILES_PATH === '' ? {} : { firmwareFilesPath: environment.FIRMWARE_FILES_PATH }),
        ...(environment.MODULE_PARAMETERS === undefined ? {} : { moduleParameters: environment.MODULE_PARAMETERS.split(' ') }),
        peerMachineConfigNames: machineConfigs.map((other) => other.metadata.name).filter((name) => name !== mc.metadata.name),
      });
      for (const unit of [replaceUnit(options), pullUnit(options)]) {
        expect({ unit: unit.name, contents: unit.contents }).toEqual({ unit: unit.name, contents: readFileSync(join(dir, 'units', unit.name), 'utf8') });
      }
    }
  });
});
