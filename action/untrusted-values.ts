// Shape checks for the values the Action takes from outside and later prints, sends or saves:
// the coordinator's mint response and the post step's saved state (GITHUB_STATE, handed back
// as STATE_* variables). Each check is strict and bounded, so a value that passes holds no
// line break, no control character and nothing that could start a workflow command.

/** Longest minted token accepted (a compact JWS of a few hundred bytes in practice). */
export const MAX_TOKEN_CHARS = 16 * 1024;
/** Longest `jti` accepted (the coordinator sends 22: 16 random bytes, base64url). */
export const MAX_JTI_CHARS = 128;
export const MAX_SCOPES = 100;
export const MAX_SCOPE_CHARS = 256;
export const MAX_AUDIENCE_CHARS = 1024;
/** How far the runner's clock and the coordinator's may disagree. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** Longest lifetime the Action believes a minted token can have. */
export const MAX_EXPIRES_IN_SECONDS = 7 * 24 * 3600;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
// RFC 3339 section 5.6 date-time (T, Z case-insensitive as the RFC allows).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** A compact JWS (three base64url parts), at most MAX_TOKEN_CHARS long. */
export function isCompactJws(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TOKEN_CHARS && COMPACT_JWS.test(value);
}

/** A JSON object encoded as one base64url part of a JWS, or undefined. */
function decodeJwsPart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(part, 'base64url')));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** What a minted token says about itself; undefined unless it is a compact JWS with `alg: EdDSA`. */
export function readMintedToken(token: unknown): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  if (!isCompactJws(token)) return undefined;
  const [h, p] = token.split('.') as [string, string, string];
  const header = decodeJwsPart(h);
  const claims = decodeJwsPart(p);
  if (header === undefined || claims === undefined || header.alg !== 'EdDSA') return undefined;
  return { header, claims };
}

/** A token id: base64url, at most MAX_JTI_CHARS. */
export function isJti(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_JTI_CHARS && BASE64URL.test(value);
}

export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_SCOPE_CHARS && SCOPE_TOKEN.test(value);
}

/** An audience: printable ASCII without spaces (a URI or a name), bounded. */
export function isAudience(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_AUDIENCE_CHARS && /^[\x21-\x7E]+$/.test(value);
}

/** Milliseconds since the epoch of a strict RFC 3339 date-time, or undefined. */
export function parseRfc3339(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const m = RFC3339.exec(value);
  if (m === null) return undefined;
  const [, year, month, day, hour, minute, second, , zone, offH, offM] = m;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1] ?? 0;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth) return undefined;
  // Leap seconds (60) are valid RFC 3339; Date.parse does not know them, so they are refused here.
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  if (zone !== 'Z' && zone !== 'z' && (Number(offH) > 23 || Number(offM) > 59)) return undefined;
  const ms = Date.parse(value.toUpperCase());
  return Number.isFinite(ms) ? ms : undefined;
}
