import { dirname } from 'path';
import { loadAll } from 'js-yaml';

/*
 * A manifest is read by more YAML implementations than the one that wrote it: js-yaml here,
 * the `yaml` package (YAML 1.1) inside cdk8s, and on the cluster side go-yaml v2 (kubectl, oc,
 * Argo CD, through sigs.k8s.io/yaml) and go-yaml v3 (kustomize, hence Flux). They disagree
 * about unquoted scalars: `0o17` is text to YAML 1.1 and the number 15 to YAML 1.2 and Go,
 * `1_0` is the number 10 to YAML 1.1 and Go and text to YAML 1.2. A writer quotes what *its*
 * dialect would misread, so a value can arrive at the API server as a number although we
 * wrote a string. `auditedLoadAll` loads like js-yaml and fails on every plain (unquoted)
 * scalar whose type any of these readers sees differently.
 */

/** What a reader makes of a plain scalar. Timestamps count separately: they are not text. */
export type ScalarKind = 'string' | 'number' | 'boolean' | 'null' | 'timestamp' | 'merge' | 'error';

// The `yaml` package cdk8s itself uses (it bundles its own copy), so YAML 1.1 here is cdk8s's YAML 1.1.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdk8sYaml: typeof import('yaml') = require(require.resolve('yaml', { paths: [dirname(require.resolve('cdk8s'))] }));

function kindOfValue(value: unknown): ScalarKind {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return 'timestamp';
  switch (typeof value) {
    case 'string': return 'string';
    case 'number': case 'bigint': return 'number';
    case 'boolean': return 'boolean';
    default: return 'error';
  }
}

function yamlPackageKind(plain: string, version: '1.1' | '1.2'): ScalarKind {
  try {
    const doc = cdk8sYaml.parseDocument(plain, { version, intAsBigInt: true });
    if (doc.errors.length > 0) return 'error';
    const node = doc.contents;
    if (!cdk8sYaml.isScalar(node)) return 'error';
    if (node.tag === 'tag:yaml.org,2002:merge') return 'merge';
    return kindOfValue(node.value);
  } catch {
    return 'error';
  }
}

// ---------------------------------------------------------------------------------------------
// go-yaml's resolve() (v2 resolve.go; v3 differs where noted), transcribed rule by rule.

const GO_V2_MAP: Record<string, ScalarKind> = {};
for (const word of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON',
  'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']) {
  GO_V2_MAP[word] = 'boolean';
}
for (const word of ['', '~', 'null', 'Null', 'NULL']) GO_V2_MAP[word] = 'null';
for (const word of ['.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF']) {
  GO_V2_MAP[word] = 'number';
}
GO_V2_MAP['<<'] = 'merge';

/** v3 reads only true/false as booleans when the target is untyped (interface{}). */
const GO_V3_MAP: Record<string, ScalarKind> = { ...GO_V2_MAP };
for (const word of ['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']) {
  delete GO_V3_MAP[word];
}

