// External witnesses of the transparency log (c2sp.org/tlog-witness): each checkpoint the quorum
// signs is sent to every configured witness with a consistency proof from the size that witness
// last cosigned (transparency/witness-client.ts; a 409 is caught up once). Cosignatures that
// verify under the witness's configured key are stored with the checkpoint, so /tlog/checkpoint
// serves the note with them. Witnesses are best effort: a refusal or an outage never fails a mint;
// it is logged and counted (ztmint_witness_requests_total), not audited (it is not a decision).
import type { Counter } from 'prom-client';
import { consistencyProof } from '../../transparency/merkle.js';
import { WitnessClient, type WitnessEndpoint } from '../../transparency/witness-client.js';
import type { TlogStore } from '../store/tlog-store.js';
import type { CheckpointHook, SignedCheckpoint } from './checkpointer.js';

export interface WitnessingDeps {
  witnesses: readonly WitnessEndpoint[];
  tlog: TlogStore;
  requests: Counter<'witness' | 'outcome'>;
  log: (level: 'info' | 'warn', fields: Record<string, unknown>, msg: string) => void;
}

/** The checkpoint hook that has `witnesses` cosign each signed checkpoint, one checkpoint at a time. */
export function witnessingHook(deps: WitnessingDeps): CheckpointHook {
  const client = new WitnessClient(deps.witnesses, (oldSize, newSize) => consistencyProof(deps.tlog, oldSize, newSize));
  let pending: SignedCheckpoint | undefined;
  let running: Promise<void> | undefined;

  async function submit(signed: SignedCheckpoint): Promise<void> {
    const { size } = signed.checkpoint;
    const out = await client.cosign(signed.note);
    for (const name of out.cosignedBy) deps.requests.inc({ witness: name, outcome: 'cosigned' });
    for (const f of out.failed) {
      deps.requests.inc({ witness: f.witness, outcome: 'failed' });
      deps.log('warn', { witness: f.witness, size, reason: f.reason }, 'witness gave no cosignature for the checkpoint (mints go on; check the witness and its log configuration)');
    }
    if (out.cosignedBy.length) {
      await deps.tlog.saveCosignedCheckpoint(out.note, size);
      deps.log('info', { witnesses: out.cosignedBy, size }, 'checkpoint cosigned by witnesses');
    }
  }

  // Sequential, newest first: a witness must see sizes in order (its 409 otherwise), and a
  // checkpoint superseded while the previous one was out is skipped for the newer one.
  async function drain(): Promise<void> {
    while (pending) {
      const next = pending;
      pending = undefined;
      await submit(next).catch((err: unknown) => deps.log('warn', { size: next.checkpoint.size, error: (err as Error).message }, 'witnessing the checkpoint failed'));
    }
    running = undefined;
  }

  return (signed) => {
    if (!pending || signed.checkpoint.size > pending.checkpoint.size) pending = signed;
    running ??= drain();
  };
}
