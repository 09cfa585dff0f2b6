// A hand-made agent for attacks on the gateway: a real credential (from `outpost-agent join`) on a raw
// WebSocket, sending whatever frames a test makes, optionally never reading what the hub sends.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { decodeEnvelope, encodeEnvelope, PROTOCOL_MAJOR, PROTOCOL_MINOR, type DecodedEnvelope, type Envelope } from '@outpost/proto';
import WebSocket from 'ws';
import { OUTPOST_AGENT, run, type TestHub } from './processes.js';

export interface RawIdentity {
  agentId: string;
  credential: string;
}

/** Joins an agent for `target` with a fresh bootstrap token, without running it. */
export async function joinRaw(hub: TestHub, target: { site?: string; seed?: string }, name: string): Promise<RawIdentity> {
  const dir = join(hub.dir, `raw-${name}`);
  const r = await run(OUTPOST_AGENT, ['join', '--hub', hub.url, '--token', await hub.bootstrapToken(target), '--ca-hash', hub.caHash, '--data', dir]);
  if (r.code !== 0) throw new Error(`join of ${name} failed: ${r.stderr}`);
  return JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as RawIdentity;
}

export class RawAgent {
  readonly frames: DecodedEnvelope[] = [];
  closed: { code: number; reason: string } | undefined;
  private socket: Socket | undefined;

  private constructor(
    readonly ws: WebSocket,
    acking: boolean,
  ) {
    ws.on('upgrade', (res) => (this.socket = res.socket as Socket));
    ws.on('message', (d: Buffer) => {
      const env = decodeEnvelope(d, 64 << 20);
      this.frames.push(env);
      if (acking && env.changes && !env.changes.more) this.send({ ack: { revision: env.changes.revision ?? 0 } });
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }

  /**
   * Connects and says Hello. `reading: false` reads nothing the hub sends after the upgrade; `acking`
   * acks every answer to a Sync, as an agent does (a peer that never acks counts as not reading).
   */
  static async connect(hub: TestHub, id: RawIdentity, opts: { reading?: boolean; acking?: boolean } = {}): Promise<RawAgent> {
    const ws = new WebSocket(`wss://127.0.0.1:${hub.port}/agent/v1`, { ca: hub.caCertPem, headers: { authorization: `Bearer ${id.credential}` }, perMessageDeflate: false });
    const raw = new RawAgent(ws, opts.acking ?? false);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    if (opts.reading === false) raw.socket?.pause();
    raw.send({ hello: { agentId: id.agentId, version: 'raw', protocolMajor: PROTOCOL_MAJOR, protocolMinor: PROTOCOL_MINOR } });
    return raw;
  }

  send(env: Envelope): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeEnvelope(env));
  }

  /** Reads again (what the hub sent meanwhile, then its close). */
  resume(): void {
    this.socket?.resume();
  }

  /** Bytes this client has queued and not yet written (it stops when the hub stops reading). */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  errors(): Array<NonNullable<DecodedEnvelope['error']>> {
    return this.frames.flatMap((f) => (f.error ? [f.error] : []));
  }

  close(): void {
    this.ws.terminate();
  }
}
