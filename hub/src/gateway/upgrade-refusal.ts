// A refused WebSocket upgrade. An upgrade has no ServerResponse, so the answer is written on the raw
// socket; its body is the same Kubernetes Status the admin API answers with (proto's statusBody).
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { statusBody, type StatusReason } from '@outpost/proto';

export function refuseUpgrade(socket: Duplex, code: number, reason: StatusReason, message: string): void {
  const body = JSON.stringify(statusBody(code, reason, message));
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
