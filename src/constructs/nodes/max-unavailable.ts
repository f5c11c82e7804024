import { Day1ValidationError } from '../../validation';

const PERCENTAGE_RE = /^([0-9]+)%$/;
/** What the factory was given, kept on the value for the error message (a registered symbol: copies of the library agree on it). */
const GIVEN = Symbol.for('cdk8s-kmm-day1.MaxUnavailable.given');

/**
 * How many nodes of a MachineConfigPool the Machine Config Operator may update (drain and
 * reboot) at the same time: a node count or a percentage of the pool, as in the
 * MachineConfigPool's `spec.maxUnavailable`.
 */
export class MaxUnavailable {
  /**
   * At most `count` nodes at a time.
   *
   * An invalid count does not throw here: the pool that uses it reports it when the app is
   * synthesized, with the problems of every other construct.
   *
   * @param count a positive integer
   */
  public static fromNumber(count: number): MaxUnavailable {
    return new MaxUnavailable(count, false, count);
  }

  /**
   * At most a percentage of the pool's nodes at a time (rounded down by the operator, at least one).
   *
   * An invalid percentage does not throw here: the pool that uses it reports it when the app is
   * synthesized, with the problems of every other construct.
   *
   * @param percentage `1%` to `100%`
   */
  public static fromString(percentage: string): MaxUnavailable {
    const match = typeof percentage === 'string' ? PERCENTAGE_RE.exec(percentage) : null;
    return new MaxUnavailable(match ? Number(match[1]) : NaN, true, percentage);
  }

  /** The node count, or the percentage when `isPercentage` is true. */
  public readonly amount: number;

  /** Whether `amount` is a percentage of the pool's nodes rather than a node count. */
  public readonly isPercentage: boolean;

  private constructor(amount: number, isPercentage: boolean, given: unknown) {
    this.amount = amount;
    this.isPercentage = isPercentage;
    Object.defineProperty(this, GIVEN, { value: given });
  }

  /** The value as the MachineConfigPool spec writes it: `2` or `"10%"`. */
  public toString(): string {
    return this.isPercentage ? `${this.amount}%` : String(this.amount);
  }
}

/**
 * The value of `MaxUnavailable.fromNumber` or `fromString`, checked (an object of another shape
 * too, by its `amount` and `isPercentage`, since a second copy of this library defeats
 * `instanceof`); a copy made by this copy of the library.
 *
 * @throws Day1ValidationError naming `field`, with the value the factory was given
 */
export function checkMaxUnavailable(field: string, value: MaxUnavailable): MaxUnavailable {
  if (value === null || typeof value !== 'object' || typeof value.amount !== 'number' || typeof value.isPercentage !== 'boolean') {
    throw new Day1ValidationError(field, value, 'must be made with MaxUnavailable.fromNumber(n) or MaxUnavailable.fromString("n%")');
  }
  const given = GIVEN in value ? (value as any)[GIVEN] : value.isPercentage ? `${value.amount}%` : value.amount;
  if (value.isPercentage) {
    if (!(Number.isInteger(value.amount) && value.amount >= 1 && value.amount <= 100)) {
      throw new Day1ValidationError(field, given, 'must be an integer percentage from "1%" to "100%" (use MaxUnavailable.fromNumber for a node count)');
    }
    return MaxUnavailable.fromString(`${value.amount}%`);
  }
  if (!Number.isSafeInteger(value.amount) || value.amount < 1) {
    throw new Day1ValidationError(field, given,
      'must be a positive integer number of nodes (0 does not stop updates, the operator treats it as 1: pause the pool instead)');
  }
  return MaxUnavailable.fromNumber(value.amount);
}
