/*
 * The environment a systemd unit file gives its service: `Environment=` lines of [Service],
 * read as systemd reads them (the inverse of src/boot/systemd.ts's quoting). Lines ending in
 * "\" continue on the next; each value is split into words with C-style escapes and quotes
 * removed, each word NAME=VALUE; an empty `Environment=` clears what came before; `%%` is `%`.
 * Drop-ins apply after the unit, in name order.
 */

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', s: ' ' };

/** The unescaped words of an `Environment=` value. */
export function environmentWords(value: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quote === undefined && /\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    word = word ?? '';
    if (ch === '\\' && i + 1 < value.length) {
      const next = value[++i];
      const hex = next === 'x' ? /^[0-9a-fA-F]{2}/.exec(value.slice(i + 1)) : null;
      if (hex) {
        word += String.fromCharCode(parseInt(hex[0], 16));
        i += 2;
      } else {
        word += ESCAPES[next] ?? next;
      }
    } else if (quote === undefined && (ch === '"' || ch === '\'')) {
      quote = ch;
    } else if (ch === quote) {
      quote = undefined;
    } else {
      word += ch;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Applies the [Service] `Environment=` lines of one unit file or drop-in to `environment`. */
function apply(environment: Map<string, string>, text: string): void {
  let section = '';
  for (const line of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      section = header[1];
      continue;
    }
    const assignment = /^Environment\s*=(.*)$/.exec(trimmed);
    if (section !== 'Service' || !assignment) continue;
    if (assignment[1].trim() === '') {
      environment.clear();
      continue;
    }
    for (const word of environmentWords(assignment[1])) {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(word);
      // systemd ignores an assignment it cannot read; so does this.
      if (match) environment.set(match[1], match[2].replace(/%%/g, '%'));
    }
  }
}

/** The environment of a unit with its drop-ins. */
export function unitEnvironment(
  contents: string | undefined,
  dropins: ReadonlyArray<{ readonly name: string; readonly contents?: string }>,
): Map<string, string> {
  const environment = new Map<string, string>();
  if (contents !== undefined) apply(environment, contents);
  for (const dropin of [...dropins].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (dropin.contents !== undefined) apply(environment, dropin.contents);
  }
  return environment;
}
