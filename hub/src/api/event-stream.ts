// A watch's byte stream with a bound: events wait in a queue the hub owns and go out only when the
// HTTP response asks for more (the Node adapter reads again only after socket.write() returned true or
// 'drain' fired), so a watcher that stops reading costs at most maxBufferedBytes, not every later event.
// What to do past the bound (drop the watcher with an ERROR event) is the caller's.

export interface EventStreamOptions {
  /** Bytes of pushed events that may wait for a slow reader before push() says the bound is passed. */
  maxBufferedBytes: number;
  /** How long a stream that was told to end may take to be read to its end before its connection is cut. */
  drainGraceMs: number;
  /** The reader went away (connection closed): nothing more will be read. */
  onCancel(): void;
  /** The reader wants more and the queue is empty: push the next page of a backlog, if there is one. */
  refill?(): void;
}

/** A queued event: encoded now (counted against the bound), or made when it is read (a backlog). */
type Item = Uint8Array | (() => Uint8Array);

export class EventStream {
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private items: Item[] = [];
  private head = 0;
  private bytes = 0;
  /** A read is waiting: the next push goes straight out. */
  private wanted = false;
  /** Told to end: nothing more is taken, and the stream closes once read to its end. */
  private ending = false;
  private finished = false;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: EventStreamOptions) {
    // highWaterMark 0: the stream itself holds nothing; pull() runs only when a read waits.
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => void (this.controller = controller),
        pull: () => this.pull(),
        cancel: () => {
          this.finish();
          this.opts.onCancel();
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Nothing is queued, and the stream is still taking events. */
  get idle(): boolean {
    return this.head === this.items.length && !this.ending && !this.finished;
  }

  /** Queues an encoded event. False when the queue is now past maxBufferedBytes. */
  push(chunk: Uint8Array): boolean {
    if (this.ending || this.finished) return true;
    if (this.wanted) {
      this.wanted = false;
      this.controller.enqueue(chunk);
      return true;
    }
    this.items.push(chunk);
    this.bytes += chunk.byteLength;
    return this.bytes <= this.opts.maxBufferedBytes;
  }

  /** Queues an event that is encoded only when it is read: a page of backlog, not counted against the bound. */
  pushLazy(make: () => Uint8Array): void {
    if (this.ending || this.finished) return;
    if (this.wanted) {
      this.wanted = false;
      this.controller.enqueue(make());
      return;
    }
    this.items.push(make);
  }

  /** Ends after what is queued has been read. */
  end(): void {
    if (this.ending || this.finished) return;
    this.ending = true;
    if (this.head === this.items.length) this.close();
    else this.graceTimer = setTimeout(() => this.abort(), this.opts.drainGraceMs);
  }

  /** Drops what is queued, sends `last` (the ERROR event that says why) and ends. */
  endWith(last: Uint8Array): void {
    if (this.ending || this.finished) return;
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    this.push(last);
    this.end();
  }

  /** Cuts the connection: for a reader that did not take even the end of its stream in time. */
  abort(): void {
    if (this.finished) return;
    this.finish();
    this.controller.error(new Error('watch reader too slow; connection closed'));
  }

  private pull(): void {
    if (this.head === this.items.length && !this.ending) this.opts.refill?.();
    if (this.finished) return;
    if (this.head === this.items.length) {
      if (this.ending) this.close();
      else this.wanted = true;
      return;
    }
    const item = this.items[this.head]!;
    this.items[this.head++] = EMPTY;
    if (item instanceof Uint8Array) this.bytes -= item.byteLength;
    // Keep the array from growing for ever under a reader that keeps up with a long stream.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.controller.enqueue(item instanceof Uint8Array ? item : item());
    if (this.ending && this.head === this.items.length) this.close();
  }

  private close(): void {
    if (this.finished) return;
    this.finish();
    this.controller.close();
  }

  private finish(): void {
    this.finished = true;
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    clearTimeout(this.graceTimer);
  }
}

const EMPTY = new Uint8Array(0);
