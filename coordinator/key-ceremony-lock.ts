// One key ceremony at a time per coordinator (docs/keys.md): a rotation, refresh, repair or
// reshare each reads the key set, changes it at the signers and writes it back, so two at once
// would plan from a key set the other is about to replace (and the signers refuse a second
// ceremony while one is staged anyway).
let running: string | undefined;

/** Takes the lock for `what` and returns its release, or undefined with `holder()` naming who has it. */
export function lockKeyCeremony(what: string): (() => void) | undefined {
  if (running !== undefined) return undefined;
  running = what;
  return () => {
    running = undefined;
  };
}

/** What holds the lock now (e.g. "a key rotation"), if anything. */
export function keyCeremonyHolder(): string | undefined {
  return running;
}
