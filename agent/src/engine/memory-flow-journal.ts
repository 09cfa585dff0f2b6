// A FlowJournal in memory: for tests, simulated agents, and flows that need not survive a restart.
import type { FlowJournal, FlowJournalRecord } from './flow-journal.js';

export class MemoryFlowJournal implements FlowJournal {
  private readonly records = new Map<string, { revision: string; done: Set<string> }>();

  load(flowId: string): FlowJournalRecord | undefined {
    const record = this.records.get(flowId);
    return record && { revision: record.revision, done: [...record.done] };
  }

  stepDone(flowId: string, revision: string, step: string): void {
    const record = this.records.get(flowId);
    if (record?.revision === revision) record.done.add(step);
    else this.records.set(flowId, { revision, done: new Set([step]) });
  }

  clear(flowId: string): void {
    this.records.delete(flowId);
  }
}
