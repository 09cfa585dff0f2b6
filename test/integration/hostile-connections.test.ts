// Hostile connections against a real hub process: sockets that never authenticate, TLS left half done,
// headers sent a byte at a time, a brute force of joins, old protocols and CBC suites. Each attack is
// bounded (a hub started with a small budget, at most a few hundred sockets, seconds) and comes from its
// own loopback address (127.0.0.2 and up), so the operator and the agent (127.0.0.1) are someone else.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { request } from 'node:https';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { findKind, JOIN_PATH, type Agent } from '@outpost/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { probeAcks } from '../lib/ack-probe.js';
import { datacenter, project, site } from '../lib/fixtures.js';
import { OUTPOST, TestAgent, TestHub, waitFor } from '../lib/processes.js';

const K = (n: string) => findKind(n)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a program (not node) to its end, with no input. */
function exec(file: string, args: string[], timeoutMs = 15_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) || 1 : 0, out: `${stdout}${stderr}` }));
    child.stdin?.end();
  });
}

interface Held {
  socket: Socket;
  /** Milliseconds from connect until the hub closed it. */
  closedAfter: Promise<number>;
  open: boolean;
}

/** A TCP connection that never says anything, from `localAddress`. */
function idle(port: number, localAddress: string): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ port, host: '127.0.0.1', localAddress });
    let at = 0;
    const held: Held = { socket, open: true, closedAfter: new Promise((r) => socket.once('close', () => { held.open = false; r(performance.now() - at); })) };
    socket.on('error', () => undefined); // a refusal may come as a reset
    socket.once('connect', () => {
      at = performance.now();
      resolve(held);
    });
    socket.once('close', () => reject(new Error(`could not connect from ${localAddress}`)));
  });
}

/**
 * After the 300 ms the hub takes on a quiet machine, until it has closed the attack's sockets beyond its
 * unauthenticated budget of 150: later when CI's e2e tier shares the two cores. Bounded well inside the
 * 8 s handshake timeout, after which the budget empties by itself.
 */
async function settledAtBudget(attempts: readonly Held[]): Promise<void> {
  await waitFor(`the attack's open sockets down to the budget of 150`, () => attempts.filter((h) => h.open).length <= 150, 2000, 25).catch(() => undefined);
}

/** GET or POST on the hub over a fresh connection from `localAddress`. */
function call(hub: TestHub, path: string, opts: { method?: string; body?: string; localAddress?: string; token?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${hub.url}${path}`, { method: opts.method ?? 'GET', ca: hub.caCertPem, agent: false, localAddress: opts.localAddress ?? '127.0.0.1', headers: { ...(opts.body ? { 'content-type': 'application/json' } : {}), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) }, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${path} timed out`)));
    req.end(opts.body);
  });
}

/** The https component's line of /healthz?verbose: "N agents connected; C of M connections, U of P unauthenticated". */
async function connectionLine(hub: TestHub): Promise<string> {
  const r = await call(hub, '/healthz?verbose');
  return /\[\+\]https ok: (.*)/.exec(r.text)?.[1] ?? r.text;
}

/** Pino lines of the hub's stderr with this message (as a regular expression). */
function logged(hub: TestHub, msg: RegExp): Array<Record<string, unknown>> {
  return hub.proc!.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => msg.test(String(l.msg)));
}

/** Resolves with how the TLS handshake ended: the negotiated protocol and suite, or the error's code. */
/** tls.connect hands its options to net.connect, which takes localAddress; @types/node leaves it out. */
type FromAddress = ConnectionOptions & { localAddress?: string };
const tlsFrom = (o: FromAddress) => tlsConnect(o);

