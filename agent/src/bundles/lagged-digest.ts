// Passes bytes on and hashes all but the last `tail` of them, which it keeps: a bundle's signature covers
// every byte before its fixed-size tail (the signature member and tar's end blocks), checked apart.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export class LaggedDigest extends Transform {
  private readonly hash = createHash('sha256');
  private held = Buffer.alloc(0);
  total = 0;

  constructor(private readonly tail: number) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.total += chunk.length;
    if (chunk.length >= this.tail) {
      this.hash.update(this.held);
      this.hash.update(chunk.subarray(0, chunk.length - this.tail));
      this.held = Buffer.from(chunk.subarray(chunk.length - this.tail));
    } else {
      const all = Buffer.concat([this.held, chunk]);
      const cut = Math.max(0, all.length - this.tail);
      if (cut) this.hash.update(all.subarray(0, cut));
      this.held = all.subarray(cut);
    }
    done(null, chunk);
  }

  /** Once the stream has ended: the digest (hex) of all but the tail, and the tail. */
  result(): { digest: string; tail: Buffer } {
    return { digest: this.hash.digest('hex'), tail: this.held };
  }
}
