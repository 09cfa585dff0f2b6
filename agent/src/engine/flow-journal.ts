// Where a flow keeps its place. Each step is recorded as it succeeds, so a run killed at any point (kill -9
// included) resumes at the step it was on, as long as the object's revision is the one the journal holds.

export interface FlowJournalRecord {
  /** The revision (of the object's spec) the done steps were done for. */
  revision: string;
  /** Steps that succeeded for that revision, each once, in no promised order. */
  done: string[];
}

/**
 * Synchronous on purpose: a step counts as done only once it is recorded, and the agent's store (SQLite via
 * better-sqlite3) writes synchronously anyway. Implementations throw on failure; the flow turns that into a
 * FlowJournalError.
 */
export interface FlowJournal {
  load(flowId: string): FlowJournalRecord | undefined;
  /** Records `step` done for `revision`; steps recorded for another revision are dropped. */
  stepDone(flowId: string, revision: string, step: string): void;
  clear(flowId: string): void;
}