/** yamlStyleFloat in resolve.go. */
const GO_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** strconv.ParseInt(s, 0, 64) succeeds, or ParseUint(s, 0, 64) does (no sign there). */
function goParsesInt(s: string): boolean {
  const m = /^([-+]?)(0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return false;
  const digits = m[2];
  let magnitude: bigint;
  if (/^0[oO]/.test(digits)) magnitude = BigInt(`0o${digits.slice(2)}`);
  else if (/^0[0-7]+$/.test(digits)) magnitude = BigInt(`0o${digits.slice(1)}`);
  else magnitude = BigInt(digits.toLowerCase());
  const value = m[1] === '-' ? -magnitude : magnitude;
  return (value >= INT64_MIN && value <= INT64_MAX) || (m[1] === '' && value <= UINT64_MAX);
}

/** time.Parse with go-yaml's allowedTimestampFormats, after its "YYYY-" quick check. */
function goParsesTimestamp(s: string): boolean {
  if (!/^[0-9]{4}-/.test(s)) return false;
  const m = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?(?:Z|[-+][0-9]{2}:[0-9]{2})?)?$/.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function goKind(plain: string, v3: boolean): ScalarKind {
  const map = v3 ? GO_V3_MAP : GO_V2_MAP;
  const first = plain === '' ? '' : plain[0];
  // resolveTable: only these first characters lead anywhere but "string".
  const hint = first === '' ? 'N'
    : /[0-9]/.test(first) ? 'D'
      : first === '+' || first === '-' ? 'S'
        : 'yYnNtTfFoO~'.includes(first) ? 'M'
          : first === '.' ? '.'
            : '';
  if (hint === '') return 'string';
  if (Object.prototype.hasOwnProperty.call(map, plain)) return map[plain];
  if (hint === '.') {
    return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(plain) ? 'number' : 'string';
  }
  if (hint === 'D' || hint === 'S') {
    if (goParsesTimestamp(plain)) {
      // v2 hands an untyped target the original text "for backward compatibility"; v3 a time.Time.
      return v3 ? 'timestamp' : 'string';
    }
    const stripped = plain.replace(/_/g, '');
    if (goParsesInt(stripped)) return 'number';
    if (GO_FLOAT.test(stripped)) return 'number';
    if (/^-?0b[01]+$/.test(stripped)) return 'number';
  }
  return 'string';
}

// ---------------------------------------------------------------------------------------------

const DIALECTS: ReadonlyArray<readonly [string, (plain: string) => ScalarKind]> = [
  ['YAML 1.1 (yaml, as in cdk8s)', (s) => yamlPackageKind(s, '1.1')],
  ['YAML 1.2 core (yaml)', (s) => yamlPackageKind(s, '1.2')],
  ['go-yaml v2 (kubectl, oc, Argo CD)', (s) => goKind(s, false)],
  ['go-yaml v3 (kustomize, Flux)', (s) => goKind(s, true)],
];

const verdicts = new Map<string, string | undefined>();

/**
 * A plain scalar can only be something other than text to some reader if it starts like a
 * number, a date or `.inf` (or with e/E: the `yaml` package reads `e5` as a float), or is one
 * of the few words for booleans, null and merge keys: no dialect above resolves anything else.
 * Checked first, because nearly all scalars are plainly text and parsing each with two YAML
 * parsers would dominate the suite's time.
 */
const MAYBE_NOT_TEXT = /^(?:[-+.0-9~eE]|(?:[yYnN]|[Yy]es|YES|[Nn]o|NO|[Tt]rue|TRUE|[Ff]alse|FALSE|[Oo]n|ON|[Oo]ff|OFF|[Nn]ull|NULL|<<|=)?$)/;

/** The first characters of everything MAYBE_NOT_TEXT matches (except the empty scalar). */
const FIRST_OF_NOT_TEXT = '-+.0123456789~eEyYnNtTfFoO<=';

/**
 * Why readers disagree about a plain scalar that js-yaml read as `jsYamlKind`, or undefined
 * when they all agree. Cached: the same keys and constants recur in every manifest.
 */
export function plainScalarDisagreement(plain: string, jsYamlKind: ScalarKind): string | undefined {
  if (jsYamlKind === 'string' && !MAYBE_NOT_TEXT.test(plain)) return undefined;
  const key = `${jsYamlKind}\0${plain}`;
  if (verdicts.has(key)) return verdicts.get(key);
  const differing = DIALECTS
    .map(([name, kindOf]) => [name, kindOf(plain)] as const)
    .filter(([, kind]) => kind !== jsYamlKind);
  const verdict = differing.length === 0
    ? undefined
    : `plain scalar ${JSON.stringify(plain.length > 80 ? `${plain.slice(0, 80)}…` : plain)} is a ${jsYamlKind} to js-yaml but `
      + differing.map(([name, kind]) => `a ${kind} to ${name}`).join(', ');
  if (verdicts.size > 200_000) verdicts.clear();
  verdicts.set(key, verdict);
  return verdict;
}

/**
 * js-yaml's `loadAll`, plus the check that every plain scalar (keys included) means the same
 * to every reader above. Throws naming the first scalar they disagree on.
 */
export function auditedLoadAll(text: string): unknown[] {
  const starts: number[] = [];
  const problems: string[] = [];
  const docs: unknown[] = [];
  loadAll(text, (doc) => { docs.push(doc); }, {
    listener(event, state) {
      if (event === 'open') {
        starts.push(state.position);
        return;
      }
      let start = starts.pop()!;
      if (state.kind !== 'scalar') return;
      while (text[start] === ' ' || text[start] === '\n') start++;
      const first = text[start];
      if (first === '"' || first === "'" || first === '|' || first === '>') return;
      if (first === '!' || first === '&' || first === '*') {
        problems.push(`unexpected tag, anchor or alias: ${text.slice(start, start + 80)}`);
        return;
      }
      const kind = kindOfValue(state.result);
      // Text to js-yaml and not starting like anything else: text to all, no need to cut it out.
      if (kind === 'string' && !FIRST_OF_NOT_TEXT.includes(first)) return;
      const source = text.slice(start, state.position).trimEnd();
      const problem = plainScalarDisagreement(source, kind);
      if (problem !== undefined) problems.push(problem);
    },
  });
  if (problems.length > 0) {
    throw new Error(`YAML readers disagree:\n  ${[...new Set(problems)].join('\n  ')}`);
  }
  return docs;
}

/** The one document of `text`, audited. */
export function auditedLoad(text: string): unknown {
  const docs = auditedLoadAll(text);
  if (docs.length !== 1) throw new Error(`expected one YAML document, found ${docs.length}`);
  return docs[0];
}
