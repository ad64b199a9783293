// Strict validation of the coordinator's `200` answer to `POST /v1/mint`, before any of it is
// used: a coordinator (or whatever sits on the path to it) is not trusted to send well-formed
// values, and these values end up in the log, in step outputs and in the post step's state.
// Error messages name the field and the rule, never the value.
import { createHash } from 'node:crypto';
import { CoordinatorError } from './coordinator-error.js';
import {
  isAudience,
  isCompactJws,
  isJti,
  isScopeToken,
  MAX_AUDIENCE_CHARS,
  MAX_CLOCK_SKEW_MS,
  MAX_EXPIRES_IN_SECONDS,
  MAX_JTI_CHARS,
  MAX_SCOPES,
  MAX_TOKEN_CHARS,
  parseRfc3339,
  readMintedToken,
} from './untrusted-values.js';

/** A successful mint, in the coordinator's field names' camelCase. */
export interface MintResult {
  token: string;
  tokenType: string;
  /** RFC 3339 timestamp, as sent by the coordinator (checked strictly). */
  expiresAt: string;
  expiresIn: number;
  jti: string;
  scopes: string[];
  audience?: string;
  auditIndex: number;
  /**
   * The proof that the mint is in the coordinator's transparency log (docs/transparency.md): the
   * record's leaf index, the record, an inclusion proof and the quorum-signed checkpoint. Checked
   * here for shape and for being this token's record; its signature is for an auditor to check
   * (`ztmint audit verify-proof`) against the published key.
   */
  transparency?: { log_index: number; entry: string; checkpoint: string; inclusion_proof: string[] };
}

/** A checkpoint note: origin, size and root lines, a blank line, at least one signature line. */
const CHECKPOINT_NOTE = /^[^\n]{1,1024}\n(?:0|[1-9][0-9]{0,15})\n[A-Za-z0-9+/]{43}=\n(?:[^\n]+\n)*\n(?:\u2014 [^\n]{1,2048}\n){1,16}$/;
const PROOF_HASH = /^[A-Za-z0-9+/]{43}=$/;
const MAX_ENTRY_CHARS = 65_535;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a 200 body against the protocol and the local clock (`now`, ms). */
export function parseMintResponse(body: unknown, now: number): MintResult {
  const bad = (what: string): CoordinatorError => new CoordinatorError('malformed_response', `coordinator's mint response is malformed: ${what}`);
  if (!isRecord(body)) throw bad('not a JSON object');
  const { token, token_type, expires_at, expires_in, jti, scopes, audience, audit, transparency } = body;
  if (token === undefined || token === null || token === '') throw bad('`token` missing');
  if (!isCompactJws(token)) {
    throw bad(`\`token\` is not a compact JWS (three base64url parts) of at most ${MAX_TOKEN_CHARS} characters`);
  }
  const minted = readMintedToken(token);
  if (minted === undefined) throw bad('`token` is not a JWT whose header says "alg": "EdDSA"');
  if (typeof token_type !== 'string' || token_type.toLowerCase() !== 'bearer') {
    throw bad('`token_type` is not "Bearer"');
  }
  if (jti === undefined || jti === null || jti === '') throw bad('`jti` missing');
  if (!isJti(jti)) throw bad(`\`jti\` is not base64url of at most ${MAX_JTI_CHARS} characters`);
  if (minted.claims.jti !== jti) throw bad('`jti` is not the `jti` claim of the token');

  if (typeof expires_in !== 'number' || !Number.isSafeInteger(expires_in) || expires_in <= 0 || expires_in > MAX_EXPIRES_IN_SECONDS) {
    throw bad(`\`expires_in\` is not a whole number of seconds from 1 to ${MAX_EXPIRES_IN_SECONDS}`);
  }
  const expiresAtMs = parseRfc3339(expires_at);
  if (expiresAtMs === undefined || typeof expires_at !== 'string') throw bad('`expires_at` is not an RFC 3339 timestamp');
  const { exp, iat } = minted.claims;
  if (typeof exp !== 'number' || !Number.isSafeInteger(exp)) throw bad('the token has no whole-number `exp` claim');
  if (Math.abs(expiresAtMs - exp * 1000) >= 1000) throw bad('`expires_at` is not the `exp` claim of the token');
  if (typeof iat === 'number' && Math.abs(exp - iat - expires_in) > 1) {
    throw bad('`expires_in` is not the lifetime of the token (`exp` - `iat`)');
  }
  if (Math.abs(expiresAtMs - (now + expires_in * 1000)) > MAX_CLOCK_SKEW_MS) {
    throw bad(`\`expires_at\` is not \`expires_in\` seconds from now (give or take ${MAX_CLOCK_SKEW_MS / 60_000} min); ` + "check the runner's and the coordinator's clocks");
  }

  if (!Array.isArray(scopes) || scopes.length > MAX_SCOPES || !scopes.every(isScopeToken)) {
    throw bad(`\`scopes\` is not an array of at most ${MAX_SCOPES} scope tokens (RFC 6749 section 3.3)`);
  }
  if (audience !== undefined && audience !== null && audience !== '' && !isAudience(audience)) {
    throw bad(`\`audience\` is not a string of at most ${MAX_AUDIENCE_CHARS} printable characters without spaces`);
  }
  if (!isRecord(audit) || typeof audit.index !== 'number' || !Number.isSafeInteger(audit.index) || audit.index < 0) {
    throw bad('`audit.index` is not a whole number');
  }
  const result: MintResult = {
    token,
    tokenType: token_type,
    expiresAt: expires_at,
    expiresIn: expires_in,
    jti,
    scopes: [...scopes],
    auditIndex: audit.index,
  };
  if (typeof audience === 'string' && audience !== '') result.audience = audience;
  if (transparency !== undefined) result.transparency = parseTransparency(transparency, audit.index, token, bad);
  return result;
}

function parseTransparency(t: unknown, auditIndex: number, token: string, bad: (what: string) => CoordinatorError): NonNullable<MintResult['transparency']> {
  if (!isRecord(t)) throw bad('`transparency` is not an object');
  const { log_index, entry, checkpoint, inclusion_proof } = t;
  if (log_index !== auditIndex) throw bad('`transparency.log_index` is not `audit.index`');
  if (typeof entry !== 'string' || entry.length > MAX_ENTRY_CHARS) throw bad(`\`transparency.entry\` is not a string of at most ${MAX_ENTRY_CHARS} characters`);
  let record: unknown;
  try {
    record = JSON.parse(entry);
  } catch {
    record = undefined;
  }
  if (!isRecord(record) || record.event !== 'mint' || record.index !== auditIndex || record.token_sha256 !== createHash('sha256').update(token).digest('hex')) {
    throw bad("`transparency.entry` is not this token's mint record");
  }
  if (typeof checkpoint !== 'string' || !CHECKPOINT_NOTE.test(checkpoint)) throw bad('`transparency.checkpoint` is not a signed checkpoint note');
  if (!Array.isArray(inclusion_proof) || inclusion_proof.length > 63 || !inclusion_proof.every((h) => typeof h === 'string' && PROOF_HASH.test(h))) {
    throw bad('`transparency.inclusion_proof` is not a list of at most 63 base64 SHA-256 hashes');
  }
  return { log_index, entry, checkpoint, inclusion_proof: [...(inclusion_proof as string[])] };
}
