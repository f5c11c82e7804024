import * as fc from 'fast-check';

/*
 * Generators of input values. Purely random strings are almost always rejected, which proves
 * little about what we accept, so each field draws from a mix: values valid by the grammar of
 * the system that consumes them (written here from those grammars, not from src/validation),
 * such values with a few characters inserted, replaced or removed, forms that YAML readers
 * disagree about, strings made only of dangerous characters, random Unicode, values around
 * the length limits, and the odd non-string. A good share is accepted and must then arrive
 * intact; the rest must be rejected with an error that names the field.
 */

/** Characters and sequences that mean something to systemd, bash, YAML or Unicode-unaware code. */
export const HOSTILE_TOKENS: readonly string[] = [
  '"', "'", '\\', '$', '`', '%', ';', '|', '&', '<', '>', '(', ')', '{', '}', '[', ']', '*', '?', '!', '#', '~', '^',
  ' ', '\t', '\n', '\r', '\v', '\f', '\0', '\x07', '\x1b', '\x7f', '\u0085', '\u00a0', '\u2028', '\u2029', '\ufeff', '\u200b',
  '$(reboot)', '`id`', '${IFS}', '$HOME', '%n', '%%', '%i', '\\x00', '\\n', '\\"', "'\\''", '";reboot;"', '\\\n', '\r\n',
  ': ', ' #', '- ', '---', '...', '&a', '*a', '!!str', '<<', '=', ',', ':', '@', '/', '.', '..', '-', '_', '+',
  'é', 'ß', 'İ', '\u212a', '\u017f', '😀', '\ud800', '\udfff', 'ｑ', 'ǅ', '\u0301',
];

/** Characters that some of the grammars allow: mutations with these are often still valid. */
export const VALIDISH_TOKENS: readonly string[] = [
  'a', 'z', 'A', 'Z', '0', '9', '-', '.', '_', '/', ':', '@', '+', ',', '=', '--', '__', '..', 'x1',
];

/** Scalars that YAML 1.1, YAML 1.2 and Go read differently (numbers, booleans, null, dates). */
export const YAML_AMBIGUOUS: readonly string[] = [
  '0o17', '0O17', '0B101', '0X1F', '0x1f', '0b101', '0b1_0', '1_0', '1__0', '0_1', '9_9', '1_', '1e3', '1E3', '1e03',
  '017', '08', '8250', '0', '00', '1.5', '1.', '3.2.0', '0e0', '1:30', '.5', '.inf', '.nan', '-1', '+1',
  'yes', 'no', 'on', 'off', 'y', 'n', 'Y', 'N', 'true', 'False', 'null', 'Null', 'NULL', '~', '', '<<', '=',
  '2001-12-14', '2001-1-1', '2001-02-30', '99999999999999999999', '0x' + 'f'.repeat(17),
];

const numberish: fc.Arbitrary<string> = fc.tuple(
  fc.constantFrom('', '', '0', '0o', '0O', '0b', '0B', '0x', '0X'),
  fc.array(fc.constantFrom('0', '1', '7', '8', '9', 'f', 'e', '_', '.'), { minLength: 1, maxLength: 6 }),
).map(([prefix, digits]) => `${prefix}${digits.join('')}`);

export const yamlAmbiguous: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...YAML_AMBIGUOUS), numberish);

function chars(set: string, minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...set), minLength, maxLength });
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';

// ---------------------------------------------------------------------------------------------
// Valid values, from the grammars of their consumers.

/** DNS-1123 label (Kubernetes object names, pool names, namespaces). */
export const dns1123Label: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('worker', 'sfc', 'gpu-nodes', 'openshift-kmm', 'a', '0', 'r1'),
  fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/),
);

/** DNS-1123 subdomain (MachineConfig names). */
export const dns1123Subdomain: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('99-worker-ice', '99-sfc-kmm-day1-ice', 'name', 'a.b.c', '0'),
  fc.array(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,12}[a-z0-9])?$/), { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.')),
);

/** Kubernetes label value, non-empty (the MachineConfig role). */
export const labelValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('worker', 'mcpRef', 'sfc', 'A', 'x_y.z-1'),
  fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?$/),
);

/** Linux module names as modprobe takes them. */
export const kernelModuleName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('ice', 'irdma', 'i40e', 'mlx5_core', 'nvme-core', '8139too', 'snd_hda_intel', 'testKernelModuleName', '_x'),
  fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,20}$/),
);

const domainComponent = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?$/);
const pathComponent = fc.stringMatching(/^[a-z0-9]{1,6}((\.|_|__|-{1,2})[a-z0-9]{1,6}){0,2}$/);
const domain = fc.oneof(
  fc.constantFrom('quay.io', 'registry.example.com:5000', 'localhost:5000', '[fd00::1]:5000', 'image-registry.openshift-image-registry.svc:5000'),
  fc.tuple(fc.array(domainComponent, { minLength: 1, maxLength: 3 }), fc.option(fc.integer({ min: 1, max: 65535 })))
    .map(([parts, port]) => `${parts.join('.')}${port === null ? '' : `:${port}`}`),
);

