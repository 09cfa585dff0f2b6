// The agent's dial, as HubLink makes it: TCP first, TLS on top, trusting only the pinned CA. A hub whose
// certificate another CA signed is never spoken to; a hub that is down costs refused dials until it is
// back; a reconnect resumes the TLS session.
import { DialGate, HubLink, MemoryLocalState } from '@outpost/agent';
import { findKind, type Agent } from '@outpost/proto';
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { site } from '../lib/fixtures.js';
import { freePort } from '../lib/ports.js';
import { OUTPOST_AGENT, run, TestHub, waitFor } from '../lib/processes.js';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

const K = (n: string) => findKind(n)!;

describe('HubLink dial', () => {
  let hub: TestHub;
  let other: TestHub;
  let identity: { agentId: string; credential: string };
  const links: HubLink[] = [];

  beforeAll(async () => {
    [hub, other] = await Promise.all([TestHub.start(), TestHub.start()]);
    await hub.apply(site('s1'));
    const token = await hub.bootstrapToken({ site: 's1' });
    const dir = join(hub.dir, 'agent');
    expect((await run(OUTPOST_AGENT, ['join', '--hub', hub.url, '--token', token, '--ca-hash', hub.caHash, '--data', dir])).code).toBe(0);
    identity = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as typeof identity;
  }, 30_000);
  afterAll(async () => {
    for (const l of links) l.stop();
    await Promise.all([hub?.stop(), other?.stop()]);
  });

  function link(hubUrl: string, caCertPem: string, dialGate?: DialGate): { link: HubLink; warnings: string[]; errors: string[] } {
    const warnings: string[] = [];
    const errors: string[] = [];
    const l = new HubLink({
      hubUrl,
      ...identity,
      caCertPem,
      version: 'test',
      state: new MemoryLocalState(),
      onApplied: () => undefined,
      backoff: { baseMs: 50, capMs: 200 },
      ...(dialGate ? { dialGate } : {}),
      log: { info: () => undefined, warn: (o) => warnings.push(JSON.stringify(o)), debug: (o) => errors.push((o as { err?: string }).err ?? '') },
    });
    links.push(l);
    l.start();
    return { link: l, warnings, errors };
  }

  it('refuses a hub whose certificate is not from the pinned CA', async () => {
    // The right credential, sent to a hub of another CA: TLS must fail before any of it is sent.
    const l = link(other.url, hub.caCertPem);
    await waitFor('a refused handshake', () => l.errors.some((e) => /certificate/i.test(e)));
    expect(l.link.linkState).not.toBe('connected');
    expect(l.link.connects).toBe(0);
    l.link.stop();
  });

  it('holds a dial behind a shared DialGate until the dial before it ends, and a stopped link frees its slot', async () => {
    // Something that accepts TCP and never speaks TLS: the first link's dial stays under way.
    const port = await freePort();
    const held: Socket[] = [];
    const silent = createServer((s) => void held.push(s));
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', r));
    try {
      const gate = new DialGate(1);
      const stuck = link(`https://127.0.0.1:${port}`, hub.caCertPem, gate);
      await waitFor('the first dial under way', () => held.length === 1);
      const waiting = link(hub.url, hub.caCertPem, gate);
      await new Promise((r) => setTimeout(r, 1000));
      // The hub is up, but the second link has not dialled it: its turn has not come.
      expect(waiting.link.linkState).toBe('connecting');
      expect(waiting.link.connects).toBe(0);
      expect(gate.stats()).toMatchObject({ inFlight: 1, queued: 1 });
      stuck.link.stop();
      await waitFor('the second link connected', () => waiting.link.linkState === 'connected');
      expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0 });
      expect(gate.takeMaxWait()).toBeGreaterThanOrEqual(1000);
      waiting.link.stop();
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('keeps dialling a hub that is down and connects, resuming TLS, once it is back', async () => {
    const port = await freePort();
    // Something listening that is no hub at all: it accepts TCP and hangs up.
    const rude = createServer((s) => s.destroy());
    await new Promise<void>((r) => rude.listen(port, '127.0.0.1', r));
    const l = link(`https://127.0.0.1:${port}`, hub.caCertPem);
    await waitFor('dials hung up on', () => l.errors.length >= 3);
    await new Promise<void>((r) => rude.close(() => r()));
    await waitFor('dials refused', () => l.errors.some((e) => /ECONNREFUSED/.test(e)));
    l.link.stop();

    const good = link(hub.url, hub.caCertPem);
    await waitFor('connected', () => good.link.linkState === 'connected');
    await waitFor('hub sees it', async () => (await hub.api().get<Agent>(K('agents'), identity.agentId)).status?.connected);
    // The hub goes away and comes back, with a flag changed (an upgrade to a binary at another path
    // changes its argv too): the next connection resumes the session from the first all the same.
    await hub.proc!.kill('SIGKILL');
    hub.serveArgs = [...hub.serveArgs, '--blob-gc-interval', '2h'];
    await hub.serve();
    await waitFor('reconnected', () => good.link.connects >= 2 && good.link.linkState === 'connected', 20_000);
    // Every connection after the first resumed its TLS session: only the first made a full handshake.
    expect(good.link.resumedConnects).toBe(good.link.connects - 1);
  }, 40_000);
});
