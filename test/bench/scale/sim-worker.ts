// One simulator process: many agents, each with the agent's real join, HubLink (WSS, Hello, Sync, Ack,
// Poke, heartbeats, backoff) and ReceivedReconciler; only the local state lives in memory.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { applyChanges, DialGate, engine, HubLink, MemoryLocalState, ReceivedReconciler, ReconcileController, redeemToken } from '@outpost/agent';
import { agentFinalizer, decodeEnvelope, encodeEnvelope, processLoopStall } from '@outpost/proto';
import WebSocket from 'ws';
import type { FromWorker, ToWorker, WorkerConfig } from './messages.js';

// This process's own loop stall (the links use the same one): the bench marks a run whose simulator
// stalled past its bound invalid, since then it measured the simulator, not the hub.
const stall = processLoopStall();
const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as WorkerConfig;
// One process carries thousands of agents' links: their dials share its one loop (dial-gate.ts).
const dialGate = new DialGate(config.dialsInFlight);
const send = (m: FromWorker): void => void process.send?.(m);

let warnings = 0;
/** Why links failed since the last progress report, by message (the storm monitor prints them). */
let linkErrors = new Map<string, number>();
const countError = (o: { err?: string; message?: string; why?: string }): void => {
  const why = o.err ?? o.message ?? o.why;
  if (why) linkErrors.set(why, (linkErrors.get(why) ?? 0) + 1);
};
const quiet = {
  info: () => undefined,
  debug: countError,
  warn: (o: { err?: string; message?: string; why?: string }) => {
    warnings++;
    countError(o);
  },
};
/** The link's own log for one agent: as quiet, and counts the agent's closes for silence. */
const linkLog = (a: SimAgent) => ({
  ...quiet,
  warn: (o: { err?: string; message?: string; why?: string }) => {
    if (o.why?.startsWith('hub silent')) a.silentCloses++;
    quiet.warn(o);
  },
});

interface SimAgent {
  link: HubLink;
  state: MemoryLocalState;
  syncedAt: number;
  /** Links this agent closed because the hub was silent (counted from the link's log line). */
  silentCloses: number;
  echo?: WebSocket;
}

const agents: SimAgent[] = [];
let joined = 0;
let failed = 0;
let lastError: string | undefined;
const revisionWaiters: Array<{ id: number; revision: number; agent?: number }> = [];

function onSynced(a: SimAgent, index: number, revision: number): void {
  a.syncedAt = performance.timeOrigin + performance.now();
  for (let i = revisionWaiters.length - 1; i >= 0; i--) {
    const w = revisionWaiters[i]!;
    if (w.agent === index && revision >= w.revision) {
      revisionWaiters.splice(i, 1);
      send({ t: 'reached', id: w.id, at: a.syncedAt });
    }
  }
}

async function startAgent(token: string, index: number): Promise<void> {
  const localAddress = config.localAddresses[index % config.localAddresses.length];
  const hub = new URL(config.hubUrl);
  let identity;
  for (let attempt = 0; ; attempt++) {
    try {
      identity = await redeemToken(hub, config.caCertPem, token, 'sim', localAddress);
      break;
    } catch (err) {
      lastError = (err as Error).message;
      // a join refused for the token itself will not get better; a busy hub (refusing connections while
      // overloaded, or slow to answer) will
      if (attempt >= 100 || /TOKEN_/.test((err as { code?: string }).code ?? '')) {
        failed++;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(500 * 2 ** attempt, 10_000)));
    }
  }
  const state = new MemoryLocalState();
  const sim = { state, syncedAt: 0, silentCloses: 0 } as SimAgent;
  let link: HubLink | undefined;
  const reconcile = new ReconcileController({
    state,
    reconcilers: [new ReceivedReconciler()],
    journal: new engine.MemoryFlowJournal(),
    finalizer: agentFinalizer(identity.view),
    onStatus: () => link?.flushStatuses(),
    log: quiet,
  });
  link = new HubLink({
    hubUrl: identity.hub,
    agentId: identity.agentId,
    credential: identity.credential,
    caCertPem: identity.caCertPem,
    version: 'sim',
    state,
    onApplied: (changes) => reconcile.changed(changes),
    onSynced: (revision) => onSynced(sim, index, revision),
    ...(localAddress ? { localAddress } : {}),
    dialGate,
    log: linkLog(sim),
  });
  sim.link = link;
  agents[index - config.firstAgent] = sim;
  joined++;
  await reconcile.start();
  link.start();
}

async function joinAll(): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < config.tokens.length) {
      const i = next++;
      await startAgent(config.tokens[i]!, config.firstAgent + i);
    }
  };
  await Promise.all(Array.from({ length: config.joinConcurrency }, lane));
}

const connectedCount = (): number => agents.filter((a) => a?.link.linkState === 'connected').length;

const progress = setInterval(() => {
  const errors = Object.fromEntries(linkErrors);
  linkErrors = new Map();
  // How long dials waited in this process for their turn: the simulator's own queue, not the hub's.
  send({ t: 'progress', joined, connected: connectedCount(), failed, errors, ...(lastError ? { lastError } : {}), dialWaitMs: dialGate.takeMaxWait(), dialsQueued: dialGate.stats().queued });
}, 500);

