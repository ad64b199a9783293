// The gate that makes a share change look atomic to minting (docs/keys.md, "Activation"). The
// signers activate new shares one after another; a FROST run whose signers straddle that moment
// aggregates nothing valid. So, for the one key whose shares change, the coordinator running the
// ceremony first lets the signing runs in flight finish (bounded), then holds new ones while it
// tells every signer to activate and updates its key set, then lets them through with the new key
// set. Waits are bounded: a run held longer than `holdMs` goes ahead, and whatever it meets is
// handled by frostSign's retry (shares that do not verify are left out; quorum_unavailable, which
// is retryable, if too few remain).
interface Closed {
  opened: Promise<void>;
  open: () => void;
}

export class SigningGate {
  private readonly inFlight = new Map<string, number>();
  private readonly closed = new Map<string, Closed>();
  private readonly drained = new Map<string, Array<() => void>>();

  constructor(private readonly holdMs = 10_000) {}

  /** Before a signing run with key `kid`: waits while the key is held (≤ holdMs); call the result when the run is over. */
  async enter(kid: string): Promise<() => void> {
    const closed = this.closed.get(kid);
    if (closed) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed.opened, new Promise<void>((r) => (timer = setTimeout(r, this.holdMs)))]);
      clearTimeout(timer);
    }
    this.inFlight.set(kid, (this.inFlight.get(kid) ?? 0) + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const n = (this.inFlight.get(kid) ?? 1) - 1;
      this.inFlight.set(kid, n);
      if (n === 0) for (const wake of this.drained.get(kid)?.splice(0) ?? []) wake();
    };
  }

  /**
   * Holds new runs of `kid` and waits (≤ drainMs) for those in flight to finish; returns how many
   * were still running when the wait ended, and the function that opens the gate again.
   */
  async hold(kid: string, drainMs = 30_000): Promise<{ stillRunning: number; open: () => void }> {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const entry = { opened, open };
    this.closed.set(kid, entry);
    if ((this.inFlight.get(kid) ?? 0) > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => {
          const list = this.drained.get(kid) ?? [];
          list.push(r);
          this.drained.set(kid, list);
        }),
        new Promise<void>((r) => (timer = setTimeout(r, drainMs))),
      ]);
      clearTimeout(timer);
    }
    return {
      stillRunning: this.inFlight.get(kid) ?? 0,
      open: () => {
        if (this.closed.get(kid) === entry) this.closed.delete(kid);
        entry.open();
      },
    };
  }
}
