import { Day1ValidationError, ProblemCollector } from './error';
import { checkLabelKey, checkLabelValue } from './names';

/** How a `HealthCheckToleration` matches a taint's value (Kubernetes `Toleration.operator`). */
export enum TolerationOperator {
  /** The taint's value must equal the toleration's `value` (an unset value matches a taint without one). */
  EQUAL = 'Equal',

  /** Any value of the taint matches, so the toleration has no `value`. */
  EXISTS = 'Exists',
}

/** The taint effect a `HealthCheckToleration` matches (Kubernetes `Toleration.effect`). */
export enum TolerationEffect {
  /** Taints that keep new pods off the node. */
  NO_SCHEDULE = 'NoSchedule',

  /** Taints that the scheduler tries to honour, but may ignore. */
  PREFER_NO_SCHEDULE = 'PreferNoSchedule',

  /** Taints that also evict running pods. */
  NO_EXECUTE = 'NoExecute',
}

/**
 * A taint that the health check's pods tolerate: the fields of a Kubernetes `Toleration`, as
 * this library's own type, so that the API does not depend on any cdk8s-plus major.
 *
 * The pool taint `node-role.kubernetes.io/oot-nic=:NoSchedule` is tolerated by
 * `{ key: 'node-role.kubernetes.io/oot-nic', operator: TolerationOperator.EXISTS, effect: TolerationEffect.NO_SCHEDULE }`.
 * A toleration tolerates its taint forever (no `tolerationSeconds`): a health check that a
 * `NoExecute` taint evicts after a while would stop checking the node.
 */
export interface HealthCheckToleration {
  /**
   * The taint key matched, a Kubernetes label key. Unset (with `operator: EXISTS`) matches
   * every taint key; the empty string is rejected, so that "every key" is always written as
   * an omitted key.
   *
   * @default - every key (requires `operator: TolerationOperator.EXISTS`)
   */
  readonly key?: string;

  /**
   * How the taint's value is matched.
   *
   * @default TolerationOperator.EQUAL (as in Kubernetes)
   */
  readonly operator?: TolerationOperator;

  /**
   * The taint value matched with `operator: EQUAL`, a Kubernetes label value. Unset and the
   * empty string are the same: a taint without a value (such as `node-role.kubernetes.io/<pool>=:NoSchedule`).
   * Not allowed with `operator: EXISTS`.
   *
   * @default - a taint without a value
   */
  readonly value?: string;

  /**
   * The taint effect matched.
   *
   * @default - every effect
   */
  readonly effect?: TolerationEffect;
}

/** A toleration as the pod spec carries it. */
export interface KubeToleration {
  readonly key?: string;
  readonly operator: string;
  readonly value?: string;
  readonly effect?: string;
}

const FIELDS = ['key', 'operator', 'value', 'effect'];
const OPERATORS: readonly string[] = Object.values(TolerationOperator);
const EFFECTS: readonly string[] = Object.values(TolerationEffect);
const enumList = (name: string, values: object) => Object.keys(values).map((member) => `${name}.${member}`).join(', ');

/**
 * Checks a list of tolerations (Kubernetes' own rules for a pod's tolerations) and returns
 * them as the pod spec carries them, in the order given.
 *
 * @param field the list's field name in errors; each entry is `field[i]`, each field `field[i].key`
 * @throws Day1ValidationError naming the entry's field
 */
export function checkTolerations(field: string, value: unknown): KubeToleration[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw new Day1ValidationError(field, value, 'must be a list of tolerations ({ key?, operator?, value?, effect? })');
  }
  // Every entry is checked, so that one error lists the problem of each bad entry.
  const problems = new ProblemCollector();
  const checked = value.map((entry, i) => problems.check(() => checkToleration(`${field}[${i}]`, entry)));
  problems.throwIfAny();
  return checked as KubeToleration[];
}

function checkToleration(field: string, entry: unknown): KubeToleration {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new Day1ValidationError(field, entry, 'must be an object { key?, operator?, value?, effect? } (HealthCheckToleration)');
  }
  const prototype = Object.getPrototypeOf(entry);
  if (prototype !== Object.prototype && prototype !== null) {
    throw new Day1ValidationError(field, entry,
      `must be a plain object { key?, operator?, value?, effect? } (HealthCheckToleration), not an instance of ${prototype?.constructor?.name ?? 'a class'}; `
      + 'cdk8s-plus NodeTaintQuery is not accepted: this library depends on no cdk8s-plus major');
  }
  // A field set to null (as JavaScript callers may write it) counts as unset.
  const given: Record<string, unknown> = Object.fromEntries(
    Object.entries(entry as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null));
  const unknown = Object.keys(given).filter((name) => !FIELDS.includes(name));
  if (unknown.length > 0) {
    throw new Day1ValidationError(`${field}.${unknown[0]}`, given[unknown[0]],
      `is not a field of a toleration: it has ${FIELDS.join(', ')} only (a health check tolerates its taints forever, so there is no tolerationSeconds)`);
  }

  const operator = given.operator ?? TolerationOperator.EQUAL;
  if (typeof operator !== 'string' || !OPERATORS.includes(operator)) {
    throw new Day1ValidationError(`${field}.operator`, given.operator, `must be one of ${enumList('TolerationOperator', TolerationOperator)}`);
  }
  let key: string | undefined;
  if (given.key !== undefined) {
    if (given.key === '') {
      throw new Day1ValidationError(`${field}.key`, given.key,
        'must not be empty: omit key (with operator TolerationOperator.EXISTS) to tolerate every taint');
    }
    key = checkLabelKey(`${field}.key`, given.key);
  } else if (operator !== TolerationOperator.EXISTS) {
    throw new Day1ValidationError(`${field}.operator`, operator,
      'must be TolerationOperator.EXISTS when key is unset (a toleration without a key matches every taint); set a key, or operator EXISTS');
  }
  let tolerationValue: string | undefined;
  if (given.value !== undefined && given.value !== '') {
    if (operator === TolerationOperator.EXISTS) {
      throw new Day1ValidationError(`${field}.value`, given.value,
        'must not be set with operator TolerationOperator.EXISTS, which matches every value; use operator EQUAL to match this value');
    }
    tolerationValue = checkLabelValue(`${field}.value`, given.value);
  }
  const effect = given.effect;
  if (effect !== undefined && (typeof effect !== 'string' || !EFFECTS.includes(effect))) {
    throw new Day1ValidationError(`${field}.effect`, effect, `must be one of ${enumList('TolerationEffect', TolerationEffect)}, or unset for every effect`);
  }
  return {
    ...(key === undefined ? {} : { key }),
    operator,
    ...(tolerationValue === undefined ? {} : { value: tolerationValue }),
    ...(effect === undefined ? {} : { effect: effect as string }),
  };
}
