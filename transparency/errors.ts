// The one error class of the transparency log: every refusal (a malformed note, a proof that does
// not verify, a tile that does not match its checkpoint) carries a stable code callers branch on,
// so `audit verify`, signers and the coordinator can tell "bad input" from "inconsistent log".
import { ZtmintError } from '../errors/ztmint-error.js';

export type TransparencyErrorCode =
  /** A note, checkpoint, verifier key, tile path or entry bundle is not in its exact format. */
  | 'tlog_malformed'
  /** A signature line from a known key does not verify, or no known key signed the note. */
  | 'tlog_bad_signature'
  /** An inclusion or consistency proof does not verify against the given tree heads. */
  | 'tlog_bad_proof'
  /** Tiles or entries fetched from a copy of the log do not match the checkpoint. */
  | 'tlog_inconsistent'
  /** A caller asked for something outside the tree (index past the size, size shrinking). */
  | 'tlog_out_of_range';

export class TransparencyError extends ZtmintError<TransparencyErrorCode> {}
