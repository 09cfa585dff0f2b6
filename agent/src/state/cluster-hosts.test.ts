import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteLocalState } from './sqlite-local-state.js';

const cluster = (name: string, uid: string) => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name, namespace: 'p', uid, generation: 1 }, spec: {} });
const key = (name: string) => ({ kind: 'Cluster', namespace: 'p', name });
const ref = (name: string, uid: string) => ({ uid, namespace: 'p', name });
const row = (host: string, joined: boolean) => ({ host, role: 'worker', joined, target: `{"host":"${host}"}` });

describe("the hosts a site agent set up, in state.db", () => {
  let dir: string;
  let state: SqliteLocalState;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-agent-hosts-'));
    state = new SqliteLocalState(join(dir, 'state.db'));
  });
  afterEach(() => {
    state.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps each host once per Cluster uid across a reopen, and drops one host alone', () => {
    state.apply({ snapshot: true, revision: 1, changes: [{ key: key('a'), object: cluster('a', 'ua') }] });
    const hosts = state.clusterHosts();
    hosts.put(ref('a', 'ua'), row('w1', false));
    hosts.put(ref('a', 'ua'), row('w1', true));
    hosts.put(ref('a', 'ua'), row('w0', true));
    state.close();
    state = new SqliteLocalState(join(dir, 'state.db'));
    expect(state.clusterHosts().list('ua')).toEqual([row('w0', true), row('w1', true)]);
    expect(state.clusterHosts().list('ub')).toEqual([]);
    state.clusterHosts().remove('ua', 'w1');
    expect(state.clusterHosts().list('ua')).toEqual([row('w0', true)]);
  });

  it("keeps a removed Cluster's hosts while it is a tombstone (its finalize resets them), and forgets them with it", () => {
    state.apply({ snapshot: true, revision: 1, changes: [{ key: key('a'), object: cluster('a', 'ua') }] });
    state.clusterHosts().put(ref('a', 'ua'), row('w1', true));
    state.apply({ snapshot: false, revision: 2, changes: [{ key: key('a') }] });
    expect(state.clusterHosts().list('ua')).toEqual([row('w1', true)]);
    state.forget(key('a'));
    expect(state.clusterHosts().list('ua')).toEqual([]);
  });
});
