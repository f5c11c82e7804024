import { Day1ValidationError, ProblemCollector } from './error';
import { checkName, checkYamlText, requireNonEmpty } from './rules';

/*
 * Kubernetes names, labels and selectors, by the API server's own grammars (apimachinery's
 * validation package), narrowed where a name also becomes part of something else (a unit name,
 * a label value).
 */

const DNS1123_LABEL = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL}$`);
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_LABEL}(?:\\.${DNS1123_LABEL})*$`);
const LABEL_VALUE_RE = /^(?:(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;

/**
 * systemd refuses unit names longer than 255 characters; the longest name we derive is
 * `<machineConfigName>-pull-kernel-module-image.service` (33 characters of suffix).
 */
export const MAX_MACHINE_CONFIG_NAME_LENGTH = 255 - '-pull-kernel-module-image.service'.length;

/** The KMM operator's Module webhook refuses a Module whose name plus namespace is longer. */
export const MAX_MODULE_NAME_AND_NAMESPACE_LENGTH = 41;

/** A Kubernetes object name (Secrets, BootModuleConfigs and most other kinds). */
export function checkDns1123Subdomain(field: string, value: unknown): string {
  return checkName(field, value, 253, DNS1123_SUBDOMAIN_RE,
    'must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, "-" and ".", starting and ending with a letter or digit');
}

/** A name that is both a Kubernetes object name and a label value (a pool name, also its role; a namespace). */
export function checkDns1123Label(field: string, value: unknown): string {
  return checkName(field, value, 63, DNS1123_LABEL_RE,
    'must be a DNS-1123 label: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit');
}

/** The pool reference becomes the value of the `machineconfiguration.openshift.io/role` label. */
export function checkLabelValue(field: string, value: unknown): string {
  return checkName(field, value, 63, LABEL_VALUE_RE,
    'must be a Kubernetes label value: at most 63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit');
}

/**
 * The name of a Secret: a Kubernetes object name. The one rule for every Secret reference of
 * this library (a KMM Module's `imageRepoSecret`, the hand-over's, Flux's `secretName`).
 */
export function checkSecretName(field: string, value: unknown): string {
  return checkDns1123Subdomain(field, value);
}

/** The MachineConfig name; it also prefixes the two unit names. */
export function checkMachineConfigName(field: string, value: unknown): string {
  const name = checkDns1123Subdomain(field, value);
  if (name.length > MAX_MACHINE_CONFIG_NAME_LENGTH) {
    throw new Day1ValidationError(field, name,
      `must be at most ${MAX_MACHINE_CONFIG_NAME_LENGTH} characters (it has ${name.length}) so that the unit name <name>-pull-kernel-module-image.service fits systemd's 255-character limit`);
  }
  return name;
}

/** A label key: an optional DNS-1123 subdomain prefix and "/", then a name of at most 63 characters. */
export function checkLabelKey(field: string, value: unknown): string {
  const key = requireNonEmpty(field, value);
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = key.slice(slash + 1);
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS1123_SUBDOMAIN_RE.test(prefix));
  if (!prefixOk || name.length > 63 || !LABEL_VALUE_RE.test(name)) {
    throw new Day1ValidationError(field, key,
      'must be a Kubernetes label key: an optional DNS-1123 subdomain prefix and "/", then at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit');
  }
  checkYamlText(field, key);
  return key;
}

/**
 * A label selector given as a map (a pool's `nodeSelector`, the KMM `Module` selector). An
 * empty map selects every node of the cluster, which is never what a kernel module hand-over
 * or a pool means, so it is rejected. Role labels such as `node-role.kubernetes.io/<role>`
 * carry the empty value, which is valid.
 *
 * @throws Day1ValidationError naming every bad selector entry
 */
export function checkSelector(field: string, value: unknown): { [key: string]: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Day1ValidationError(field, value, 'must be a map of node label keys to values');
  }
  const entries = Object.entries(value as { [key: string]: unknown });
  if (entries.length === 0) {
    throw new Day1ValidationError(field, value, 'must not be empty: an empty selector matches every node of the cluster');
  }
  const problems = new ProblemCollector();
  const selector: { [key: string]: string } = {};
  for (const [key, v] of entries) {
    const entryField = `${field}[${JSON.stringify(key)}]`;
    // A bad key is the root cause: its value is not judged as well.
    if (problems.check(() => checkLabelKey(entryField, key)) === undefined) continue;
    const checked = v === '' ? '' : problems.check(() => checkLabelValue(entryField, v));
    if (checked !== undefined) selector[key] = checked;
  }
  problems.throwIfAny();
  return selector;
}

/**
 * A KMM Module's name in its namespace.
 *
 * @throws Day1ValidationError naming `field` (the Module name) when name plus namespace is too long for KMM's webhook
 */
export function checkModuleNameLength(field: string, name: string, namespace: string): void {
  const length = name.length + namespace.length;
  if (length > MAX_MODULE_NAME_AND_NAMESPACE_LENGTH) {
    throw new Day1ValidationError(field, name,
      `together with namespace ${JSON.stringify(namespace)} it has ${length} characters (${name.length} + ${namespace.length}); `
      + `the KMM operator's Module webhook refuses a name plus namespace longer than ${MAX_MODULE_NAME_AND_NAMESPACE_LENGTH} characters: `
      + 'shorten the name or the namespace');
  }
}
