/**
 * Raised for every rejected input. The message always names the field, shows the value
 * (JSON-quoted, so control characters and quotes are visible) and states the rule.
 *
 * Not exported from the package root: jsii cannot represent subclasses of `Error`, so
 * callers in other languages see a plain error with the same message.
 */
export class Day1ValidationError extends Error {
  constructor(
    public readonly field: string,
    public readonly value: unknown,
    public readonly rule: string,
  ) {
    super(`Invalid ${field} ${showValue(value)}: ${rule}`);
    this.name = 'Day1ValidationError';
  }
}

const MAX_SHOWN = 120;

function showValue(value: unknown): string {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}…(${shown.length} characters)` : shown;
}
