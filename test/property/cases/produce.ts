import * as fc from 'fast-check';
import { produceMachineConfig, ProduceMachineConfigOptions } from '../../../src';
import { bootScripts } from '../../../src/boot';
import { dataUrl } from '../../../src/ignition';
import { PropertyCase } from '../case';
import { expectEqual, expectIntact, expectRejectionNaming, MODULE_FIELDS, ModuleInputs, validModule } from '../read-back';
import { RUNS } from '../settings';
import { auditedLoad } from '../yaml-dialects';

/*
 * produceMachineConfig, one input at a time: every value is either rejected with an error that
 * names the input, or reaches the node exactly as given: the MachineConfig YAML reads back the
 * same in every YAML dialect, and systemd's unquoting of the unit files yields the value.
 */
const SCRIPT_SOURCES = bootScripts().map((script) => dataUrl(script.contents));

export const PRODUCE_CASES: PropertyCase[] = MODULE_FIELDS.map((field) => ({
  name: `produceMachineConfig ${field.name}: rejected naming it, or intact on the node (${RUNS} runs)`,
  runs: RUNS,
  bothOutcomes: true,
  property: (stats) => fc.property(validModule, field.value, (base, value) => {
    const options = { ...base, [field.name]: value } as ProduceMachineConfigOptions;
    let yaml: string;
    try {
      yaml = produceMachineConfig(options);
    } catch (error) {
      expectRejectionNaming(error, field.name, ...(field.list ? [`${field.name}[`] : []));
      stats.rejected++;
      return;
    }
    stats.accepted++;
    const machineConfig: any = auditedLoad(yaml);
    expectIntact(options as ModuleInputs, machineConfig);
    // The scripts are spliced into the dump (src/machine-config/generator.ts): check they landed.
    expectEqual(machineConfig.spec.config.storage.files.map((file: any) => file.contents.source), SCRIPT_SOURCES);
  }),
}));
