// When a gateway process stops taking part in accepts. The gateway processes share one listening socket,
// and the kernel hands each new connection to whichever process calls accept first: an idle process
// wins more than its share, fills up, and used to refuse (and push agents into long backoffs) while
// its siblings had room. A full process now leaves the listening socket to the others and comes back
// once enough of its connections have gone; hysteresis keeps it from flapping at the edge.
export type GateAction = 'stop-accepting' | 'accept-again';

export class AcceptGate {
  private held = 0;
  private accepting = true;

  /** Stop accepting at `highWater` held connections; accept again at `lowWater`. */
  constructor(
    private readonly highWater: number,
    private readonly lowWater: number,
  ) {
    if (!(lowWater >= 0 && lowWater < highWater)) throw new Error(`accept gate needs 0 <= lowWater (${lowWater}) < highWater (${highWater})`);
  }

  get connections(): number {
    return this.held;
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  opened(): GateAction | undefined {
    this.held++;
    if (!this.accepting || this.held < this.highWater) return undefined;
    this.accepting = false;
    return 'stop-accepting';
  }

  closed(): GateAction | undefined {
    this.held = Math.max(0, this.held - 1);
    if (this.accepting || this.held > this.lowWater) return undefined;
    this.accepting = true;
    return 'accept-again';
  }
}
