// The content store's errors: each says what went wrong and that nothing was kept.

export class BlobTooLargeError extends Error {
  override readonly name = 'BlobTooLargeError';
  constructor(readonly limit: number) {
    super(`the blob is larger than the hub's limit of ${limit} bytes (outpost hub serve --max-upload-size); nothing was kept`);
  }
}

export class DigestMismatchError extends Error {
  override readonly name = 'DigestMismatchError';
  constructor(readonly expected: string, readonly actual: string) {
    super(`the bytes sent hash to ${actual}, not the ${expected} they were sent as (changed or cut short on the way?); nothing was kept: send the file again`);
  }
}

export class SizeMismatchError extends Error {
  override readonly name = 'SizeMismatchError';
  constructor(readonly expected: number, readonly actual: number) {
    super(`${actual} bytes arrived, not the ${expected} announced (the upload was cut short?); nothing was kept: send the file again`);
  }
}
