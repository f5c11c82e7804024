import { Day1ValidationError, ProblemCollector } from './error';
import { yamlReadsAsNumberOrDate } from './yaml-text';

/*
 * Field rules. Each check throws a Day1ValidationError naming the field (callers gather several
 * with a ProblemCollector, so that every problem of a call is reported at once); the regular
 * expressions follow the grammars of the systems that consume the value (OCI distribution
 * references, Kubernetes names, Linux module names), narrowed where the value later travels
 * through a systemd unit and a root shell script.
 */

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const IMAGE_NAME_RE = new RegExp(`^${NAME}$`);
const IMAGE_REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
/** Longest repository name the distribution spec allows. */
const MAX_IMAGE_NAME_LENGTH = 255;

const DNS1123_LABEL = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL}$`);
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_LABEL}(?:\\.${DNS1123_LABEL})*$`);
const LABEL_VALUE_RE = /^(?:(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;
const KERNEL_MODULE_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const FIRMWARE_PATH_RE = /^(?:\/[A-Za-z0-9._+@-]+)+$/;
const MODULE_PARAMETER_RE = /^([A-Za-z_][A-Za-z0-9_-]*)=([A-Za-z0-9._,:+@/-]+)$/;

/**
 * systemd refuses unit names longer than 255 characters; the longest name we derive is
 * `<machineConfigName>-pull-kernel-module-image.service` (33 characters of suffix).
 */
export const MAX_MACHINE_CONFIG_NAME_LENGTH = 255 - '-pull-kernel-module-image.service'.length;
/** The kernel's MODULE_NAME_LEN (64 bytes on 64-bit) minus the pointer-sized header and NUL. */
export const MAX_KERNEL_MODULE_NAME_LENGTH = 55;
export const MAX_FIRMWARE_PATH_LENGTH = 1024;
/** NAME_MAX: no Linux filesystem holds a longer directory name, so such a path is never in an image. */
export const MAX_FIRMWARE_PATH_SEGMENT_LENGTH = 255;
export const MAX_MODULE_PARAMETER_LENGTH = 1024;

/**
 * cdk8s writes manifests as YAML 1.1 and quotes only what YAML 1.1 reads as something other
 * than text. A name such as `0o17` or `0X1F` is text to YAML 1.1 but a number to YAML 1.2,
 * js-yaml and go-yaml (kubectl, oc, Argo CD, Flux), so it would reach the API server as a
 * number. (produceMachineConfig's writer quotes every form that any of them misreads.)
 */
function checkYamlText(field: string, value: string): void {
  if (!yamlReadsAsNumberOrDate(value, 'yaml-1.1')
    && (['yaml-1.2', 'js-yaml', 'go-yaml'] as const).some((reader) => yamlReadsAsNumberOrDate(value, reader))) {
    throw new Day1ValidationError(field, value,
      'must not be a number to YAML 1.2 and go-yaml that YAML 1.1 reads as text (such as 0o17 or 0X1F): cdk8s would write it unquoted, '
      + 'and kubectl, Argo CD and Flux would read a number');
  }
}

function requireString(field: string, value: unknown): string {
  if (value === undefined || value === null) {
    throw new Day1ValidationError(field, value, 'is required');
  }
  if (typeof value !== 'string') {
    throw new Day1ValidationError(field, value, 'must be a string');
  }
  return value;
}

function requireNonEmpty(field: string, value: unknown): string {
  const s = requireString(field, value);
  if (s.length === 0) {
    throw new Day1ValidationError(field, value, 'is required and must not be empty');
  }
  return s;
}

/**
 * A module image repository without tag or digest: the node appends its running kernel
 * release (`uname -r`) as the tag, which is what keeps cluster upgrades working.
 */
export function checkKernelModuleImage(field: string, value: unknown): string {
  const image = requireNonEmpty(field, value);
  if (/[A-Z]/.test(image)) {
    throw new Day1ValidationError(field, image, 'must be lowercase (an OCI repository name such as quay.io/org/driver)');
  }
  const parsed = IMAGE_REFERENCE_RE.exec(image);
  if (parsed && (parsed[2] !== undefined || parsed[3] !== undefined)) {
    throw new Day1ValidationError(field, image,
      `must not have a tag or digest: each node appends its kernel release (uname -r) as the tag, e.g. ${parsed[1]}:5.14.0-284.59.1.el9_2.x86_64`);
  }
  if (!IMAGE_NAME_RE.test(image)) {
    throw new Day1ValidationError(field, image,
      'must be an OCI image repository name ([registry[:port]/]path, path components of [a-z0-9] joined by ".", "_", "__" or "-")');
  }
  checkImageNameLength(field, image, image);
  checkYamlText(field, image);
  return image;
}

/** A complete image reference; a tag or digest is allowed (and recommended) here. */
export function checkImageReference(field: string, value: unknown): string {
  const image = requireNonEmpty(field, value);
  const parsed = IMAGE_REFERENCE_RE.exec(image);
  if (!parsed) {
    throw new Day1ValidationError(field, image,
      'must be an OCI image reference ([registry[:port]/]path[:tag][@algorithm:hex], lowercase path)');
  }
  checkImageNameLength(field, image, parsed[1]);
  checkYamlText(field, image);
  return image;
}

function checkImageNameLength(field: string, image: string, name: string): void {
  if (name.length > MAX_IMAGE_NAME_LENGTH) {
    throw new Day1ValidationError(field, image, `repository name must be at most ${MAX_IMAGE_NAME_LENGTH} characters (it has ${name.length})`);
  }
}

/** A Linux module name as modprobe and /sys/module know it. */
export function checkKernelModuleName(field: string, value: unknown): string {
  const name = requireNonEmpty(field, value);
  if (!KERNEL_MODULE_NAME_RE.test(name)) {
    throw new Day1ValidationError(field, name,
      'must be a Linux kernel module name: letters, digits, "_" and "-", not starting with "-" (the .ko file name without .ko)');
  }
  if (name.length > MAX_KERNEL_MODULE_NAME_LENGTH) {
    throw new Day1ValidationError(field, name, `must be at most ${MAX_KERNEL_MODULE_NAME_LENGTH} characters (it has ${name.length})`);
  }
  checkYamlText(field, name);
  return name;
}

/** A Kubernetes object name (Secrets, BootModuleConfigs and most other kinds). */
export function checkDns1123Subdomain(field: string, value: unknown): string {
  const name = requireNonEmpty(field, value);
  if (name.length > 253 || !DNS1123_SUBDOMAIN_RE.test(name)) {
    throw new Day1ValidationError(field, name,
      'must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, "-" and ".", starting and ending with a letter or digit');
  }
  checkYamlText(field, name);
  return name;
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
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS1123_SUBDOMAIN_RE.test(prefix));
  if (!prefixOk || name.length > 63 || !LABEL_VALUE_RE.test(name)) {
    throw new Day1ValidationError(field, key,
      'must be a Kubernetes label key: an optional DNS-1123 subdomain prefix and "/", then at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit');
  }
  checkYamlText(field, key);
  return key;
}

/** The pool reference becomes the value of the `machineconfiguration.openshift.io/role` label. */
export function checkLabelValue(field: string, value: unknown): string {
  const v = requireNonEmpty(field, value);
  if (v.length > 63 || !LABEL_VALUE_RE.test(v)) {
    throw new Day1ValidationError(field, v,
      'must be a Kubernetes label value: at most 63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit');
  }
  checkYamlText(field, v);
  return v;
}

/** A name that is both a Kubernetes object name and a label value (a pool name, also its role). */
export function checkDns1123Label(field: string, value: unknown): string {
  const v = requireNonEmpty(field, value);
  if (v.length > 63 || !DNS1123_LABEL_RE.test(v)) {
    throw new Day1ValidationError(field, v,
      'must be a DNS-1123 label: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit');
  }
  checkYamlText(field, v);
  return v;
}

/** A directory inside the module image, later mirrored under the worker's /tmp. */
export function checkFirmwarePath(field: string, value: unknown): string {
  const p = requireNonEmpty(field, value);
  if (p.length > MAX_FIRMWARE_PATH_LENGTH) {
    throw new Day1ValidationError(field, p, `must be at most ${MAX_FIRMWARE_PATH_LENGTH} characters (it has ${p.length})`);
  }
  if (!FIRMWARE_PATH_RE.test(p)) {
    throw new Day1ValidationError(field, p,
      'must be an absolute, normalized directory path made of letters, digits and "._+@-" (no trailing "/", no "//", no whitespace or shell/systemd metacharacters)');
  }
  const segments = p.split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new Day1ValidationError(field, p, 'must be normalized: "." and ".." segments are not allowed');
  }
  const longest = Math.max(...segments.map((segment) => segment.length));
  if (longest > MAX_FIRMWARE_PATH_SEGMENT_LENGTH) {
    throw new Day1ValidationError(field, p,
      `must not have a directory name longer than ${MAX_FIRMWARE_PATH_SEGMENT_LENGTH} characters (NAME_MAX; it has one of ${longest})`);
  }
  return p;
}

