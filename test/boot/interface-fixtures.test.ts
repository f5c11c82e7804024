import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { load } from 'js-yaml';
import { mergeMachineConfigs } from '../../src/machine-config';
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
