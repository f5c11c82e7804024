import { IConstruct } from 'constructs';
import { problemsOfApp } from './deferred';
import { ValidationProblem } from '../../validation';

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
   * Every props problem of the constructs of the app that `scope` belongs to, in construct tree order.
   *
   * Each has `path`, `field`, `value` and `rule`; the list is empty when every prop is valid. It
   * covers the whole app, not only `scope`. Conflicts between constructs (two modules with one
   * MachineConfig name, ...) are found at synthesis only.
   */
  public static problemsOf(scope: IConstruct): ValidationProblem[] {
    return problemsOfApp(scope);
  }

  private constructor() {}
}
