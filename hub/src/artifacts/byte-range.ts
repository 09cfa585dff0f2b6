// The one HTTP Range form a blob reader needs (RFC 9110 §14): a single "bytes=" range. Pure.
import type { ByteSpan } from './blob-store.js';

/**
 * What to answer a Range header with, for a blob of `size` bytes:
 * - `undefined`: no Range, or one the server may ignore (malformed, several ranges, another unit): 200, whole;
 * - `'unsatisfiable'`: a range wholly past the end: 416 with `Content-Range: bytes *\/size`;
 * - a span: 206 with those bytes (an end past the blob is cut to its last byte, as the RFC says).
 */
export function parseRange(header: string | undefined, size: number): ByteSpan | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    // bytes=-N: the last N bytes.
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (m[2] !== '' && end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}
