// A refused WebSocket upgrade. An upgrade has no ServerResponse, so the answer is written on the raw
// socket; its body is the same Kubernetes Status the admin API answers with (proto's statusBody).
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { statusBody, type StatusReason } from '@outpost/proto';

/** `retryAfterSeconds`: a Retry-After header, when the refusal is for load and says when to come back. */
export function refuseUpgrade(socket: Duplex, code: number, reason: StatusReason, message: string, retryAfterSeconds?: number): void {
  const body = JSON.stringify(statusBody(code, reason, message));
  const retry = retryAfterSeconds === undefined ? '' : `Retry-After: ${retryAfterSeconds}\r\n`;
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`);
}