/** What the storm test asserts on: silence closes per agent, sheds honoured, and the revisions held. */
function storm(): { stalledMs: number; maxStallMs: number; silentCloses: number; maxSilentCloses: number; shedRefusals: number; minRevision: number; maxRevision: number } {
  const live = agents.filter(Boolean);
  const revisions = live.map((a) => a.state.revision());
  const now = performance.now();
  return {
    stalledMs: Math.round(stall.stalled(now)),
    maxStallMs: Math.round(stall.maxRecent(now)),
    silentCloses: live.reduce((n, a) => n + a.silentCloses, 0),
    maxSilentCloses: Math.max(0, ...live.map((a) => a.silentCloses)),
    shedRefusals: live.reduce((n, a) => n + ((a.link as { shedRefusals?: number }).shedRefusals ?? 0), 0),
    minRevision: Math.min(...revisions),
    maxRevision: Math.max(...revisions),
  };
}

/**
 * The agent's side of the change baseline, as its HubLink does it: a Poke asks for a Sync from the held
 * revision, Changes are applied to the same in-memory state, and an Ack says so.
 */
function baselineFrame(a: SimAgent, index: number, ws: WebSocket, frame: Buffer): void {
  const env = decodeEnvelope(frame);
  if (env.body === 'poke') {
    ws.send(encodeEnvelope({ sync: { since: a.state.revision() } }));
  } else if (env.body === 'changes' && env.changes) {
    const revision = Number(env.changes.revision ?? 0);
    applyChanges(a.state, { snapshot: env.changes.snapshot === true, revision, changes: env.changes.changes ?? [] });
    ws.send(encodeEnvelope({ ack: { revision } }));
    onSynced(a, index, revision);
  }
}

function poll(check: () => boolean, done: () => void): void {
  const timer = setInterval(() => {
    if (!check()) return;
    clearInterval(timer);
    done();
  }, 10);
}

process.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'await-revision': {
      if (m.agent !== undefined) {
        const a = agents[m.agent - config.firstAgent];
        if (a && a.state.revision() >= m.revision) send({ t: 'reached', id: m.id, at: a.syncedAt });
        else revisionWaiters.push({ id: m.id, revision: m.revision, agent: m.agent });
        return;
      }
      poll(
        () => agents.length === config.tokens.length && agents.every((a) => a.state.revision() >= m.revision),
        () => send({ t: 'reached', id: m.id, at: Math.max(...agents.map((a) => a.syncedAt)) }),
      );
      return;
    }
    case 'await-reconnect':
      poll(
        // every() skips the holes of agents not joined yet: all must have joined first.
        () => joined === config.tokens.length && agents.every((a) => a.link.connects >= m.connectsAtLeast && a.link.linkState === 'connected' && a.state.revision() >= m.revision),
        () => send({ t: 'reached', id: m.id, at: Date.now(), maxAt: Math.max(...agents.map((a) => a.syncedAt)) }),
      );
      return;
    case 'stats':
      send({ t: 'stats', id: m.id, connected: connectedCount(), synced: agents.filter((a) => a?.syncedAt).length, minConnects: Math.min(...agents.map((a) => a?.link.connects ?? 0)), warnings, connects: agents.reduce((n, a) => n + (a?.link.connects ?? 0), 0), resumed: agents.reduce((n, a) => n + (a?.link.resumedConnects ?? 0), 0), ...storm() });
      return;
    case 'synced-times':
      send({ t: 'synced-times', id: m.id, times: agents.map((a) => a.syncedAt) });
      return;
    case 'stop-links':
      for (const a of agents) a?.link.stop();
      send({ t: 'links-stopped', id: m.id });
      return;
    case 'echo-connect': {
      // 32 handshakes in flight per process, each retried: all N at once overran the echo server.
      const connect = (i: number, attempt = 0): Promise<void> =>
        new Promise<void>((resolve) => {
          const localAddress = config.localAddresses[(config.firstAgent + i) % config.localAddresses.length];
          const ws = new WebSocket(`${m.url}?agent=${config.firstAgent + i}`, { ca: config.caCertPem, perMessageDeflate: false, handshakeTimeout: 20_000, ...(localAddress ? { localAddress } : {}) });
          ws.once('open', () => {
            agents[i]!.echo = ws;
            ws.on('message', (data, isBinary) => isBinary && baselineFrame(agents[i]!, config.firstAgent + i, ws, data as Buffer));
            resolve();
          });
          ws.once('error', (err) => {
            lastError = err.message;
            warnings++;
            ws.terminate();
            if (attempt >= 10) return resolve();
            setTimeout(() => void connect(i, attempt + 1).then(resolve), 200 * (attempt + 1));
          });
        });
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < agents.length) await connect(next++);
      };
      void Promise.all(Array.from({ length: 32 }, lane)).then(() => send({ t: 'echo-connected', id: m.id, connected: agents.filter((a) => a.echo).length }));
      return;
    }
    case 'echo-rtt': {
      const ws = agents[m.agent - config.firstAgent]?.echo;
      if (!ws) return send({ t: 'rtt', id: m.id, ms: -1 });
      const started = process.hrtime.bigint();
      // A text frame: the baseline server echoes those, and speaks the protocol in binary ones.
      ws.once('message', () => send({ t: 'rtt', id: m.id, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      ws.send('0123456789abcdef', { binary: false });
      return;
    }
    case 'profile':
      void profile(m.on).then(() => send({ t: 'profiled', id: m.id }));
      return;
    case 'stop':
      clearInterval(progress);
      for (const a of agents) {
        a?.link.stop();
        a?.echo?.terminate();
      }
      setTimeout(() => process.exit(0), 200).unref();
      return;
  }
});

let profiler: Session | undefined;
/** Profiles this worker between on and off, for finding where a storm's time goes on the agents' side. */
async function profile(on: boolean): Promise<void> {
  if (on) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    return;
  }
  if (!profiler) return;
  const { profile: p } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = undefined;
  writeFileSync(join(config.profileDir ?? '.', `sim-${config.firstAgent}.cpuprofile`), JSON.stringify(p));
}

void joinAll();