function handshake(port: number, o: FromAddress): Promise<{ protocol?: string | null; cipher?: string; error?: string }> {
  return new Promise((resolve) => {
    const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...o } as ConnectionOptions, () => {
      resolve({ protocol: s.getProtocol(), cipher: s.getCipher().name });
      s.destroy();
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

describe('a hub with a small connection budget under idle-socket attack', () => {
  let hub: TestHub;
  let agent: TestAgent;
  const attacks: Held[] = [];

  beforeAll(async () => {
    hub = await TestHub.start({ serveArgs: ['--max-connections', '200', '--max-unauthenticated-connections', '150', '--max-unauthenticated-per-address', '30', '--handshake-timeout', '8s'] });
    await hub.apply(project('p'), site('s1'), site('s2'), datacenter('dc1', { site: 's1' }));
    agent = await TestAgent.join(hub, { site: 's1' }, 'a1');
  }, 60_000);
  afterEach(() => {
    for (const h of attacks.splice(0)) h.socket.destroy();
  });
  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
  });

  it('keeps the admin API answering and lets a real agent connect, then closes the idle sockets within the handshake timeout', async () => {
    // 6 attacking addresses × 40 sockets, one address after another: 30 of each pass the per-address
    // limit, until the five first have filled the unauthenticated budget of 150.
    const attempts: Held[] = [];
    for (let a = 2; a < 8; a++) attempts.push(...(await Promise.all(Array.from({ length: 40 }, () => idle(hub.port, `127.0.0.${a}`)))));
    attacks.push(...attempts);
    await sleep(300);
    await settledAtBudget(attempts);
    const held = attempts.filter((h) => h.open);
    expect(held).toHaveLength(150);
    await waitFor('the refusals logged', () => logged(hub, /too many unauthenticated connections from one address \(--max-unauthenticated-per-address\)/).length > 0);
    // (On a slow machine the last address may come a second after the first: it then evicts instead.)
    await waitFor('the full budget logged', () => logged(hub, /unauthenticated connection budget is full/).length > 0);

    // A second on, silent sockets give way: the operator is answered (this health check took one's place)...
    await sleep(800);
    // (Beside the admin API client's authenticated keep-alive connections.)
    expect(await connectionLine(hub)).toMatch(/^0 agents connected; 15\d of 200 connections, 150 of 150 unauthenticated$/);
    expect((await hub.api().list(K('sites'))).items).toHaveLength(2);
    // ... and the agent connects.
    agent.start();
    await waitFor('the agent connected', async () => (await hub.api().get<Agent>(K('agents'), agent.agentId)).status?.connected, 4000);
    expect(attempts.filter((h) => h.open).length).toBeGreaterThan(140); // the attack was still on while they got in
    await waitFor('the evictions logged', () => logged(hub, /closed connections silent for a second to make room/).length > 0);
    expect(await connectionLine(hub)).toMatch(/^1 agents connected; /);

    // Every idle socket is closed 8 s after it connected (the sweep runs each second), none much later.
    const closedAfter = await Promise.all(held.map((h) => h.closedAfter));
    const byDeadline = closedAfter.filter((ms) => ms > 7000);
    expect(byDeadline.length).toBeGreaterThan(100);
    for (const ms of byDeadline) expect(ms).toBeLessThan(10_500);
    await waitFor('the expiries logged', () => logged(hub, /sent no request within 8 s of connecting \(--handshake-timeout\)/).length > 0);
    // The agent's connection had authenticated: it stayed.
    expect((await hub.api().get<Agent>(K('agents'), agent.agentId)).status?.connected).toBe(true);
    expect(agent.proc?.alive).toBe(true);
    expect(await connectionLine(hub)).toMatch(/^1 agents connected; \d of 200 connections, [01] of 150 unauthenticated$/);
  }, 30_000);

  it("keeps a connected agent's change-to-ack p99 within three times its quiet value while idle sockets fill the budget", async () => {
    let n = 0;
    const probe = (count: number) => probeAcks({ api: hub.api(), agentId: agent.agentId, change: () => hub.api().patch(K('sites'), 's1', { spec: { location: `room ${++n}` } }) }, count);
    const quiet = await probe(8);
    for (let a = 2; a < 8; a++) attacks.push(...(await Promise.all(Array.from({ length: 40 }, () => idle(hub.port, `127.0.0.${a}`)))));
    await sleep(300);
    await settledAtBudget(attacks);
    expect(attacks.filter((h) => h.open)).toHaveLength(150);
    // A second on, as the operator's first test shows: until then a fresh admin connection finds no silent
    // socket to take the place of, and is refused by design. CI once got that refusal as ECONNRESET here:
    // the probe's kept-alive connection had gone stale while the attack was set up on loaded cores, and the
    // request repeated on a fresh connection came within the attack's first second.
    await sleep(1000);
    // Three times quiet, but never less than quiet plus 250 ms: the presence table writes acks in 250 ms
    // batches, and two shared cores add that much scheduling noise on their own (as hostile-agents.test.ts).
    const bound = Math.max(3 * quiet.p99, quiet.p99 + 250);
    // The p99 of 8 is their slowest: one sample caught in a stall of the shared cores (CI runs the e2e tier,
    // kubeadm hosts and all, beside this file) is measured again, once, while the attack still holds. A hub
    // slowed by the attack is slow both times.
    let during = await probe(8);
    if (during.p99 >= bound) during = await probe(8);
    // The attack held the budget the whole time the probes ran (the handshake timeout is 8 s).
    expect(attacks.filter((h) => h.open).length).toBeGreaterThan(140);
    expect(during.p99, `p99 ${during.p99.toFixed(0)} ms under attack, quiet ${quiet.p99.toFixed(0)} ms`).toBeLessThan(bound);
    expect((await call(hub, '/healthz')).status).toBe(200);
  }, 30_000);

  it('closes TLS left half done and headers sent a byte at a time at the same deadline', async () => {
    const started = performance.now();
    const quiet = tlsFrom({ port: hub.port, host: '127.0.0.1', localAddress: '127.0.0.20', ca: hub.caCertPem, servername: 'localhost' });
    const drip = tlsFrom({ port: hub.port, host: '127.0.0.1', localAddress: '127.0.0.20', ca: hub.caCertPem, servername: 'localhost' });
    drip.once('secureConnect', () => drip.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
    const dripping = setInterval(() => drip.writable && drip.write('X'), 300);
    const closed = (s: typeof quiet) => new Promise<number>((r) => {
      s.on('error', () => undefined);
      s.once('close', () => r(performance.now() - started));
    });
    const [quietMs, dripMs] = await Promise.all([closed(quiet), closed(drip)]);
    clearInterval(dripping);
    for (const ms of [quietMs, dripMs]) {
      expect(ms).toBeGreaterThan(7500);
      expect(ms).toBeLessThan(10_500);
    }
  }, 20_000);

  it('offers TLS 1.2 and 1.3 with AEAD suites only', async () => {
    const old = await handshake(hub.port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0', localAddress: '127.0.0.21' });
    expect(old.error).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
    for (const cbc of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-ECDSA-AES128-SHA256', 'AES128-SHA']) {
      // The hub's alert: no suite in common (OpenSSL 3 names it ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE).
      expect({ cbc, ...(await handshake(hub.port, { maxVersion: 'TLSv1.2', ciphers: cbc, localAddress: '127.0.0.21' })) }).toEqual({ cbc, error: expect.stringMatching(/^ERR_SSL_.*ALERT_HANDSHAKE_FAILURE$/) });
    }
    expect(await handshake(hub.port, { maxVersion: 'TLSv1.2', localAddress: '127.0.0.21' })).toEqual({ protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    expect(await handshake(hub.port, { localAddress: '127.0.0.21' })).toMatchObject({ protocol: 'TLSv1.3' });
    // OpenSSL's own client, as an operator's scanner would try it.
    const s = await exec('openssl', ['s_client', '-connect', `127.0.0.1:${hub.port}`, '-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA']);
    expect(s.code).not.toBe(0);
    expect(s.out).toMatch(/handshake failure/);
  }, 20_000);

  it('answers a brute force of joins with 429 and Retry-After, and logs it', async () => {
    const wrong = (i: number) => call(hub, JOIN_PATH, { method: 'POST', body: JSON.stringify({ token: `zzzzzz.${String(i).padStart(16, '0')}` }), localAddress: '127.0.0.22' });
    const replies = [];
    for (let batch = 0; batch < 10; batch++) replies.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => wrong(batch * 20 + i)))));
    const statuses = replies.map((r) => r.status);
    const refused = statuses.filter((s) => s === 401).length;
    expect(refused).toBeGreaterThanOrEqual(10);
    expect(refused).toBeLessThanOrEqual(11); // one more if the run took over 6 s
    expect(statuses.filter((s) => s === 429)).toHaveLength(200 - refused);
    const throttled = replies.find((r) => r.status === 429)!;
    const retryAfter = Number(throttled.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(6);
    expect(JSON.parse(throttled.text)).toMatchObject({ kind: 'Status', code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: retryAfter } });
    expect(logged(hub, /joins throttled: too many failed joins from one address/).map((l) => l.address)).toContain('127.0.0.22');
    expect(logged(hub, /join refused: a wrong, used or expired bootstrap token/).length).toBeGreaterThan(0);
    // Another address still joins: an agent behind it is not punished for the attacker.
    const token = await hub.bootstrapToken({ site: 's2' });
    const ok = await call(hub, JOIN_PATH, { method: 'POST', body: JSON.stringify({ token }), localAddress: '127.0.0.23' });
    expect(ok.status).toBe(200);
  }, 30_000);
});

describe('connection limits from the descriptor limit', () => {
  it('derives its defaults from `ulimit -n`, keeps descriptors and the admin API under more idle sockets than it has, and refuses a cap above it', async () => {
    const hub = await TestHub.start({ nofile: 400 });
    const attack: Held[] = [];
    try {
      // 400 less 64 kept for the hub itself; half of that for the unauthenticated.
      expect(await connectionLine(hub)).toMatch(/ of 336 connections, \d+ of 168 unauthenticated$/);
      // The attack scaled to this limit: more idle sockets than the hub has descriptors.
      for (let a = 1; a <= 10; a++) attack.push(...(await Promise.all(Array.from({ length: 45 }, () => idle(hub.port, `127.0.1.${a}`)))));
      await sleep(1100);
      expect(attack.filter((h) => h.open).length).toBeLessThanOrEqual(168);
      const fds = readdirSync(`/proc/${hub.proc!.child.pid}/fd`).length;
      expect(fds).toBeLessThan(400 - 64);
      expect((await hub.api().list(K('sites'))).items).toEqual([]);
      expect(await connectionLine(hub)).toMatch(/ of 336 connections, 168 of 168 unauthenticated$/);
      const over = await exec('/bin/sh', ['-c', `ulimit -n 400 && exec "$0" "$@"`, process.execPath, OUTPOST, 'hub', 'serve', '--data', hub.dataDir, '--listen', '127.0.0.1:0', '--max-connections', '1000']);
      expect(over.code).not.toBe(0);
      expect(over.out).toMatch(/max connections 1000 leaves less than 64 of this process's descriptor limit of 400 .*raise `ulimit -n` or lower --max-connections/);
    } finally {
      for (const h of attack) h.socket.destroy();
      await hub.stop();
    }
  }, 30_000);
});

describe('a hub with gateway processes', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ gatewayProcesses: 1, serveArgs: ['--max-unauthenticated-per-address', '20', '--max-failed-joins-per-minute', '3'] });
  }, 60_000);
  afterAll(async () => hub?.stop());

  it('limits each address in the gateway process and throttles joins by the address the gateway saw', async () => {
    const attempts = await Promise.all(Array.from({ length: 30 }, () => idle(hub.port, '127.0.0.30')));
    await sleep(500);
    expect(attempts.filter((h) => h.open)).toHaveLength(20);
    expect((await hub.api().list(K('sites'))).items).toEqual([]);
    expect(logged(hub, /too many unauthenticated connections from one address/).length).toBeGreaterThan(0);
    for (const h of attempts) h.socket.destroy();

    const wrong = (from: string) => call(hub, JOIN_PATH, { method: 'POST', body: JSON.stringify({ token: 'zzzzzz.0000000000000000' }), localAddress: from });
    const statuses = [];
    // Each on its own connection with "Connection: close", which the gateway must not pass on.
    for (let i = 0; i < 5; i++) statuses.push((await wrong('127.0.0.31')).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const other = await wrong('127.0.0.32');
    expect(other.status).toBe(401);
    expect(logged(hub, /joins throttled/).map((l) => l.address)).toContain('127.0.0.31');
  }, 30_000);
});
