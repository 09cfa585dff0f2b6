#!/usr/bin/env node
// TEST ONLY, never shipped: a seed agent (the real one: hub link, local state, HostedClusterReconciler
// through the seed's Kubernetes API) whose reconcilers are handed the clusters' CAs from a file the test
// writes (uid -> ClusterKeys), standing in for the hub's delivery of them until that lands.
// Usage: keyed-seed-agent.mjs --data DIR --kubeconfig FILE --keys FILE [--leaf-cert-lifetime S] [--heal-interval S]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadIdentity, ReceivedReconciler, seed, startAgent } from '@outpost/agent';

const { values } = parseArgs({ options: { data: { type: 'string' }, kubeconfig: { type: 'string' }, keys: { type: 'string' }, 'leaf-cert-lifetime': { type: 'string' }, 'heal-interval': { type: 'string' } } });
if (!values.keys) throw new Error('keyed-seed-agent needs --keys FILE');
const view = loadIdentity(values.data).view;
const kc = seed.seedKubeConfig({ view, kubeconfig: values.kubeconfig, env: process.env });
const keys = {
  clusterKeys(uid) {
    let all = {};
    try {
      all = JSON.parse(readFileSync(values.keys, 'utf8'));
    } catch {
      // not written yet
    }
    if (!all[uid]) process.stderr.write(`keyed-seed-agent: no CAs for uid "${uid}" (the file has ${Object.keys(all).join(', ') || 'none'})\n`);
    return all[uid];
  },
};
const inner = new seed.HostedClusterReconciler({
  api: new seed.KubeSeedApi(kc),
  seedName: view.replace(/^seed\//, ''),
  ...(values['leaf-cert-lifetime'] ? { leafLifetimeMs: Number(values['leaf-cert-lifetime']) * 1000 } : {}),
  ...(values['heal-interval'] ? { healIntervalMs: Number(values['heal-interval']) * 1000 } : {}),
});
const keyed = {
  name: inner.name,
  kind: inner.kind,
  owns: (obj) => inner.owns(obj),
  reconcile: (obj, ctx) => inner.reconcile(obj, { ...ctx, secrets: keys }),
  finalize: (obj, ctx) => inner.finalize(obj, { ...ctx, secrets: keys }),
};
const agent = await startAgent({ dataDir: values.data, reconcilers: [new ReceivedReconciler(), keyed] }, pino({ level: 'info' }, pino.destination(2)));
process.stdout.write('outpost-agent (keyed, test only) running\n');
const shutdown = () => void agent.stop().then(() => process.exit(0));
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