/** One `name=value` modprobe parameter; returns the parameter name. */
export function checkModuleParameter(field: string, value: unknown): string {
  const p = requireNonEmpty(field, value);
  if (p.length > MAX_MODULE_PARAMETER_LENGTH) {
    throw new Day1ValidationError(field, p, `must be at most ${MAX_MODULE_PARAMETER_LENGTH} characters (it has ${p.length})`);
  }
  const match = MODULE_PARAMETER_RE.exec(p);
  if (!match) {
    throw new Day1ValidationError(field, p,
      'must be name=value: a parameter name of letters, digits, "_" and "-" (not starting with a digit or "-"), and a non-empty value of letters, digits and "._,:+@/-"');
  }
  return match[1];
}

/** An optional boolean: `fallback` when `undefined` (or `null`). */
export function optionalBoolean(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) {
    return fallback;
  }
  if (typeof value !== 'boolean') {
    throw new Day1ValidationError(field, value, 'must be a boolean');
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

/** An optional Kubernetes object name: `undefined` means "not set", `''` is rejected. */
export function optionalDns1123Subdomain(field: string, value: unknown, unsetMeans: string): string | undefined {
  return optional(field, value, unsetMeans, checkDns1123Subdomain);
}

/**
 * Optional list: `undefined` and `[]` both mean "not set". Each entry is checked with `check`
 * under the field name `field[i]`, and every bad entry is reported; `key` gives the identity
 * used to reject duplicates.
 *
 * @throws Day1ValidationError with one problem per bad entry
 */
export function optionalList(
  field: string,
  value: unknown,
  check: (entryField: string, entry: unknown) => string,
  key: (entry: string) => string = (entry) => entry,
): string[] {
  if (value === undefined || value === null) {
    return [];
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
