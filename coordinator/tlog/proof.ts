// What a mint response carries so the workflow can prove its token was logged: the record's leaf
// index, a checkpoint signed by the quorum that covers it, and the inclusion proof into it.
import { toBase64 } from '../../transparency/base64.js';
import { inclusionProof } from '../../transparency/merkle.js';
import type { TlogStore } from '../store/tlog-store.js';
import type { Checkpointer } from './checkpointer.js';

export interface TransparencyProof {
  log_index: number;
  /** The leaf: the audit record exactly as logged (JSON text; its token_sha256 names the token). */
  entry: string;
  /** The signed checkpoint note (C2SP tlog-checkpoint as a signed-note). */
  checkpoint: string;
  /** RFC 9162 inclusion proof of leaf `log_index` in the checkpoint's tree, standard base64 hashes. */
  inclusion_proof: string[];
}

export async function proveRecord(tlog: TlogStore, checkpointer: Checkpointer, index: number): Promise<TransparencyProof> {
  const signed = await checkpointer.covering(index);
  const [proof, [entry]] = await Promise.all([inclusionProof(tlog, index, signed.checkpoint.size), tlog.readEntries(index, 1)]);
  return { log_index: index, entry: Buffer.from(entry!).toString('utf8'), checkpoint: signed.note, inclusion_proof: proof.map(toBase64) };
}
