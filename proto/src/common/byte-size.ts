// Sizes an operator writes on a command line: "20GiB", "512MiB", "1.5GB", "1000000". IEC units are powers
// of 1024 and SI units powers of 1000, as they say; "20G" with no i or B is read as IEC, as kubectl's
// quantities "20Gi" are, since a cache or part size is about disk and files.

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, ki: 1024, kib: 1024, kb: 1000,
  m: 1024 ** 2, mi: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2,
  g: 1024 ** 3, gi: 1024 ** 3, gib: 1024 ** 3, gb: 1000 ** 3,
  t: 1024 ** 4, ti: 1024 ** 4, tib: 1024 ** 4, tb: 1000 ** 4,
};

export class ByteSizeError extends Error {
  override readonly name = 'ByteSizeError';
}

/** Bytes of a size such as "20GiB"; throws ByteSizeError saying how to write one. */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ByteSizeError(`"${text}" is not a size; write a number with an optional unit, such as 20GiB, 512MiB, 1GB or 1000000`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new ByteSizeError(`"${text}" is too large a size`);
  return bytes;
}

/** A size for people: "1.5 GiB", "12.0 MiB", "900 B". */
export function formatByteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
