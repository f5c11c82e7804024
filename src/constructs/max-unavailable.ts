import { Day1ValidationError } from '../validation';

const PERCENTAGE_RE = /^([0-9]+)%$/;

/**
 * How many nodes of a MachineConfigPool the Machine Config Operator may update (drain and
 * reboot) at the same time: a node count or a percentage of the pool, as in the
 * MachineConfigPool's `spec.maxUnavailable`.
 */
export class MaxUnavailable {
  /**
   * At most `count` nodes at a time.
   *
   * @param count a positive integer
   * @throws Error when `count` is not a positive integer
   */
  public static fromNumber(count: number): MaxUnavailable {
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) {
      throw new Day1ValidationError('maxUnavailable', count,
        'must be a positive integer number of nodes (0 does not stop updates, the operator treats it as 1: pause the pool instead)');
    }
    return new MaxUnavailable(count, false);
  }

  /**
   * At most a percentage of the pool's nodes at a time (rounded down by the operator, at least one).
   *
   * @param percentage `1%` to `100%`
   * @throws Error when `percentage` is not an integer percentage from 1% to 100%
   */
  public static fromString(percentage: string): MaxUnavailable {
    const match = typeof percentage === 'string' ? PERCENTAGE_RE.exec(percentage) : null;
    const amount = match ? Number(match[1]) : NaN;
    if (!(amount >= 1 && amount <= 100)) {
      throw new Day1ValidationError('maxUnavailable', percentage,
        'must be an integer percentage from "1%" to "100%" (use MaxUnavailable.fromNumber for a node count)');
    }
    return new MaxUnavailable(amount, true);
  }

  /** The node count, or the percentage when `isPercentage` is true. */
  public readonly amount: number;

  /** Whether `amount` is a percentage of the pool's nodes rather than a node count. */
  public readonly isPercentage: boolean;

  private constructor(amount: number, isPercentage: boolean) {
    this.amount = amount;
    this.isPercentage = isPercentage;
  }

  /** The value as the MachineConfigPool spec writes it: `2` or `"10%"`. */
  public toString(): string {
    return this.isPercentage ? `${this.amount}%` : String(this.amount);
  }
}
