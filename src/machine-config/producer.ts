import { produceMachineConfig, renderDay1Ignition } from './generator';
import { IgnitionConfig } from '../ignition';
import { machineConfigOptionProblems, ProduceMachineConfigOptions, ValidationProblem } from '../validation';

/**
 * The Day 1 MachineConfig generator for every jsii language (free functions exist only in
 * TypeScript and JavaScript, where `produceMachineConfig` and `renderDay1Ignition` are the
 * same code).
 */
export class Day1MachineConfigProducer {
  /**
   * The MachineConfig YAML that loads one out-of-tree kernel module at boot.
   *
   * @throws Error listing every invalid option, one line each: `Invalid <field> <value>: <rule>`
   */
  public static produce(options: ProduceMachineConfigOptions): string {
    return produceMachineConfig(options);
  }

  /**
   * The Ignition config (spec 3.2.0) that the MachineConfig carries in `spec.config`.
   *
   * @throws Error listing every invalid option, one line each: `Invalid <field> <value>: <rule>`
   */
  public static renderIgnition(options: ProduceMachineConfigOptions): IgnitionConfig {
    return renderDay1Ignition(options);
  }

  /**
   * Every problem `produce` would report for these options, without throwing.
   *
   * The list is empty when the options are valid. Problems come in the order of
   * `ProduceMachineConfigOptions` (inherited fields first, then list index), the same problems
   * and order as the lines of the error that `produce` and `renderIgnition` throw.
   */
  public static validate(options: ProduceMachineConfigOptions): ValidationProblem[] {
    return machineConfigOptionProblems(options);
  }

  private constructor() {}
}
