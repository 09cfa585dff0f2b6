// Writes in one tick share one round of Pokes: the views they touched are gathered, with the newest
// revision among them, and handed on once the tick's writes are done. Used where pokes fan out: to the
// sessions of a gateway, and from the hub's primary to its gateway processes (one IPC message per
// process per tick, not per commit).

export class PokeBatch {
  private views = new Set<string>();
  private revision = 0;

  constructor(private readonly flush: (views: ReadonlySet<string>, revision: number) => void) {}

  add(views: Iterable<string>, revision: number): void {
    const first = this.views.size === 0;
    for (const v of views) this.views.add(v);
    this.revision = Math.max(this.revision, revision);
    if (first && this.views.size > 0) setImmediate(() => this.run());
  }

  private run(): void {
    const views = this.views;
    this.views = new Set();
    this.flush(views, this.revision);
  }
}
