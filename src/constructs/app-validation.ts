import { IConstruct } from 'constructs';
import { problemsOfApp } from './deferred';
import { ValidationProblem } from '../validation';

/**
 * The invalid props of an app's constructs, as data.
 *
 * The constructs of this library do not throw on invalid props: each records its problems, and
 * `app.synth()` (or `app.synthYaml()`) fails once with the problems of every construct of the
 * app, one line each, `[<construct path>] Invalid <field> <value>: <rule>`. A program that
 * builds an app can read the same list first, in every jsii language.
 */
export class AppValidation {
  /**
   * Every props problem of the constructs of `scope`'s app (not only of `scope`), in construct
   * tree order, each with `path`, `field`, `value` and `rule`; empty when all props are valid.
   * Conflicts between constructs (two modules with one MachineConfig name, ...) are found at
   * synthesis only.
   */
  public static problemsOf(scope: IConstruct): ValidationProblem[] {
    return problemsOfApp(scope);
  }

  private constructor() {}
}
