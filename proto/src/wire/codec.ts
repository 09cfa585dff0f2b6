// One Envelope per binary WebSocket frame. Decoding never throws anything but FrameError, so a bad
// frame can only ever close the connection that sent it.
import { FrameError } from '../errors.js';
import { pb, type Envelope, type EnvelopeBody } from '../schema.js';
import { MAX_FRAME_BYTES } from './protocol.js';

export type DecodedEnvelope = Envelope & { body: EnvelopeBody };

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return pb.Envelope.encode(envelope).finish();
}

export function decodeEnvelope(frame: Uint8Array, maxBytes: number = MAX_FRAME_BYTES): DecodedEnvelope {
  if (frame.byteLength > maxBytes) {
    throw new FrameError('FRAME_TOO_LARGE', `frame of ${frame.byteLength} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  let decoded: InstanceType<typeof pb.Envelope>;
  try {
    decoded = pb.Envelope.decode(frame);
  } catch (cause) {
    throw new FrameError('FRAME_MALFORMED', `frame is not a protobuf Envelope: ${(cause as Error).message}`, { cause });
  }
  if (!decoded.body) throw new FrameError('FRAME_EMPTY', 'Envelope carries no message (unknown to this version, or empty)');
  return decoded as DecodedEnvelope;
}
