import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Flow, FlowAbortedError, ManualClock, MemoryFlowJournal, sleep, type FlowJournal, type FlowStep } from '../engine/index.js';
import { FLOW_JOURNAL_SCHEMA, SqliteFlowJournal } from './sqlite-flow-journal.js';

let dir: string;
let path: string;
let db: Database.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-flow-journal-'));
  path = join(dir, 'state.db');
  db = new Database(path);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

// Both journals must behave alike: tests and simulated agents use the memory one in place of SQLite.
describe.each([
  ['SqliteFlowJournal', (): FlowJournal => new SqliteFlowJournal(db, () => 0)],
  ['MemoryFlowJournal', (): FlowJournal => new MemoryFlowJournal()],
])('%s', (_name, make) => {
  it('records done steps per flow and revision', () => {
    const j = make();
    expect(j.load('f1')).toBeUndefined();
    j.stepDone('f1', 'gen-3', 'ssh');
    j.stepDone('f1', 'gen-3', 'runtime');
    j.stepDone('f1', 'gen-3', 'ssh');
    j.stepDone('f2', 'gen-1', 'ssh');
    // Done is a set: each step once, in no promised order.
    expect(j.load('f1')?.revision).toBe('gen-3');
    expect(j.load('f1')?.done.sort()).toEqual(['runtime', 'ssh']);
    expect(j.load('f2')).toEqual({ revision: 'gen-1', done: ['ssh'] });
  });

  it('drops the steps of an older revision when a step is done for a new one', () => {
    const j = make();
    j.stepDone('f1', 'gen-3', 'ssh');
    j.stepDone('f1', 'gen-3', 'runtime');
    j.stepDone('f1', 'gen-4', 'ssh');
    expect(j.load('f1')).toEqual({ revision: 'gen-4', done: ['ssh'] });
  });

  it('clears one flow and leaves the others', () => {
    const j = make();
    j.stepDone('f1', 'r', 'a');
    j.stepDone('f2', 'r', 'a');
    j.clear('f1');
    j.clear('never-ran');
    expect(j.load('f1')).toBeUndefined();
    expect(j.load('f2')).toEqual({ revision: 'r', done: ['a'] });
  });
});

describe('SqliteFlowJournal', () => {
  it('keeps its rows in the flow_journal table, stamped with the time each step was done', () => {
    let now = Date.parse('2026-05-01T10:00:00Z');
    const j = new SqliteFlowJournal(db, () => now);
    j.stepDone('Cluster/p/c/provision', '7', 'ssh');
    now += 1500;
    j.stepDone('Cluster/p/c/provision', '7', 'runtime');
    expect(db.prepare(`SELECT flow_id, revision, step, done_at FROM flow_journal ORDER BY done_at`).all()).toEqual([
      { flow_id: 'Cluster/p/c/provision', revision: '7', step: 'ssh', done_at: '2026-05-01T10:00:00.000Z' },
      { flow_id: 'Cluster/p/c/provision', revision: '7', step: 'runtime', done_at: '2026-05-01T10:00:01.500Z' },
    ]);
    expect(j.load('Cluster/p/c/provision')?.done).toEqual(['ssh', 'runtime']);
  });

  it('its schema can run again, as a migration would, without touching the rows', () => {
    new SqliteFlowJournal(db).stepDone('f', 'r', 'a');
    db.exec(FLOW_JOURNAL_SCHEMA);
    expect(new SqliteFlowJournal(db).load('f')).toEqual({ revision: 'r', done: ['a'] });
  });

  it('lets a flow killed at a step resume there after the file is reopened', async () => {
    const clock = new ManualClock();
    const runs: string[] = [];
    const ac = new AbortController();
    const steps = (crashAt?: string): FlowStep[] =>
      ['ssh', 'runtime', 'kubeadm-init', 'cni'].map((name, i, all) => ({
        name,
        ...(i && { dependsOn: [all[i - 1]!] }),
        run: async (signal) => {
          runs.push(name);
          if (name === crashAt) ac.abort(new Error('kill -9'));
          await sleep(clock, 10, signal);
        },
      }));
    const first = new Flow('site', steps('kubeadm-init')).run({ flowId: 'Cluster/p/c/provision', revision: '7', journal: new SqliteFlowJournal(db), signal: ac.signal, clock });
    const outcome = first.catch((e: unknown) => e);
    await clock.advance(100);
    expect(await outcome).toBeInstanceOf(FlowAbortedError);
    db.close();

    db = new Database(path);
    runs.length = 0;
    const second = new Flow('site', steps()).run({ flowId: 'Cluster/p/c/provision', revision: '7', journal: new SqliteFlowJournal(db), clock });
    await clock.advance(100);
    expect((await second).state).toBe('Succeeded');
    expect(runs).toEqual(['kubeadm-init', 'cni']);
    expect(db.prepare(`SELECT count(*) AS n FROM flow_journal`).get()).toEqual({ n: 0 });
  });
});
