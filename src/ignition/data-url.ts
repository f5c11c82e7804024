import { gunzipSync, gzipSync } from 'zlib';

/*
 * The one codec of RFC 2397 data URLs, as Ignition reads `contents.source` together with
 * `contents.compression`: `data:[<media type>][;base64],<data>`, the data base64 or
 * percent-encoded, and the decoded bytes gunzipped when the compression is `gzip` (the only
 * compression Ignition 3.2 has besides none). The media type is not Ignition's concern: it
 * writes the bytes as they are.
 */

/** Options of `dataUrl`. */
export interface DataUrlOptions {
  /**
   * `base64`, or `percent`: every byte outside RFC 3986's unreserved characters as `%XX`, as
   * Butane writes small files.
   * @default 'base64'
   */
  readonly encoding?: 'base64' | 'percent';
  /**
   * `gzip`: the bytes are gzipped first; the Ignition file must then say `compression: gzip`.
   * @default - not compressed
   */
  readonly compression?: 'gzip';
}

const UNRESERVED = /^[A-Za-z0-9._~-]$/;

/** Every byte outside RFC 3986's unreserved characters as `%XX` (upper-case hex digits). */
function percentEncode(bytes: Buffer): string {
  let text = '';
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte);
    text += UNRESERVED.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return text;
}

/** Percent-decoding to bytes: `%XX` is one byte, anything else stands for its UTF-8 bytes. */
function percentDecode(text: string): Buffer {
  if (!text.includes('%')) return Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  const escape = /%([0-9A-Fa-f]{2})/g;
  let last = 0;
  for (let match = escape.exec(text); match !== null; match = escape.exec(text)) {
    chunks.push(Buffer.from(text.slice(last, match.index), 'utf8'), Buffer.from([parseInt(match[1], 16)]));
    last = match.index + 3;
  }
  chunks.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(chunks);
}

/**
 * A data URL of `contents` (a string is taken as UTF-8). Text that is not compressed is
 * labelled `text/plain;charset=utf-8`; bytes and gzipped text get no media type.
 */
export function dataUrl(contents: string | Uint8Array, options: DataUrlOptions = {}): string {
  let bytes = typeof contents === 'string' ? Buffer.from(contents, 'utf8') : Buffer.from(contents);
  if (options.compression === 'gzip') bytes = gzipSync(bytes);
  const mediaType = typeof contents === 'string' && options.compression === undefined ? 'text/plain;charset=utf-8' : '';
  return (options.encoding ?? 'base64') === 'base64'
    ? `data:${mediaType};base64,${bytes.toString('base64')}`
    : `data:${mediaType},${percentEncode(bytes)}`;
}

/**
 * The bytes of a data URL (base64 or percent-encoded), gunzipped when `compression` is
 * `gzip`; undefined for anything else: another URL scheme, no comma, data that does not
 * gunzip, a compression Ignition does not know.
 */
export function decodeDataUrlBytes(source: string, compression?: string): Buffer | undefined {
  if (!/^data:/i.test(source)) return undefined;
  const comma = source.indexOf(',');
  if (comma < 0) return undefined;
  const mediaType = source.slice('data:'.length, comma);
  const data = source.slice(comma + 1);
  const bytes = /;base64$/i.test(mediaType) ? Buffer.from(data, 'base64') : percentDecode(data);
  if (compression === undefined || compression === '') return bytes;
  if (compression !== 'gzip') return undefined;
  try {
    return gunzipSync(bytes);
  } catch {
    return undefined;
  }
}

/** `decodeDataUrlBytes` as UTF-8 text (a byte sequence that is not UTF-8 reads as U+FFFD). */
export function decodeDataUrl(source: string, compression?: string): string | undefined {
  return decodeDataUrlBytes(source, compression)?.toString('utf8');
}
