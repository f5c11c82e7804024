/*
 * systemd unit-file quoting. An `Environment=` value is read by systemd in two passes:
 * the word is unquoted with C-style escapes, then `%` specifiers are expanded. Writing each
 * value as one double-quoted word with `\\`, `\"`, C escapes for control characters and `%%`
 * for `%` makes every string arrive in the service's environment unchanged.
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

/** Escapes one word for a unit file so systemd reads back exactly `value`. */
export function systemdQuote(value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/[\\"%\x00-\x1f\x7f]/g, escapeChar)}"`;
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
