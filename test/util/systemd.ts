/*
 * A reader of unit files that follows systemd's rules for Environment= (extract_first_word
 * with unquoting and C unescaping, then % specifier expansion), so tests can check that a
 * value reaches the service environment byte for byte.
 */

export type UnitFile = Map<string, Array<[string, string]>>;

/** Parses unit-file text into sections of [key, raw value] pairs, in order. */
export function parseUnitFile(text: string): UnitFile {
  const sections: UnitFile = new Map();
  let current: Array<[string, string]> | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#') || line.startsWith(';')) {
      continue;
    }
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = [];
      sections.set(header[1], current);
      continue;
    }
    if (line.endsWith('\\')) {
      throw new Error(`line continuation in generated unit: ${line}`);
    }
    const eq = line.indexOf('=');
    if (eq < 0 || current === undefined) {
      throw new Error(`not a directive: ${line}`);
    }
    current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return sections;
}

/** All raw values of `key` in `section`. */
export function directives(unit: UnitFile, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  'a': '\x07', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v', 's': ' ', '\\': '\\', '"': '"', "'": "'",
};

function cunescapeOne(raw: string, i: number): [string, number] {
  const c = raw[i];
  if (c in SIMPLE_ESCAPES) {
    return [SIMPLE_ESCAPES[c], i + 1];
  }
  if (c === 'x') {
    const hex = raw.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex) || hex === '00') {
      throw new Error(`bad \\x escape in ${raw}`);
    }
    return [String.fromCharCode(parseInt(hex, 16)), i + 3];
  }
  if (c === 'u' || c === 'U') {
    const len = c === 'u' ? 4 : 8;
    const hex = raw.slice(i + 1, i + 1 + len);
    if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) {
      throw new Error(`bad \\${c} escape in ${raw}`);
    }
    return [String.fromCodePoint(parseInt(hex, 16)), i + 1 + len];
  }
  if (/[0-7]/.test(c)) {
    const oct = raw.slice(i, i + 3);
    if (!/^[0-7]{3}$/.test(oct)) {
      throw new Error(`bad octal escape in ${raw}`);
    }
    return [String.fromCharCode(parseInt(oct, 8)), i + 3];
  }
  throw new Error(`unknown escape \\${c} in ${raw}`);
}

/** Splits a directive value into words the way systemd does for Environment=. */
export function extractWords(raw: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < raw.length) {
    while (i < raw.length && /\s/.test(raw[i])) i++;
    if (i >= raw.length) break;
    let word = '';
    let quote: string | undefined;
    while (i < raw.length) {
      const c = raw[i];
      if (quote === undefined && /\s/.test(c)) break;
      if (c === '\\') {
        const [decoded, next] = cunescapeOne(raw, i + 1);
        word += decoded;
        i = next;
        continue;
      }
      if (quote === undefined && (c === '"' || c === "'")) {
        quote = c;
      } else if (c === quote) {
        quote = undefined;
      } else {
        word += c;
      }
      i++;
    }
    if (quote !== undefined) {
      throw new Error(`unterminated quote in ${raw}`);
    }
    words.push(word);
  }
  return words;
}

/** Expands specifiers; only `%%` may appear in what we generate. */
export function expandSpecifiers(word: string): string {
  return word.replace(/%(.)/gs, (_, c: string) => {
    if (c === '%') return '%';
    throw new Error(`unexpected specifier %${c} in ${word}`);
  });
}

/** The environment a service sees from its Environment= lines (later assignments win). */
export function serviceEnvironment(unit: UnitFile): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of directives(unit, 'Service', 'Environment')) {
    for (const word of extractWords(raw)) {
      const assignment = expandSpecifiers(word);
      const eq = assignment.indexOf('=');
      if (eq <= 0) throw new Error(`not an assignment: ${assignment}`);
      env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
    }
  }
  return env;
}
