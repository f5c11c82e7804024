import { Day1ValidationError, ProblemCollector } from './error';
import { yamlReadsAsNumberOrDate } from './yaml-text';

/*
 * The rules every field rule is made of: required and optional values, objects, booleans,
 * lists, and text that YAML readers would take for a number. Each check throws a
 * Day1ValidationError naming the field and returns the value as given (a list as a copy):
 * defaults are applied where a value is used, never here, so that a caller always knows
 * whether a value was given.
 */

/**
 * Fails when `value` is not an object (props, options): checks of its fields could not run.
 *
 * @throws Day1ValidationError `<field> must be an object`
 */
export function requireObject(field: string, value: unknown): void {
  if (value === null || typeof value !== 'object') {
    throw new Day1ValidationError(field, value, 'must be an object');
  }
}

/**
 * A collector for one construct's props (or one method's options): when they are not an object
 * at all, the one problem is thrown at once, because none of their fields can be checked.
 *
 * @param path the construct path
 * @param fields the fields of the props interface in order (see ProblemCollector)
 * @param fieldPrefix prepended to every field (`handOverToKmm.`)
 * @param field the name of the props themselves in the message
 */
export function collectorFor(path: string, props: unknown, fields: readonly string[], fieldPrefix = '', field = 'props'): ProblemCollector {
  const problems = new ProblemCollector(path, fields, fieldPrefix);
  problems.check(() => requireObject(field, props));
  problems.throwIfAny();
  return problems;
}

/** A string, required. */
export function requireString(field: string, value: unknown): string {
  if (value === undefined || value === null) {
    throw new Day1ValidationError(field, value, 'is required');
  }
  if (typeof value !== 'string') {
    throw new Day1ValidationError(field, value, 'must be a string');
  }
  return value;
}

/** A non-empty string, required. */
export function requireNonEmpty(field: string, value: unknown): string {
  const s = requireString(field, value);
  if (s.length === 0) {
    throw new Day1ValidationError(field, value, 'is required and must not be empty');
  }
  return s;
}

/** Whether YAML 1.2 readers (kubectl, oc, Argo CD, Flux) take `value` for a number or date that YAML 1.1 reads as text. */
export function misreadAfterYaml11(value: string): boolean {
  return !yamlReadsAsNumberOrDate(value, 'yaml-1.1')
    && (['yaml-1.2', 'js-yaml', 'go-yaml'] as const).some((reader) => yamlReadsAsNumberOrDate(value, reader));
}

/**
 * cdk8s writes manifests as YAML 1.1 and quotes only what YAML 1.1 reads as something other
 * than text. A name such as `0o17` or `0X1F` is text to YAML 1.1 but a number to YAML 1.2,
 * js-yaml and go-yaml (kubectl, oc, Argo CD, Flux), so it would reach the API server as a
 * number. (produceMachineConfig's writer quotes every form that any of them misreads.)
 */
export function checkYamlText(field: string, value: string): void {
  if (misreadAfterYaml11(value)) {
    throw new Day1ValidationError(field, value,
      'must not be a number to YAML 1.2 and go-yaml that YAML 1.1 reads as text (such as 0o17 or 0X1F): cdk8s would write it unquoted, '
      + 'and kubectl, Argo CD and Flux would read a number');
  }
}

/**
 * A required name of at most `maxLength` characters that matches `pattern` (`rule` says how)
 * and that every YAML reader reads as text.
 */
export function checkName(field: string, value: unknown, maxLength: number, pattern: RegExp, rule: string): string {
  const name = requireNonEmpty(field, value);
  if (name.length > maxLength || !pattern.test(name)) {
    throw new Day1ValidationError(field, name, rule);
  }
  checkYamlText(field, name);
  return name;
}

/**
 * Required text of at most `maxLength` characters (a longer one is refused first, saying how
 * long it is) that matches `pattern` (`rule` says how).
 */
export function checkBoundedText(field: string, value: unknown, maxLength: number, pattern: RegExp, rule: string): string {
  const text = requireNonEmpty(field, value);
  if (text.length > maxLength) {
    throw new Day1ValidationError(field, text, `must be at most ${maxLength} characters (it has ${text.length})`);
  }
  if (!pattern.test(text)) {
    throw new Day1ValidationError(field, text, rule);
  }
  return text;
}

/** An optional value of a JavaScript type, as given: `undefined` (or `null`) when not set. */
export function optionalOfType<T extends string | number | boolean>(field: string, value: unknown, type: 'string' | 'number' | 'boolean'): T | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== type) {
    throw new Day1ValidationError(field, value, `must be a ${type}`);
  }
  return value as T;
}

/** An optional boolean, as given: `undefined` (or `null`) when not set. */
export function optionalBoolean(field: string, value: unknown): boolean | undefined {
  return optionalOfType<boolean>(field, value, 'boolean');
}

/** A string with at least one character, for text that is copied as it is (no "is required" wording). */
export function checkNonEmptyString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new Day1ValidationError(field, value, 'must be a non-empty string');
  }
  return value;
}

/**
 * An optional string: `undefined` (or `null`) means "not set". An empty string is rejected:
 * whoever wrote `''` meant something, and silently taking the default would hide the mistake.
 *
 * @param unsetMeans what leaving the field out gives, for the message (`the default worker image`)
 */
export function optionalString(field: string, value: unknown, unsetMeans: string): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  const s = requireString(field, value);
  if (s === '') {
    throw new Day1ValidationError(field, value, `must not be empty: leave it out for ${unsetMeans}`);
  }
  return s;
}

/**
 * An optional value checked by `check` when set; `undefined` (or `null`) means "not set", an
 * empty string is rejected (see optionalString).
 */
export function optional<T>(field: string, value: unknown, unsetMeans: string, check: (field: string, value: unknown) => T): T | undefined {
  const s = optionalString(field, value, unsetMeans);
  return s === undefined ? undefined : check(field, s);
}

/**
 * An optional list, as given (a copy): `undefined` (or `null`) when not set. Each entry is
 * checked with `check` under the field name `field[i]`, and every bad entry is reported; `key`
 * gives the identity used to reject duplicates.
 *
 * @throws Day1ValidationError with one problem per bad entry
 */
export function optionalList(
  field: string,
  value: unknown,
  check: (entryField: string, entry: unknown) => string,
  key: (entry: string) => string = (entry) => entry,
): string[] | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!Array.isArray(value)) {
    throw new Day1ValidationError(field, value, 'must be a list of strings');
  }
  const problems = new ProblemCollector();
  const seen = new Map<string, number>();
  value.forEach((entry, i) => {
    const entryField = `${field}[${i}]`;
    if (problems.check(() => check(entryField, entry)) === undefined) {
      return;
    }
    const id = key(entry as string);
    const first = seen.get(id);
    if (first !== undefined) {
      problems.add(entryField, entry, `duplicates ${field}[${first}]; list each entry once`);
      return;
    }
    seen.set(id, i);
  });
  problems.throwIfAny();
  return [...value] as string[];
}

/** `values` without the fields whose value is `undefined`: what a check returns when a field was not given or is invalid. */
export function definedFields<T extends object>(values: T): Defined<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Defined<T>;
}

/** The fields of `T` that are set, each without `undefined`. */
export type Defined<T> = Partial<{ [K in keyof T]: Exclude<T[K], undefined> }>;
