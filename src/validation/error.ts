/**
 * One invalid input: which field, the value as the error message shows it, and the rule it
 * breaks. Every rejected call or construct reports all of its problems at once, each as one
 * line `<path>: Invalid <field> <value>: <rule>` (without `<path>: ` when there is no path).
 */
export interface ValidationProblem {
  /**
   * The construct path of the construct whose props (or method options) hold the field.
   *
   * @default - no path: the options of a function call such as `produceMachineConfig`
   */
  readonly path?: string;

  /**
   * The field, as written in the props or options.
   *
   * For example `kernelModuleImage`, `moduleParameters[2]` (list entries by index from 0),
   * `metadata.labels["team"]` or `handOverToKmm.namespace`.
   */
  readonly field: string;

  /**
   * The value as the message shows it.
   *
   * It is JSON text (so `"ice"` with its quotes, `42`, `undefined`), shortened after 120 characters.
   */
  readonly value: string;

  /** The rule the value breaks, in words, and for a value derived from other fields also where it came from. */
  readonly rule: string;
}

/**
 * Raised for every rejected input. It carries every problem of the call or construct
 * (`problems`), and its message has one line per problem, each naming the field, showing the
 * value (JSON-quoted, so control characters and quotes are visible) and stating the rule.
 *
 * Not exported from the package root: jsii cannot represent subclasses of `Error`, so callers
 * in other languages see a plain error with the same message (and can get the same list from
 * `Day1MachineConfigProducer.validate` without an error). TypeScript and JavaScript import it
 * from `cdk8s-kmm-day1/errors`.
 */
export class Day1ValidationError extends Error {
  /** An error for several problems at once (at least one), in the order given. */
  public static of(problems: readonly ValidationProblem[]): Day1ValidationError {
    if (problems.length === 0) {
      throw new Error('Day1ValidationError.of needs at least one problem');
    }
    const error = new Day1ValidationError(problems[0].field, undefined, problems[0].rule);
    (error as { problems: readonly ValidationProblem[] }).problems = Object.freeze(problems.map((problem) => Object.freeze({ ...problem })));
    error.message = problems.map(problemLine).join('\n');
    return error;
  }

  /** Every problem, in a stable order: that of the props or options interface, then list index. */
  public readonly problems: readonly ValidationProblem[];

  /** One problem, without a path. */
  constructor(field: string, value: unknown, rule: string) {
    const problem: ValidationProblem = { field, value: showValue(value), rule };
    super(problemLine(problem));
    this.name = 'Day1ValidationError';
    this.problems = Object.freeze([Object.freeze(problem)]);
  }

  /** The field of the first problem. */
  public get field(): string {
    return this.problems[0].field;
  }

  /** The rule of the first problem. */
  public get rule(): string {
    return this.problems[0].rule;
  }
}

/**
 * The message line of one problem: `<path>: Invalid <field> <value>: <rule>`. A construct path
 * with a control character (construct ids may hold any) is JSON-quoted, so that the line stays one line.
 */
export function problemLine(problem: ValidationProblem): string {
  // eslint-disable-next-line no-control-regex
  const path = problem.path === undefined ? undefined : /[\u0000-\u001f\u007f]/.test(problem.path) ? JSON.stringify(problem.path) : problem.path;
  return `${path === undefined ? '' : `${path}: `}Invalid ${problem.field} ${problem.value}: ${problem.rule}`;
}

const MAX_SHOWN = 120;

/** A value as messages show it: JSON, shortened past 120 characters. */
export function showValue(value: unknown): string {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}…(${shown.length} characters)` : shown;
}

/**
 * Gathers the problems of one call or construct, so that all of them are reported together.
 * Checks keep throwing `Day1ValidationError` (so each one also works alone); `check` records
 * what they throw and carries on.
 */
export class ProblemCollector {
  private readonly found: Array<{ problem: ValidationProblem; rank: number; seq: number }> = [];

  /**
   * @param path the construct path that every problem without one gets
   * @param order the fields of the props interface in order: problems are reported in this
   *   order (by the field's name up to the first `[`, `.`, `(` or space), then in the order
   *   found; fields not listed come last
   * @param fieldPrefix prepended to every field (`handOverToKmm.`)
   */
  constructor(
    private readonly path?: string,
    private readonly order: readonly string[] = [],
    private readonly fieldPrefix = '',
  ) {}

  /** Runs one check; what it throws as a Day1ValidationError is recorded, and `undefined` returned. */
  public check<T>(run: () => T): T | undefined {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof Day1ValidationError)) {
        throw error;
      }
      for (const problem of error.problems) this.record(problem);
      return undefined;
    }
  }

  /**
   * Runs a check of a value derived from other fields (a default name): its problems get
   * `note` (where the value came from, what to set instead) appended to their rule.
   */
  public checkDerived<T>(note: string, run: () => T): T | undefined {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof Day1ValidationError)) {
        throw error;
      }
      for (const problem of error.problems) this.record({ ...problem, rule: `${problem.rule} (${note})` });
      return undefined;
    }
  }

  /** Records one problem. */
  public add(field: string, value: unknown, rule: string): void {
    this.record({ field, value: showValue(value), rule });
  }

  /** Whether no problem was found so far. */
  public get ok(): boolean {
    return this.found.length === 0;
  }

  /** How many problems were found so far. */
  public get count(): number {
    return this.found.length;
  }

  /** The problems found, in report order. */
  public get problems(): ValidationProblem[] {
    return [...this.found]
      .sort((a, b) => a.rank - b.rank || a.seq - b.seq)
      .map(({ problem }) => problem);
  }

  /** Throws one Day1ValidationError with every problem found, if any. */
  public throwIfAny(): void {
    if (!this.ok) {
      throw Day1ValidationError.of(this.problems);
    }
  }

  private record(problem: ValidationProblem): void {
    const root = /^[^[.( ]*/.exec(problem.field)![0];
    const index = this.order.indexOf(root);
    this.found.push({
      problem: {
        ...((problem.path ?? this.path) === undefined ? {} : { path: problem.path ?? this.path }),
        field: problem.path === undefined ? `${this.fieldPrefix}${problem.field}` : problem.field,
        value: problem.value,
        rule: problem.rule,
      },
      rank: index < 0 ? this.order.length : index,
      seq: this.found.length,
    });
  }
}
