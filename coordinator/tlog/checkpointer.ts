// Checkpoints of the Merkle log, signed by the FROST quorum (the group key is the log key, named
// by the log's origin). Rounds are batched: whoever needs a checkpoint covering a record waits for
// the next round, which signs the whole tree as it is then, so concurrent mints share one FROST
// run. Each signer gets the consistency proof from the last checkpoint it signed (asked once with
// GET /v1/tlog, then remembered) and refuses anything that does not extend it
// (signers/checkpoint-guard.ts). A signed note is checked with node-independent code
// (transparency/checkpoint.ts) before it is stored and handed out.
import type { KeyObject } from 'node:crypto';
import type { GroupInfo } from '../../protocol/ciphersuite.js';
import { fromB64url } from '../../protocol/encoding.js';
import { thumbprint } from '../../protocol/jwk.js';
import { toBase64 } from '../../transparency/base64.js';
import { formatCheckpoint, openCheckpoint, type Checkpoint } from '../../transparency/checkpoint.js';
import { consistencyProof, treeHash } from '../../transparency/merkle.js';
import { ED25519_TYPE, ed25519NoteVerifier, formatSignatureLine, formatVerifierKey, keyId, type NoteVerifier } from '../../transparency/signed-note.js';
import type { SignerClient } from '../signer-client.js';
import type { SigningGate } from '../signing-gate.js';
import { frostSign } from '../signing.js';
import type { TlogStore } from '../store/tlog-store.js';

export interface SignedCheckpoint {
  /** The signed note as served at /tlog/checkpoint. */
  note: string;
  checkpoint: Checkpoint;
}

/** Called after each checkpoint is signed and stored (external witnesses, exports, metrics). */
export type CheckpointHook = (signed: SignedCheckpoint) => void | Promise<void>;

export interface CheckpointerDeps {
  tlog: TlogStore;
  /** The log's origin (known once the coordinator knows its issuer URL). */
  origin: () => string;
  /** The log key's current key set (its verifying shares and quorum change with a refresh or reshare). */
  group: () => GroupInfo;
  groupKey: KeyObject;
  /** Held while the log key's shares change (coordinator/signing-gate.ts). */
  gate?: SigningGate;
  signers: () => Promise<SignerClient[]>;
  log: (fields: Record<string, unknown>, msg: string) => void;
  onSigned?: CheckpointHook;
}

interface Waiter {
  index: number;
  resolve: (cp: SignedCheckpoint) => void;
  reject: (err: unknown) => void;
}

export class Checkpointer {
  private latest?: SignedCheckpoint;
  /** Each signer's last signed size, as far as this replica knows. */
  private readonly signerSizes = new Map<string, number>();
  private waiting: Waiter[] = [];
  private running = false;
  private timer?: NodeJS.Timeout;
  private readonly publicKey: Uint8Array;

  constructor(private readonly deps: CheckpointerDeps) {
    this.publicKey = fromB64url(deps.group().group_public_key);
  }

  /** `origin+keyid+key`: what discovery publishes and verifiers are given. */
  verifierKey(): string {
    return formatVerifierKey(this.deps.origin(), this.publicKey);
  }

  verifier(): NoteVerifier {
    return ed25519NoteVerifier(this.verifierKey());
  }

  /** The newest signed checkpoint in the store (another replica's may be newer than ours). */
  async current(): Promise<SignedCheckpoint | undefined> {
    const note = await this.deps.tlog.latestCheckpoint();
    if (note !== undefined && note !== this.latest?.note) {
      const { checkpoint } = openCheckpoint(note, [this.verifier()], this.deps.origin());
      // The same size again is the same checkpoint with witness cosignatures added (witnessing.ts).
      if (!this.latest || checkpoint.size >= this.latest.checkpoint.size) this.latest = { note, checkpoint };
    }
    return this.latest;
  }

