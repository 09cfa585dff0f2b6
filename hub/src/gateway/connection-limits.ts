// Who may hold one of this process's connections. A TCP connection is nobody until it has finished TLS
// and sent a request with a credential, so the budget is split by what a connection has proven:
//
//   - every connection counts against `maxConnections`, set below the descriptor limit so the process
//     keeps descriptors for its database, logs and the sockets it opens itself;
//   - connections that have not authenticated also count against `maxUnauthenticated` (and, per remote
//     address, `maxUnauthenticatedPerAddress`; an IPv6 client counts by its /64, address-key.ts), so the
//     rest of the budget is kept for connected agents and admin API clients that showed a valid token:
//     an attacker who never authenticates cannot take it;
//   - a connection must send its first request (its upgrade, for an agent) within `handshakeTimeoutMs` of
//     being accepted, so idle sockets, TLS left half done and headers sent a byte at a time all go;
//   - when the unauthenticated budget is full, a newcomer takes the place of the oldest connection that
//     has been silent for `evictSilentAfterMs`: sockets held open doing nothing cannot lock out an agent
//     or an operator that dials in after them. A connection that is making requests is never evicted.
//
// Pure accounting with the time passed in; connection-guard.ts applies it to a server's sockets.

export interface ConnectionLimitsOptions {
  maxConnections: number;
  maxUnauthenticated: number;
  maxUnauthenticatedPerAddress: number;
  handshakeTimeoutMs: number;
  /** A silent connection younger than this is not evicted (it may be a handshake in progress). Default 1 s. */
  evictSilentAfterMs?: number;
}

/** Why a new connection was refused. */
export type RefusalReason = 'per-address' | 'unauthenticated' | 'total';

export type Admission<K> = { admitted: true; evicted?: K } | { admitted: false; reason: RefusalReason };

interface Entry {
  address: string;
  at: number;
}

export class ConnectionLimits<K> {
  /** Not yet spoken: accepted, in TLS, or between TLS and the first request. Oldest first. */
  private readonly silent = new Map<K, Entry>();
  /** Spoken but not authenticated: health checks, joins, the CA download. */
  private readonly spoken = new Map<K, Entry>();
  private readonly authenticated = new Set<K>();
  private readonly perAddress = new Map<string, number>();
  private readonly evictAfterMs: number;

  constructor(readonly o: ConnectionLimitsOptions) {
    this.evictAfterMs = o.evictSilentAfterMs ?? 1000;
  }

  get total(): number {
    return this.unauthenticated + this.authenticated.size;
  }

  get unauthenticated(): number {
    return this.silent.size + this.spoken.size;
  }

  get authenticatedCount(): number {
    return this.authenticated.size;
  }

  /** A connection accepted from `address`: admitted (perhaps in place of `evicted`, to be closed), or refused. */
  opened(key: K, address: string, now: number): Admission<K> {
    if ((this.perAddress.get(address) ?? 0) >= this.o.maxUnauthenticatedPerAddress) return { admitted: false, reason: 'per-address' };
    let evicted: K | undefined;
    if (this.unauthenticated >= this.o.maxUnauthenticated || this.total >= this.o.maxConnections) {
      const [oldest, entry] = this.silent.entries().next().value ?? [];
      if (oldest === undefined || !entry || now - entry.at < this.evictAfterMs) return { admitted: false, reason: this.total >= this.o.maxConnections ? 'total' : 'unauthenticated' };
      this.closed(oldest);
      evicted = oldest;
    }
    this.silent.set(key, { address, at: now });
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    return evicted === undefined ? { admitted: true } : { admitted: true, evicted };
  }

  /** Its first request (or upgrade) arrived: no deadline from now on, and never evicted. */
  spoke(key: K): void {
    const e = this.silent.get(key);
    if (!e) return;
    this.silent.delete(key);
    this.spoken.set(key, e);
  }

  /** It showed a valid credential: out of the unauthenticated budget for as long as it stays open. */
  authenticate(key: K): void {
    const e = this.silent.get(key) ?? this.spoken.get(key);
    if (!e) return;
    this.forget(key, e);
    this.authenticated.add(key);
  }

  isAuthenticated(key: K): boolean {
    return this.authenticated.has(key);
  }

  /** Idempotent: an evicted or expired connection's close comes after it was already let go. */
  closed(key: K): void {
    if (this.authenticated.delete(key)) return;
    const e = this.silent.get(key) ?? this.spoken.get(key);
    if (e) this.forget(key, e);
  }

  /** Connections that have not sent a request within the handshake timeout; they are let go here, to be closed. */
  expired(now: number): K[] {
    const out: K[] = [];
    for (const [key, e] of this.silent) {
      if (now - e.at < this.o.handshakeTimeoutMs) break; // oldest first: the rest are younger
      this.forget(key, e);
      out.push(key);
    }
    return out;
  }

  private forget(key: K, e: Entry): void {
    this.silent.delete(key);
    this.spoken.delete(key);
    const n = (this.perAddress.get(e.address) ?? 1) - 1;
    if (n > 0) this.perAddress.set(e.address, n);
    else this.perAddress.delete(e.address);
  }
}
