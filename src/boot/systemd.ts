/*
 * systemd unit-file quoting. An `Environment=` value is read by systemd in two passes:
 * the word is unquoted with C-style escapes, then `%` specifiers are expanded. Writing each
 * value as one double-quoted word with `\\`, `\"`, C escapes for control characters and `%%`
 * for `%` makes every string arrive in the service's environment unchanged. Some strings
 * cannot arrive at all: one with NUL (systemd refuses `\x00`, and the environment is made of
 * C strings), one with a lone UTF-16 surrogate (it has no UTF-8 encoding; the file would carry
 * U+FFFD instead), and one with a Unicode noncharacter (U+FDD0 to U+FDEF, U+FFFE, U+FFFF and
 * the last two of every plane), which systemd's UTF-8 check rejects ("String is not UTF-8
 * clean, ignoring assignment"). Those are refused here rather than altered or dropped.
 */

const C_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  '\n': '\\n',
  '\t': '\\t',
  '\r': '\\r',
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\v': '\\v',
};

function escapeChar(ch: string): string {
  const mapped = C_ESCAPES[ch];
  if (mapped !== undefined) {
    return mapped;
  }
  if (ch === '%') {
    return '%%';
  }
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** systemd's unichar_is_valid(): U+FDD0 to U+FDEF and the last two code points of each of the 17 planes. */
const NONCHARACTER_RE = new RegExp(`[\\u{FDD0}-\\u{FDEF}${Array.from({ length: 17 }, (_, plane) =>
  `\\u{${(plane * 0x10000 + 0xfffe).toString(16)}}\\u{${(plane * 0x10000 + 0xffff).toString(16)}}`).join('')}]`, 'u');

/**
 * Escapes one word for a unit file so systemd reads back exactly `value`.
 *
 * @throws Error when `value` has a NUL, a lone surrogate or a noncharacter, which no unit file can carry
 */
export function systemdQuote(value: string): string {
  if (value.includes('\0') || LONE_SURROGATE_RE.test(value) || NONCHARACTER_RE.test(value)) {
    throw new Error(`${JSON.stringify(value)} cannot be written to a unit file: it has a NUL character, a lone UTF-16 surrogate or a Unicode noncharacter`);
  }
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/[\\"%\x01-\x1f\x7f]/g, escapeChar)}"`;
}

/** The value of an `Environment=` directive that sets `name` to `value` verbatim. */
export function environmentAssignment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new Error(`environment variable name ${JSON.stringify(name)} is not a valid identifier`);
  }
  return systemdQuote(`${name}=${value}`);
}

/** A unit file section: ordered directives, repeated keys allowed. */
export interface UnitSection {
  readonly name: string;
  readonly directives: ReadonlyArray<readonly [string, string]>;
}

/** Renders sections as unit-file text ending in a newline. */
export function renderUnitFile(sections: readonly UnitSection[]): string {
  return sections
    .map((section) => [`[${section.name}]`, ...section.directives.map(([key, value]) => `${key}=${value}`)].join('\n'))
    .join('\n\n') + '\n';
}