  /** A signed checkpoint whose tree holds record `index`: the latest, or the next round's. */
  covering(index: number): Promise<SignedCheckpoint> {
    if (this.latest && this.latest.checkpoint.size > index) return Promise.resolve(this.latest);
    return new Promise((resolve, reject) => {
      this.waiting.push({ index, resolve, reject });
      if (!this.running) {
        this.running = true;
        void this.run();
      }
    });
  }

  /** Also signs, every `intervalMs`, a tree that grew without anyone waiting (denials, revocations). */
  startPeriodic(intervalMs: number): void {
    this.timer = setInterval(() => {
      void (async () => {
        const size = await this.deps.tlog.size();
        const latest = await this.current();
        if (size > (latest?.checkpoint.size ?? 0)) await this.covering(size - 1);
      })().catch((err: unknown) => this.deps.log({ error: (err as Error).message }, 'periodic checkpoint failed'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async run(): Promise<void> {
    try {
      while (this.waiting.length) {
        const batch = this.waiting;
        this.waiting = [];
        try {
          const signed = await this.signCovering(Math.max(...batch.map((w) => w.index)) + 1);
          for (const w of batch) w.resolve(signed);
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.running = false; // synchronously after the last look at the queue: no waiter is missed
    }
  }

  private async signerSize(signer: SignerClient): Promise<number> {
    let size = this.signerSizes.get(signer.name);
    if (size === undefined) {
      const state = await signer.tlogState();
      if (state.origin !== this.deps.origin()) throw new Error(`${signer.name} keeps the log ${JSON.stringify(state.origin)}, not ${JSON.stringify(this.deps.origin())}`);
      size = state.size;
      this.signerSizes.set(signer.name, size);
    }
    return size;
  }

  /** Signs the whole tree as it is now (at least `minSize` leaves), unless a stored checkpoint already covers `minSize`. */
  private async signCovering(minSize: number): Promise<SignedCheckpoint> {
    const { tlog } = this.deps;
    const stored = await this.current();
    if (stored && stored.checkpoint.size >= minSize) return stored;
    const origin = this.deps.origin();
    const size = await tlog.size();
    const checkpoint: Checkpoint = { origin, size, rootHash: await treeHash(tlog, size), extensions: [] };
    const text = formatCheckpoint(checkpoint);
    let signed;
    const leave = await this.deps.gate?.enter(thumbprint(this.deps.group().group_public_key));
    try {
      signed = await frostSign(
        { group: this.deps.group(), groupKey: this.deps.groupKey, signers: await this.deps.signers(), log: this.deps.log },
        () => ({ message: text, built: undefined }),
        async (signer) => {
          const old = await this.signerSize(signer);
          if (old > size) throw new Error(`${signer.name} already signed a larger tree (${old}) than this replica sees (${size})`);
          const proof = await consistencyProof(tlog, old, size);
          return { checkpoint: { old_size: old, proof: proof.map(toBase64) } };
        },
      );
    } catch (err) {
      this.signerSizes.clear(); // asked again next time: a refusal may mean our view was stale
      throw err;
    } finally {
      leave?.();
    }
    for (const name of signed.excluded) this.signerSizes.delete(name);
    for (const name of signed.signers) this.signerSizes.set(name, size);
    const note = `${text}\n${formatSignatureLine(origin, keyId(origin, ED25519_TYPE, this.publicKey), signed.signature)}`;
    openCheckpoint(note, [this.verifier()], origin); // what we publish must open under what we publish
    await tlog.saveCheckpoint(note, size);
    const result = { note, checkpoint };
    if (!this.latest || size > this.latest.checkpoint.size) this.latest = result;
    // Not awaited: a slow hook (a witness far away) must not hold up the mints waiting here.
    const hook = this.deps.onSigned;
    if (hook) void (async () => hook(result))().catch((err: unknown) => this.deps.log({ error: (err as Error).message }, 'checkpoint hook failed'));
    return result;
  }
}
