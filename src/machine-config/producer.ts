import { produceMachineConfig, renderDay1Ignition } from './generator';
import { IgnitionConfig } from '../ignition';
import { ProduceMachineConfigOptions } from '../validation';

/**
 * The Day 1 MachineConfig generator for every jsii language (free functions exist only in
 * TypeScript and JavaScript, where `produceMachineConfig` and `renderDay1Ignition` are the
 * same code).
 */
export class Day1MachineConfigProducer {
  /**
   * The MachineConfig YAML that loads one out-of-tree kernel module at boot.
   *
   * @throws Error naming the field, the value and the rule when an option is invalid
   */
  public static produce(options: ProduceMachineConfigOptions): string {
    return produceMachineConfig(options);
  }

  /**
   * The Ignition config (spec 3.2.0) that the MachineConfig carries in `spec.config`.
   *
   * @throws Error naming the field, the value and the rule when an option is invalid
   */
  public static renderIgnition(options: ProduceMachineConfigOptions): IgnitionConfig {
    return renderDay1Ignition(options);
  }

  private constructor() {}
}
