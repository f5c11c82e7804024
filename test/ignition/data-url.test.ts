import { gzipSync } from 'zlib';
import { dataUrl, DataUrlOptions, decodeDataUrl, decodeDataUrlBytes } from '../../src/ignition';

/*
 * The data-URL codec: what the generator writes, and whatever other writers of a pool
 * (Butane, the KMM operator, hand-written YAML) put into `contents.source`. Node's fetch
 * implements the WHATWG reading of data URLs and serves as the independent decoder.
 */

async function fetched(url: string): Promise<Buffer> {
  return Buffer.from(await (await fetch(url)).arrayBuffer());
}

const NOT_UTF8 = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x80, 0x25, 0x2c, 0x0a]);

describe('dataUrl', () => {
  test('text is base64 of its UTF-8 bytes, labelled text/plain;charset=utf-8 (what every MachineConfig carries)', () => {
    expect(dataUrl('hé\n')).toBe('data:text/plain;charset=utf-8;base64,aMOpCg==');
    expect(dataUrl('')).toBe('data:text/plain;charset=utf-8;base64,');
  });

  test('percent-encoding escapes every byte outside the unreserved characters, in upper-case hex', () => {
    expect(dataUrl('a b/é~%,', { encoding: 'percent' })).toBe('data:text/plain;charset=utf-8,a%20b%2F%C3%A9~%25%2C');
    expect(dataUrl(NOT_UTF8, { encoding: 'percent' })).toBe('data:,%FF%00%C3%28%80%25%2C%0A');
  });

  test('bytes and gzipped contents carry no media type', () => {
    expect(dataUrl(NOT_UTF8)).toBe(`data:;base64,${NOT_UTF8.toString('base64')}`);
    expect(dataUrl('zipped\n', { compression: 'gzip' })).toMatch(/^data:;base64,H4sI/);
  });

  test.each<[string, string | Buffer, DataUrlOptions]>([
    ['text, base64', 'hé\n\u{1F600}', {}],
    ['text, percent', 'hé\n\u{1F600} 100%', { encoding: 'percent' }],
    ['bytes that are not UTF-8, base64', NOT_UTF8, {}],
    ['bytes that are not UTF-8, percent', NOT_UTF8, { encoding: 'percent' }],
    ['bytes, gzip, base64', NOT_UTF8, { compression: 'gzip' }],
    ['bytes, gzip, percent', NOT_UTF8, { compression: 'gzip', encoding: 'percent' }],
  ])('%s: decodes to the same bytes, here and by the WHATWG reading', async (_, contents, options) => {
    const url = dataUrl(contents, options);
    const bytes = typeof contents === 'string' ? Buffer.from(contents, 'utf8') : contents;
    expect(decodeDataUrlBytes(url, options.compression)).toEqual(bytes);
    const read = await fetched(url);
    expect(options.compression === undefined ? read : decodeDataUrlBytes(`data:;base64,${read.toString('base64')}`, 'gzip')).toEqual(bytes);
    if (typeof contents === 'string') expect(decodeDataUrl(url, options.compression)).toBe(contents);
  });
});

describe('decodeDataUrl', () => {
  test.each([
    ['base64 with a media type', 'data:text/plain;charset=utf-8;base64,aMOpCg==', 'hé\n'],
    ['base64 without one, scheme and parameter in capitals', 'DATA:;BASE64,aMOpCg==', 'hé\n'],
    ['percent escapes in either case', 'data:,h%C3%a9%0A', 'hé\n'],
    ['a media type with parameters', 'data:text/plain;charset=utf-8,a%20b', 'a b'],
    ['a % that starts no escape stays', 'data:,100%25%2%zz%', '100%%2%zz%'],
    ['unescaped non-ASCII stands for its UTF-8 bytes', 'data:,é,x', 'é,x'],
    ['empty', 'data:,', ''],
  ])('%s', async (_, url, text) => {
    expect(decodeDataUrl(url)).toBe(text);
    expect((await fetched(url)).toString('utf8')).toBe(text);
  });

  test('bytes that are not UTF-8 come back as they are; as text they read as U+FFFD', () => {
    expect(decodeDataUrlBytes('data:,%FF%FEa')).toEqual(Buffer.from([0xff, 0xfe, 0x61]));
    expect(decodeDataUrl('data:,%FF%FEa')).toBe('\uFFFD\uFFFDa');
  });

  test('gzip: gunzipped when the file says so, left as they are otherwise, and undefined when they do not gunzip', () => {
    const gzipped = `data:;base64,${gzipSync(Buffer.from('zipped\n')).toString('base64')}`;
    expect(decodeDataUrl(gzipped, 'gzip')).toBe('zipped\n');
    expect(decodeDataUrlBytes(gzipped)?.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(decodeDataUrl(gzipped, '')).toBe(decodeDataUrl(gzipped));
    expect(decodeDataUrl('data:,plain', 'gzip')).toBeUndefined();
  });

  test.each([
    ['another scheme', 'https://example.com/ice.sh', undefined],
    ['a relative reference', 'ice.sh', undefined],
    ['no comma', 'data:text/plain;base64', undefined],
    ['empty', '', undefined],
    ['a compression Ignition does not know', 'data:,x', 'xz'],
  ])('%s: undefined', (_, url, compression) => {
    expect(decodeDataUrlBytes(url, compression)).toBeUndefined();
    expect(decodeDataUrl(url, compression)).toBeUndefined();
  });
});
