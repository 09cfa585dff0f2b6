// The primary's side of a gateway spread over processes: forks node:cluster workers that share the hub's
// port, writes the events they report, and tells them which views each commit touched. The primary alone
// writes. The workers accept connections themselves (SCHED_NONE): in round-robin mode the primary accepts
// every connection and hands it over one at a time per worker, waiting for each to be acknowledged; busy
// with the store during a 100,000-agent storm, it held 18,000 not-yet-handed-over sockets, near this
// machine's 20,000 descriptors per process.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { CloseCode } from '@outpost/proto';
import type { Store } from '../store/store.js';
import { applyAgentStatus } from './agent-status.js';
import type { SecretsSource } from './cluster-secrets.js';
import { GATEWAY_CONFIG_ENV, type AgentEvent, type FromGateway, type GatewayProcessConfig, type ToGateway } from './gateway-messages.js';
import { PokeBatch } from './poke-batch.js';
import type { Presence } from './presence.js';
import { replacedReason, ReplacementLog } from './replacements.js';

const ENTRY = fileURLToPath(new URL('./gateway-process.js', import.meta.url));

export interface GatewayProcessesOptions {
  count: number;
  config: GatewayProcessConfig;
  store: Store;
  presence: Presence;
  /** Answers the gateway processes' SecretsRequests here, where secrets.key is (see gateway-process.ts). */
  secrets: SecretsSource;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
}

/** Which worker and connection holds each agent, so a replaced connection's close changes nothing. */
interface Holder {
  worker: number;
  conn: number;
  address: string;
}

export class GatewayProcesses {
  private readonly workers = new Map<number, Worker>();
  private readonly holders = new Map<string, Holder>();
  private stopping = false;
  private readonly replacements = new ReplacementLog();
  private readonly pokes = new PokeBatch((views, revision) => this.broadcast({ t: 'poke', views: [...views], revision }));

  constructor(private readonly opts: GatewayProcessesOptions) {
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    // Structured clone, not JSON: a decoded protobuf Status's toJSON would turn its int64s into strings.
    cluster.setupPrimary({ exec: ENTRY, args: [], serialization: 'advanced' });
  }

  /** Forks the workers; resolves with the port they listen on. */
  async start(): Promise<number> {
    const ports = await Promise.all(Array.from({ length: this.opts.count }, () => this.fork()));
    return ports[0]!;
  }

  private fork(): Promise<number> {
    const worker = cluster.fork({ [GATEWAY_CONFIG_ENV]: JSON.stringify(this.opts.config) });
    this.workers.set(worker.id, worker);
    return new Promise<number>((resolve, reject) => {
      worker.on('message', (m: FromGateway) => {
        if (m.t === 'listening') resolve(m.port);
        else for (const e of m.events) this.onEvent(worker, e);
      });
      worker.once('exit', (code, signal) => {
        reject(new Error(`gateway process ${worker.id} exited (${signal ?? code}) before listening`));
        this.onExit(worker, code, signal);
      });
    });
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    this.workers.delete(worker.id);
    for (const [agentId, h] of this.holders) {
      if (h.worker !== worker.id) continue;
      this.holders.delete(agentId);
      if (!this.stopping) this.opts.presence.disconnected(agentId);
    }
    if (this.stopping) return;
    // Its agents reconnect (to the others, or to its successor) on their own backoff.
    this.opts.log.error({ gateway: worker.id, code, signal }, 'gateway process died; starting another');
    this.fork().catch((err: Error) => this.opts.log.error({ err: err.message }, 'could not restart a gateway process'));
  }

  private onEvent(worker: Worker, e: AgentEvent): void {
    const { presence, store } = this.opts;
    switch (e.e) {
      case 'connected': {
        const previous = this.holders.get(e.agentId);
        // The same agent on another worker: the older connection goes, as it would within one process.
        if (previous && previous.worker !== worker.id) {
          this.replacements.replaced(this.opts.log, e.agentId, `${previous.address} (gateway ${previous.worker})`, `${e.facts.address} (gateway ${worker.id})`);
          this.send(previous.worker, { t: 'close', agentId: e.agentId, code: CloseCode.replaced, reason: replacedReason(e.facts.address), conn: previous.conn });
        }
        this.holders.set(e.agentId, { worker: worker.id, conn: e.conn, address: e.facts.address });
        return presence.connected(e.agentId, e.facts);
      }
      case 'acked':
        return presence.acked(e.agentId, e.revision);
      case 'seen':
        return presence.seen(e.agentId);
      case 'disconnected': {
        const h = this.holders.get(e.agentId);
        if (h?.worker !== worker.id || h.conn !== e.conn) return;
        this.holders.delete(e.agentId);
        return presence.disconnected(e.agentId);
      }
      case 'status': {
        const refused = applyAgentStatus(store, e.agentId, e.view, e.status);
        return this.send(worker.id, { t: 'status-done', id: e.id, ...(refused ? { refused } : {}) });
      }
      case 'secrets':
        return this.opts.secrets.clusterSecrets(e.agentId, e.view, e.refs, (entries) => this.send(worker.id, { t: 'secrets-done', id: e.id, entries }));
    }
  }

  private send(workerId: number, m: ToGateway): void {
    const w = this.workers.get(workerId);
    if (w?.isConnected()) w.send(m);
  }

  private broadcast(m: ToGateway): void {
    for (const id of this.workers.keys()) this.send(id, m);
  }

  /** Commits touched `views` at `revision`: one poke message per gateway process per tick, not per commit. */
  poke(views: Iterable<string>, revision: number): void {
    this.pokes.add(views, revision);
  }

  disconnect(agentId: string): void {
    this.broadcast({ t: 'close', agentId, code: CloseCode.unauthorized, reason: 'agent revoked' });
  }

  /** The agents connected through any worker. */
  connectedAgents(): string[] {
    return [...this.holders.keys()];
  }

  /** Stops every worker (each closes its agents' sockets), cutting any still there after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    const workers = [...this.workers.values()];
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      w.once('exit', () => resolve());
      if (w.isConnected()) w.send({ t: 'stop' } satisfies ToGateway);
      setTimeout(() => w.process.kill('SIGKILL'), graceMs).unref();
    })));
  }
}
