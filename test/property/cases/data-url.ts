import { deepStrictEqual, strictEqual } from 'assert';
import * as fc from 'fast-check';
import { dataUrl, DataUrlOptions, decodeDataUrl, decodeDataUrlBytes } from '../../../src/ignition';
import { PropertyCase } from '../case';
import { RUNS } from '../settings';

/*
 * The data-URL codec on any contents: any bytes, any string, either encoding, with or
 * without gzip, decode to themselves, and the URL stays within RFC 2397's characters.
 */

const options: fc.Arbitrary<DataUrlOptions> = fc.record({
  encoding: fc.constantFrom('base64' as const, 'percent' as const),
  compression: fc.constantFrom(undefined, 'gzip' as const),
}, { requiredKeys: [] });
const contents = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.string({ unit: fc.constantFrom('%', '2', 'F', 'z', ',', ';', ' ', '\n', '\u00e9', '+', '/', '='), maxLength: 40 }),
);
/** What RFC 2397 allows after `data:`: a media type of URL characters, a comma, base64 or unreserved and escapes. */
const URL_SHAPE = /^data:[!-+\--~]*(?:;base64,[A-Za-z0-9+/]*={0,2}|,(?:[A-Za-z0-9._~-]|%[0-9A-F]{2})*)$/;

export const DATA_URL_CASES: PropertyCase[] = [
  {
    name: `data URLs: any bytes or string, either encoding, gzipped or not, decode to themselves (${RUNS} runs)`,
    runs: RUNS,
    bothOutcomes: false,
    property: (stats) => fc.property(contents, options, (given, opts) => {
      stats.accepted++;
      const url = dataUrl(given, opts);
      strictEqual(URL_SHAPE.test(url), true, `not a data URL of RFC 2397's characters: ${url}`);
      const bytes = typeof given === 'string' ? Buffer.from(given, 'utf8') : given;
      deepStrictEqual(decodeDataUrlBytes(url, opts.compression), bytes);
      if (typeof given === 'string') strictEqual(decodeDataUrl(url, opts.compression), given);
    }),
  },
];
