// Sealing secrets at rest with the hub's secrets.key (AES-256-GCM). A sealed value is bound to what it
// is for (`context`, the AAD): a ciphertext copied onto another row, or any byte of it changed, is refused.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Format 1: version byte, 12-byte nonce, ciphertext, 16-byte tag. */
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class SealError extends Error {
  override readonly name = 'SealError';
}

/** secrets.key as `outpost hub init` writes it: 32 random bytes, base64, one line. */
export function readSecretsKey(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new SealError(`cannot read the hub's sealing key ${path} (${(cause as Error).message}); it is made by \`outpost hub init\` and must be kept with hub.db`, { cause });
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new SealError(`${path} does not hold a 32-byte base64 key (it has ${key.length} bytes); restore it from the backup made with hub.db`);
  return key;
}

export function seal(key: Buffer, context: string, plaintext: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
}

export function unseal(key: Buffer, context: string, sealed: Buffer): Buffer {
  if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
    throw new SealError(`the sealed value for ${context} is not in a form this hub knows (version ${sealed[0] ?? 'none'}, ${sealed.length} bytes)`);
  }
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce).setAAD(Buffer.from(context)).setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch (cause) {
    throw new SealError(`the sealed value for ${context} does not open with this hub's secrets.key: it was changed, belongs to another object, or was sealed with another key (is secrets.key the one made with this hub.db?)`, { cause });
  }
}
