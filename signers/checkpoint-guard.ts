// Before a signer contributes to a checkpoint signature it proves, on its own, that the checkpoint
// extends the last one it signed: the consistency proof the coordinator sends must lead from that
// checkpoint (size and root kept in <state>/signers/<i>/tlog-state.json, by origin) to the new one. A fork,
// a truncation, a checkpoint of another log or one with extension lines gets no share, so no
// coordinator can move the log anywhere but forward without t signers. The new state is made
// durable before the share leaves; checks run one at a time.
import { open, readFile, rename, writeFile } from 'node:fs/promises';
import { ZtmintError } from '../errors/ztmint-error.js';
import { fromBase64Strict, toBase64 } from '../transparency/base64.js';
import type { Checkpoint } from '../transparency/checkpoint.js';
import { emptyRoot, verifyConsistency } from '../transparency/merkle.js';

/** Why a checkpoint was refused (answered as problem `checkpoint_refused`, 409). */
export class CheckpointRefused extends ZtmintError<'checkpoint_refused'> {}

export interface TlogState {
  origin: string;
  size: number;
  root_hash: string;
}

export class CheckpointGuard {
  private current?: TlogState;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** <state>/signers/<i>/tlog-state.json */
    private readonly file: string,
    /** The only log this signer signs checkpoints for (transparency/log-origin.ts). */
    readonly origin: string,
  ) {}

  /** The last checkpoint this signer signed (size 0, empty root before the first). */
  async state(): Promise<TlogState> {
    if (this.current) return this.current;
    const known = (await this.readFile())[this.origin];
    this.current = { origin: this.origin, size: known?.size ?? 0, root_hash: known?.root_hash ?? toBase64(emptyRoot()) };
    return this.current;
  }

  /** Every log this signer ever signed for, by origin (a changed --token-issuer is another log). */
  private async readFile(): Promise<Record<string, { size: number; root_hash: string }>> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as Record<string, { size: number; root_hash: string }>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
  }

  /**
   * Checks `cp` against the last signed state with `proof` from `oldSize`, and persists it as the
   * new last state. Throws CheckpointRefused naming the failed check.
   */
  check(cp: Checkpoint, oldSize: number, proof: readonly string[]): Promise<void> {
    const run = this.queue.then(() => this.checkNow(cp, oldSize, proof));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async checkNow(cp: Checkpoint, oldSize: number, proof: readonly string[]): Promise<void> {
    const last = await this.state();
    if (cp.origin !== this.origin) throw new CheckpointRefused('checkpoint_refused', `checkpoint is for another log (${JSON.stringify(cp.origin)})`);
    if (cp.extensions.length) throw new CheckpointRefused('checkpoint_refused', 'checkpoint has extension lines; this log signs none');
    if (oldSize !== last.size) throw new CheckpointRefused('checkpoint_refused', `the proof starts at size ${oldSize} but this signer last signed size ${last.size}; read GET /v1/tlog`);
    if (cp.size < last.size) throw new CheckpointRefused('checkpoint_refused', `log truncated: size ${cp.size} is below ${last.size}, which this signer already signed`);
    let hashes: Uint8Array[];
    try {
      hashes = proof.map((h) => fromBase64Strict(h, 'proof hash'));
    } catch {
      throw new CheckpointRefused('checkpoint_refused', 'consistency proof hashes are not canonical base64');
    }
    try {
      verifyConsistency(last.size, cp.size, fromBase64Strict(last.root_hash, 'root'), cp.rootHash, hashes);
    } catch (err) {
      throw new CheckpointRefused('checkpoint_refused', `checkpoint is not consistent with the last one this signer signed (size ${last.size}): ${(err as Error).message}`, { cause: err });
    }
    if (cp.size === last.size) return; // the same tree head again: nothing to record
    const next: TlogState = { origin: this.origin, size: cp.size, root_hash: toBase64(cp.rootHash) };
    const all = await this.readFile();
    all[this.origin] = { size: next.size, root_hash: next.root_hash };
    await writeDurably(this.file, JSON.stringify(all, null, 2) + '\n');
    this.current = next;
  }
}

async function writeDurably(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  const handle = await open(tmp, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}
