// The signing gate (coordinator/signing-gate.ts): while a key's shares change, runs in flight
// finish first, new runs of that key wait until the gate opens (bounded), other keys pass.
import { describe, expect, it } from 'vitest';
import { SigningGate } from '../coordinator/signing-gate.js';

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('SigningGate', () => {
  it('waits for runs in flight, holds new runs of that key until opened, lets other keys through', async () => {
    const gate = new SigningGate(60_000);
    const leaveA = await gate.enter('A');
    let held = false;
    const holding = gate.hold('A').then((h) => ((held = true), h));
    await tick();
    expect(held).toBe(false); // a run of A is in flight
    leaveA();
    const { stillRunning, open } = await holding;
    expect(stillRunning).toBe(0);

    let entered = false;
    const waiting = gate.enter('A').then((leave) => ((entered = true), leave));
    const other = await gate.enter('B'); // another key is not held
    other();
    await tick();
    expect(entered).toBe(false);
    open();
    (await waiting)();
    expect(entered).toBe(true);
  });

  it('is bounded: a held run goes ahead after holdMs, and the drain gives up after drainMs', async () => {
    const gate = new SigningGate(50);
    const leave = await gate.enter('A');
    const { stillRunning, open } = await gate.hold('A', 50);
    expect(stillRunning).toBe(1);
    const late = await gate.enter('A'); // not opened: goes ahead after 50 ms
    late();
    leave();
    open();
  });
});
