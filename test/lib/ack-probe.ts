// Change-to-ack latency of a well-behaved agent, measured from the hub's side: one change at a time through
// the admin API, in that agent's view, timed until the Agent's acked revision (as the admin API shows it,
// from the presence table) reaches the change's revision. Reusable by any test that attacks the hub and
// must show that a real agent keeps getting its changes meanwhile.
import type { ApiClient } from '@outpost/hub';
import { findKind, type Agent, type ResourceObject } from '@outpost/proto';

export interface AckProbeOptions {
  api: ApiClient;
  /** The well-behaved agent, connected and running. */
  agentId: string;
  /** Makes change number `i` in that agent's view; resolves with the object as written. */
  change(i: number): Promise<ResourceObject>;
  /** How often the acked revision is read. Default 10 ms. */
  pollMs?: number;
  /** A change not acked within this fails the probe. Default 15 s. */
  timeoutMs?: number;
}

export interface AckLatencies {
  /** Milliseconds from the write's request to the ack seen, one per change, in order. */
  samples: number[];
  p50: number;
  p99: number;
  max: number;
}

/** The q-quantile (0..1) of `xs` by the nearest-rank method. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export async function ackedRevision(api: ApiClient, agentId: string): Promise<number> {
  const agent = await api.get<Agent>(findKind('agents')!, agentId);
  return Number(agent.status?.ackedRevision ?? 0);
}

/** Makes `n` changes one after another and times each one's ack. */
export async function probeAcks(opts: AckProbeOptions, n: number): Promise<AckLatencies> {
  const pollMs = opts.pollMs ?? 10;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const written = await opts.change(i);
    const revision = Number(written.metadata.resourceVersion);
    for (;;) {
      if ((await ackedRevision(opts.api, opts.agentId)) >= revision) break;
      if (performance.now() - start > timeoutMs) throw new Error(`agent ${opts.agentId} did not ack revision ${revision} (change ${i}) within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
    samples.push(performance.now() - start);
  }
  return { samples, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), max: Math.max(...samples) };
}
