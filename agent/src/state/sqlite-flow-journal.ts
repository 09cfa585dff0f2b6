// The flow journal in the agent's SQLite file: a step's row commits as the step succeeds, so a kill -9 at
// any point leaves the journal at the last finished step and the next run resumes there.
import type Database from 'better-sqlite3';
import type { FlowJournal, FlowJournalRecord } from '../engine/index.js';

/**
 * The table, as a statement a migration can run. One row per done step; `revision` is the same on every row
 * of a flow, because a step recorded for a new revision drops the old revision's rows.
 */
export const FLOW_JOURNAL_SCHEMA = `CREATE TABLE IF NOT EXISTS flow_journal (
  flow_id TEXT NOT NULL,
  revision TEXT NOT NULL,
  step TEXT NOT NULL,
  done_at TEXT NOT NULL,
  PRIMARY KEY (flow_id, step)
) WITHOUT ROWID`;

interface Row {
  revision: string;
  step: string;
}

export class SqliteFlowJournal implements FlowJournal {
  private readonly select: Database.Statement<[string], Row>;
  private readonly dropOtherRevisions: Database.Statement<[string, string]>;
  private readonly upsert: Database.Statement<[string, string, string, string]>;
  private readonly remove: Database.Statement<[string]>;
  private readonly record: (flowId: string, revision: string, step: string) => void;

  /**
   * Takes an open database (the agent's state.db) and creates the table if it is missing, so it works before
   * the agent runs migrations. `now` stamps done_at, for an operator reading the table.
   */
  constructor(db: Database.Database, private readonly now: () => number = Date.now) {
    db.exec(FLOW_JOURNAL_SCHEMA);
    this.select = db.prepare(`SELECT revision, step FROM flow_journal WHERE flow_id = ? ORDER BY done_at, step`);
    this.dropOtherRevisions = db.prepare(`DELETE FROM flow_journal WHERE flow_id = ? AND revision <> ?`);
    this.upsert = db.prepare(
      `INSERT INTO flow_journal (flow_id, revision, step, done_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (flow_id, step) DO UPDATE SET revision = excluded.revision, done_at = excluded.done_at`,
    );
    this.remove = db.prepare(`DELETE FROM flow_journal WHERE flow_id = ?`);
    this.record = db.transaction((flowId: string, revision: string, step: string) => {
      this.dropOtherRevisions.run(flowId, revision);
      this.upsert.run(flowId, revision, step, new Date(this.now()).toISOString());
    });
  }

  load(flowId: string): FlowJournalRecord | undefined {
    const rows = this.select.all(flowId);
    const last = rows.at(-1);
    if (!last) return undefined;
    // One revision per flow is the invariant stepDone keeps; should a hand-edited table break it, the
    // revision written last is the one that counts.
    return { revision: last.revision, done: rows.filter((r) => r.revision === last.revision).map((r) => r.step) };
  }

  stepDone(flowId: string, revision: string, step: string): void {
    this.record(flowId, revision, step);
  }

  clear(flowId: string): void {
    this.remove.run(flowId);
  }
}
