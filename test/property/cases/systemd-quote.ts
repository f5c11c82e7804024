import { strictEqual } from 'assert';
import * as fc from 'fast-check';
import { environmentAssignment, systemdQuote } from '../../../src/boot';
import { expandSpecifiers, extractWords, parseUnitFile, serviceEnvironment } from '../../util/systemd';
import { HOSTILE_TOKENS } from '../arbitraries';
import { PropertyCase } from '../case';
import { expectEqual } from '../read-back';
import { RUNS } from '../settings';

/*
 * systemdQuote for any JavaScript string at all, not only for what validation lets through:
 * every string that a unit file can carry (see src/boot/systemd.ts) comes back from systemd's
 * unquoting, C unescaping and specifier expansion exactly; every other string is refused,
 * never altered. What a unit file can carry is decided here from the code points, and
 * checked against systemd itself in node.ts.
 */

/** A unit file can hold the string: no NUL (C strings), valid UTF-16, no noncharacter (systemd's UTF-8 check). */
export function carriable(value: string): boolean {
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    const loneSurrogate = cp >= 0xd800 && cp <= 0xdfff;
    const noncharacter = (cp >= 0xfdd0 && cp <= 0xfdef) || cp % 0x10000 >= 0xfffe;
    if (cp === 0 || loneSurrogate || noncharacter) return false;
  }
  return true;
}

const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
export const anyString = fc.oneof(
  { arbitrary: fc.string({ unit: codeUnit, maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: fc.constantFrom('\uFDD0', '\uFDEF', '\uFFFE', '\uFFFF', '\u{1FFFE}', '\u{10FFFF}', '\uFFFD', 'a'), maxLength: 4 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 2 },
  { arbitrary: fc.string({ unit: fc.constantFrom(...HOSTILE_TOKENS), maxLength: 20 }), weight: 3 },
  { arbitrary: fc.string({ unit: fc.constantFrom('\\', '"', "'", '%', ' ', '\t', '\n', 'x', '0', '$', '='), maxLength: 30 }), weight: 3 },
  { arbitrary: fc.string({ unit: codeUnit, minLength: 500, maxLength: 2000 }), weight: 1 },
);

export const SYSTEMD_CASES: PropertyCase[] = [
  {
    name: `systemdQuote: systemd reads back exactly any string a unit file can carry, and the rest is refused (${RUNS} runs)`,
    runs: RUNS,
    // Most strings can be carried; a few percent are refused, which is all the property needs.
    bothOutcomes: false,
    mustRefuseSome: true,
    property: (stats) => fc.property(anyString, (value) => {
      let quoted: string;
      try {
        quoted = systemdQuote(value);
      } catch (error) {
        strictEqual(carriable(value), false, `refused a string a unit file can carry: ${String(error)}`);
        strictEqual(String(error).includes('cannot be written to a unit file'), true);
        stats.rejected++;
        return;
      }
      stats.accepted++;
      strictEqual(carriable(value), true, 'quoted a string no unit file can carry');
      // One line (the unit parser is line-based), one word, and only %% as a specifier.
      strictEqual(/[\n\r]/.test(quoted), false);
      const words = extractWords(quoted);
      strictEqual(words.length, 1);
      strictEqual(expandSpecifiers(words[0]), value);
    }),
  },
  {
    name: `environmentAssignment: an Environment= line gives the service exactly the value (${RUNS} runs)`,
    runs: RUNS,
    bothOutcomes: false,
    property: (stats) => fc.property(anyString.filter(carriable), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/), (value, name) => {
      stats.accepted++;
      const unit = parseUnitFile(`[Service]\nEnvironment=${environmentAssignment(name, value)}\nExecStart=/bin/true\n`);
      expectEqual(serviceEnvironment(unit), { [name]: value });
    }),
  },
];
