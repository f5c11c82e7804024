/*
 * `WWW-Authenticate` challenges (RFC 7235): `Bearer realm="...",service="...",scope="..."` or
 * `Basic realm="..."`. A registry may send several, and Node joins repeated headers with ", ",
 * so a header is a list of challenges, each a scheme followed by comma-separated parameters.
 */

/** One authentication challenge: its scheme in lowercase and its parameters (names lowercased). */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/** Reads a quoted string starting at `text[start]` (a `"`); returns its value and the index after it. */
function quoted(text: string, start: number): [string, number] {
  let value = '';
  let i = start + 1;
  while (i < text.length && text[i] !== '"') {
    if (text[i] === '\\' && i + 1 < text.length) i++;
    value += text[i++];
  }
  return [value, i + 1];
}

function skip(text: string, i: number, chars: RegExp): number {
  while (i < text.length && chars.test(text[i])) i++;
  return i;
}

/**
 * Every challenge of a `WWW-Authenticate` header value; text that does not parse ends the list.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Array<{ scheme: string; params: Record<string, string> }> = [];
  let i = skip(header, 0, /[\s,]/);
  while (i < header.length) {
    const name = TOKEN.exec(header.slice(i));
    if (!name) break;
    const after = skip(header, i + name[0].length, /\s/);
    if (header[after] === '=' && challenges.length > 0 && header[after + 1] !== '=') {
      // A parameter of the current challenge.
      let valueStart = skip(header, after + 1, /\s/);
      let value: string;
      if (header[valueStart] === '"') {
        [value, valueStart] = quoted(header, valueStart);
      } else {
        // Lenient: an unquoted value runs to the next comma or space, so an unquoted URL survives.
        value = /^[^,\s]*/.exec(header.slice(valueStart))![0];
        valueStart += value.length;
      }
      challenges[challenges.length - 1].params[name[0].toLowerCase()] = value;
      i = skip(header, valueStart, /[\s,]/);
    } else {
      challenges.push({ scheme: name[0].toLowerCase(), params: {} });
      i = skip(header, i + name[0].length, /[\s,]/);
    }
  }
  return challenges;
}