/** OCI repository name without tag or digest (the module image). */
export const imageRepository: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('quay.io/project/repo', 'quay.io/example/ice-driver', 'repo', 'registry.example.com:5000/kmm/drivers/ice'),
  fc.tuple(fc.option(domain, { freq: 2 }), fc.array(pathComponent, { minLength: 1, maxLength: 3 }))
    .map(([host, path]) => `${host === null ? '' : `${host}/`}${path.join('/')}`),
);

const tag = fc.oneof(fc.constantFrom('latest', 'v1.2.3', '5.14.0-284.59.1.el9_2.x86_64', '_'), fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}$/));
const digest = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`),
  fc.constant(`sha512:${'ab'.repeat(64)}`),
);

/** Full image reference with optional tag and digest (the worker image). */
export const imageReference: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('quay.io/edge-infrastructure/kernel-module-management-worker:latest', `registry.example.com:5000/kmm/worker@sha256:${'a'.repeat(64)}`),
  fc.tuple(imageRepository, fc.option(tag), fc.option(digest))
    .map(([name, t, d]) => `${name}${t === null ? '' : `:${t}`}${d === null ? '' : `@${d}`}`),
);

const firmwareSegment = fc.stringMatching(/^[A-Za-z0-9._+@-]{1,12}$/).filter((s) => s !== '.' && s !== '..');

/** Absolute, normalized directory inside the module image. */
export const firmwarePath: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('/opt/lib/test/firmware', '/firmware', '/lib/firmware/intel/ice/ddp', '/a@b/c+d/.hidden'),
  fc.array(firmwareSegment, { minLength: 1, maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
);

/** `name=value` modprobe parameter. */
export const moduleParameter: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('debug=1', 'rss=4,4', 'fw_path=/lib/firmware/x', 'mode=a:b@c+d', 'x=-1'),
  fc.tuple(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,10}$/), fc.stringMatching(/^[A-Za-z0-9._,:+@/-]{1,16}$/))
    .map(([name, value]) => `${name}=${value}`),
);

// ---------------------------------------------------------------------------------------------
// Values around the length limits of each grammar (and of the Linux and systemd limits behind them).

function lengths(limit: number): fc.Arbitrary<number> {
  return fc.oneof(fc.integer({ min: Math.max(1, limit - 3), max: limit + 3 }), fc.integer({ min: 1, max: limit * 4 }));
}

function fill(pattern: string, length: number): string {
  return pattern.repeat(Math.ceil(length / pattern.length)).slice(0, length);
}

/** Labels of at most 63 characters joined by "." ending in a letter. */
function longSubdomain(length: number): string {
  let s = fill(`${'a'.repeat(62)}.`, length);
  if (s.endsWith('.')) s = `${s.slice(0, -1)}b`;
  return s;
}

export const LONG = {
  dns1123Label: lengths(63).map((n) => fill('a1-b', n - 1) + 'c'),
  dns1123Subdomain: lengths(222).map(longSubdomain),
  labelValue: lengths(63).map((n) => fill('A_b.1-', n - 1) + 'z'),
  kernelModuleName: lengths(55).map((n) => fill('mod_', n)),
  imageRepository: lengths(255).map((n) => `quay.io/${fill('abc/', Math.max(1, n - 9))}z`),
  imageReference: fc.tuple(lengths(255), lengths(128)).map(([n, t]) => `quay.io/${fill('abc/', Math.max(1, n - 9))}z:${fill('T', t)}`),
  firmwarePath: fc.oneof(
    lengths(1024).map((n) => fill('/firmware', n)),
    lengths(255).map((n) => `/lib/${fill('f', n)}`),
  ),
  moduleParameter: lengths(1024).map((n) => `p=${fill('v,', Math.max(1, n - 2))}`),
};

// ---------------------------------------------------------------------------------------------
// Turning valid values into suspicious ones.

type Edit =
  | { readonly op: 'insert' | 'replace'; readonly at: number; readonly token: string }
  | { readonly op: 'delete'; readonly at: number; readonly count: number }
  | { readonly op: 'upper' | 'double' };

const token = fc.oneof({ arbitrary: fc.constantFrom(...HOSTILE_TOKENS), weight: 3 }, { arbitrary: fc.constantFrom(...VALIDISH_TOKENS), weight: 2 });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constantFrom('insert' as const, 'replace' as const), at: fc.nat(), token }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 3 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constantFrom('upper' as const, 'double' as const) }), weight: 1 },
);

function applyEdit(value: string, e: Edit): string {
  switch (e.op) {
    case 'upper': return value.toUpperCase();
    case 'double': return `${value}${value}`;
    case 'delete': {
      const at = value.length === 0 ? 0 : e.at % value.length;
      return value.slice(0, at) + value.slice(at + e.count);
    }
    default: {
      const at = e.at % (value.length + 1);
      return value.slice(0, at) + e.token + value.slice(at + (e.op === 'replace' ? 1 : 0));
    }
  }
}

/** `valid` with one to three edits. */
export function mutated(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 3 }))
    .map(([value, edits]) => edits.reduce(applyEdit, value));
}

export const hostileString: fc.Arbitrary<string> = fc.array(fc.constantFrom(...HOSTILE_TOKENS), { minLength: 1, maxLength: 8 })
  .map((tokens) => tokens.join(''));

export const randomString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 24 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 12 }),
  chars(`${LOWER}${UPPER}${DIGITS}-._/:@+,=`, 0, 24),
);

/** What JavaScript callers (and jsii languages through JSON) may pass where a string is declared. */
export const notAString: fc.Arbitrary<unknown> = fc.constantFrom(undefined, null, 0, 42, true, NaN, {}, [], ['ice'], { toString: () => 'ice' });

export interface FieldValues {
  readonly valid: fc.Arbitrary<string>;
  readonly long: fc.Arbitrary<string>;
}

/**
 * Every kind of value for one string field. `optional` fields also get `undefined` and `''`
 * (both mean "not set") more often; `stringsOnly` leaves out non-strings (for map keys).
 */
export function fieldValue(values: FieldValues, optional = false): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: stringValue(values), weight: 95 },
    { arbitrary: notAString, weight: optional ? 2 : 1 },
    { arbitrary: fc.constantFrom(undefined, ''), weight: optional ? 4 : 0 },
  );
}

/** Every kind of string for one field. */
export function stringValue(values: FieldValues): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: values.valid, weight: 10 },
    { arbitrary: mutated(values.valid), weight: 40 },
    { arbitrary: yamlAmbiguous, weight: 8 },
    { arbitrary: hostileString, weight: 6 },
    { arbitrary: randomString, weight: 8 },
    { arbitrary: values.long, weight: 8 },
  );
}

/** A list with one of its entries repeated at the end. */
function withDuplicate(entry: fc.Arbitrary<string>): fc.Arbitrary<string[]> {
  return fc.tuple(fc.array(entry, { minLength: 1, maxLength: 3 }), fc.nat()).map(([list, i]) => [...list, list[i % list.length]]);
}

/** Lists of entries of one field (each entry drawn like a field value), sometimes with duplicates. */
export function listValue(values: FieldValues): fc.Arbitrary<unknown> {
  const entries = fc.array(fieldValue(values), { maxLength: 6 });
  return fc.oneof(
    { arbitrary: fc.array(values.valid, { maxLength: 4 }), weight: 8 },
    { arbitrary: entries, weight: 40 },
    { arbitrary: withDuplicate(values.valid), weight: 5 },
    { arbitrary: fc.array(values.valid, { minLength: 20, maxLength: 64 }), weight: 3 },
    { arbitrary: fc.constantFrom(undefined, null, 'ice', 42, {}), weight: 3 },
  );
}

/** Values a field accepts most of the time: for the sampled end-to-end runs, where a rejection is wasted. */
export function mostlyValid(values: FieldValues): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: values.valid, weight: 6 },
    { arbitrary: mutated(values.valid), weight: 2 },
    { arbitrary: values.long, weight: 1 },
    { arbitrary: yamlAmbiguous, weight: 1 },
  );
}

/** Kubernetes label key: optional DNS-1123 subdomain prefix and "/", then a name like a label value. */
export const labelKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('node-role.kubernetes.io/worker', 'kubernetes.io/hostname', 'feature.node.kubernetes.io/network-sriov.capable', 'a', 'A_b.c-1'),
  fc.tuple(fc.option(dns1123Subdomain), labelValue).map(([prefix, name]) => (prefix === null ? name : `${prefix}/${name}`)),
);

/** An integer percentage as MachineConfigPool.spec.maxUnavailable takes it. */
export const percentage: fc.Arbitrary<string> = fc.integer({ min: 1, max: 100 }).map((n) => `${n}%`);

export const FIELD_VALUES = {
  dns1123Label: { valid: dns1123Label, long: LONG.dns1123Label },
  dns1123Subdomain: { valid: dns1123Subdomain, long: LONG.dns1123Subdomain },
  labelValue: { valid: labelValue, long: LONG.labelValue },
  kernelModuleName: { valid: kernelModuleName, long: LONG.kernelModuleName },
  imageRepository: { valid: imageRepository, long: LONG.imageRepository },
  imageReference: { valid: imageReference, long: LONG.imageReference },
  firmwarePath: { valid: firmwarePath, long: LONG.firmwarePath },
  moduleParameter: { valid: moduleParameter, long: LONG.moduleParameter },
  labelKey: { valid: labelKey, long: lengths(63).map((n) => `example.com/${fill('k', n)}`) },
  percentage: { valid: percentage, long: lengths(4).map((n) => `${fill('1', n)}%`) },
} satisfies Record<string, FieldValues>;
