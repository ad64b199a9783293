// The adversarial corpus' bookkeeping: what a case is, what it expects, and how an outcome is
// judged. Every outcome is checked the same way, whatever the case expects: no token issued (no
// 2xx from /v1/mint, no JWT signed by the group key anywhere in a body), no signature share for
// a forged round 2, no 5xx, problem+json with the documented code, never a stack trace, never an
// echo of a secret the case sent.
import { verify, type KeyObject } from 'node:crypto';
import { PROBLEM_STATUS, type ProblemCode } from '../../protocol/problem.js';

type Surface = 'mint' | 'revoke' | 'introspect' | 'signer' | 'coordinator';

/** What came back for one request: an HTTP response, or a transport error (status 0). */
export interface Outcome {
  status: number;
  contentType: string;
  body: string;
  /** Transport-level failure (TLS refused, connection closed without a response, aborted). */
  error?: string;
  /** The request was sent with HEAD: no body to check. */
  head?: boolean;
}

export type Expectation =
  /** problem+json with this code (or one of these codes) and its documented status. */
  | { kind: 'problem'; code: ProblemCode | ProblemCode[] }
  /** RFC 7662 answer for a token that is not ours or not active: 200 `{"active":false}` and nothing else. */
  | { kind: 'inactive' }
  /** A bare status (e.g. 204 for revoking a genuinely expired token, 404 for HEAD). */
  | { kind: 'status'; status: number; problemType?: boolean }
  /** No HTTP exchange at all: the TLS handshake or the connection fails. */
  | { kind: 'tls_failure' }
  /** The client gave up (slow client); the server must not have answered with a 5xx meanwhile. */
  | { kind: 'no_response' }
  /** Any 4xx problem+json whose code is documented (parser-level refusals without a fixed code). */
  | { kind: 'problem_4xx' };

export interface AttackCase<Env> {
  /** Attack class, e.g. `jwt.alg-none`. */
  cls: string;
  name: string;
  surface: Surface;
  expect: Expectation;
  /**
   * Set when the product is known to get this case wrong: the case still runs (so the report
   * says whether it still reproduces) but does not count towards the suite's assertions.
   */
  knownBug?: string;
  /** A round 2 whose message/commitments are forged (default for signer cases): a share is a violation. */
  honestShareAllowed?: boolean;
  /** 503 quorum_unavailable is documented for this case. */
  allow503?: boolean;
  /** Strings that must never appear in a response (tokens the case sent). */
  secrets?: string[];
  run(env: Env): Promise<Outcome | Outcome[]>;
  /** Extra invariant checked after the run (state unchanged, server still healthy...): violation text or undefined. */
  post?(env: Env): Promise<string | undefined>;
  /** Custom verdict for multi-request cases: violations, empty when fine. */
  judge?(outcomes: Outcome[]): string[];
}

export interface CaseResult {
  cls: string;
  name: string;
  knownBug?: string;
  violations: string[];
  tokensIssued: number;
  sharesForForged: number;
  fiveXX: number;
  statuses: number[];
  /** What came back, abridged (for the optional report). */
  details: string[];
}

const STACK_TRACE = /\n\s+at\s|\bat (?:async )?[\w.<>]+ \(|\(?(?:file:\/\/)?\/[\w./-]+\.(?:ts|js|mjs|cjs):\d+(?::\d+)?|node:internal|\bTypeError:|\bReferenceError:|\bSyntaxError:/;
const JWT_SHAPED = /[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/g;

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** JWT-shaped substrings of `text` whose signature verifies under the group key. */
function groupSignedJwts(text: string, groupKey: KeyObject): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(JWT_SHAPED)) {
    const [h, p, s] = m[0].split('.');
    const sig = Buffer.from(s!, 'base64url');
    if (sig.length !== 64) continue;
    try {
      if (verify(null, Buffer.from(`${h}.${p}`), groupKey, sig)) found.push(m[0]);
    } catch {
      /* not an Ed25519 signature */
    }
  }
  return found;
}

function checkProblem(out: Outcome, codes: ProblemCode[] | undefined, violations: string[]): void {
  if (!/^application\/problem\+json\b/i.test(out.contentType)) {
    violations.push(`content-type is "${out.contentType}", not application/problem+json`);
  }
  const doc = parseJson(out.body) as Record<string, unknown> | undefined;
  if (!doc || typeof doc !== 'object') {
    violations.push(`body is not a JSON problem document: ${out.body.slice(0, 120)}`);
    return;
  }
  const code = doc.code as ProblemCode;
  if (codes && !codes.includes(code)) violations.push(`code ${String(code)}, expected ${codes.join(' or ')}`);
  if (!Object.hasOwn(PROBLEM_STATUS, code)) {
    violations.push(`undocumented code ${String(code)}`);
    return;
  }
  if (codes && PROBLEM_STATUS[code] !== out.status) violations.push(`status ${out.status} does not match code ${code} (${PROBLEM_STATUS[code]})`);
  if (doc.type !== `urn:ztmint:error:${code}`) violations.push(`type ${String(doc.type)} is not urn:ztmint:error:${code}`);
  if (doc.status !== out.status) violations.push(`problem status ${String(doc.status)} differs from HTTP status ${out.status}`);
  if (typeof doc.title !== 'string' || typeof doc.detail !== 'string') violations.push('problem has no title/detail strings');
  if (code === 'policy_denied') {
    const reasons = doc.reasons;
    if (!Array.isArray(reasons) || reasons.length === 0 || !reasons.every((r) => typeof r === 'string')) {
      violations.push('policy_denied without a non-empty reasons array');
    }
  }
}

/** Judges one outcome against the case; mutates the result's counters. */
function judgeOutcome<Env>(c: AttackCase<Env>, out: Outcome, groupKey: KeyObject, result: CaseResult): void {
  const v = result.violations;
  result.statuses.push(out.status);
  result.details.push(`${out.status} ${out.error ?? ''}${out.body.slice(0, 200)}`);
  const tag = (msg: string) => v.push(msg);

  // Counters first: they hold whatever the expectation says.
  if (c.surface === 'mint' && out.status >= 200 && out.status < 300) {
    result.tokensIssued++;
    tag(`/v1/mint answered ${out.status}: a token was issued`);
  } else if (out.body && groupSignedJwts(out.body, groupKey).length > 0) {
    result.tokensIssued++;
    tag('response holds a JWT signed by the group key');
  }
  const json = parseJson(out.body) as Record<string, unknown> | undefined;
  if (c.surface === 'signer' && !c.honestShareAllowed && json && typeof json === 'object' && 'share' in json) {
    result.sharesForForged++;
    tag(`signer released a share (${out.status}) for a forged round 2`);
  }
  if (out.status >= 500) {
    const documented503 = c.allow503 && out.status === 503 && json?.code === 'quorum_unavailable';
    if (!documented503) {
      result.fiveXX++;
      tag(`5xx: ${out.status} ${out.body.slice(0, 160)}`);
    }
  }
  if (out.body && STACK_TRACE.test(out.body)) tag(`stack trace or source path in the body: ${out.body.slice(0, 160)}`);
  for (const secret of c.secrets ?? []) {
    if (secret.length >= 16 && out.body.includes(secret)) tag('response echoes a token the request carried');
  }

  const e = c.expect;
  switch (e.kind) {
    case 'problem': {
      const codes = Array.isArray(e.code) ? e.code : [e.code];
      if (out.status === 0) {
        tag(`no HTTP response (${out.error ?? 'closed'}), expected ${codes.join('/')}`);
        break;
      }
      const statuses = codes.map((code) => PROBLEM_STATUS[code]);
      if (!statuses.includes(out.status as never)) tag(`status ${out.status}, expected ${statuses.join('/')} (${codes.join('/')}): ${out.body.slice(0, 160)}`);
      checkProblem(out, codes, v);
      break;
    }
    case 'problem_4xx':
      if (out.status < 400 || out.status >= 500) tag(`status ${out.status}, expected a 4xx problem`);
      checkProblem(out, undefined, v);
      break;
    case 'inactive':
      if (out.status !== 200) tag(`introspection answered ${out.status}, expected 200 {"active":false}`);
      else if (JSON.stringify(json) !== '{"active":false}') tag(`introspection leaked more than {"active":false}: ${out.body.slice(0, 160)}`);
      break;
    case 'status':
      if (out.status !== e.status) tag(`status ${out.status}, expected ${e.status}: ${out.body.slice(0, 160)}`);
      if (e.problemType && !/^application\/problem\+json\b/i.test(out.contentType)) tag(`content-type "${out.contentType}", expected problem+json`);
      break;
    case 'tls_failure':
      if (out.status !== 0) tag(`an HTTP exchange happened (${out.status}), expected the TLS handshake to fail`);
      break;
    case 'no_response':
      if (out.status !== 0) tag(`server answered ${out.status} to a client that never finished its request`);
      break;
  }
}

function newResult<Env>(c: AttackCase<Env>): CaseResult {
  return { cls: c.cls, name: c.name, knownBug: c.knownBug, violations: [], tokensIssued: 0, sharesForForged: 0, fiveXX: 0, statuses: [], details: [] };
}

export async function runCase<Env>(c: AttackCase<Env>, env: Env, groupKey: KeyObject): Promise<CaseResult> {
  const result = newResult(c);
  let outs: Outcome[];
  try {
    const got = await c.run(env);
    outs = Array.isArray(got) ? got : [got];
  } catch (err) {
    result.violations.push(`case threw: ${(err as Error).stack ?? String(err)}`);
    return result;
  }
  if (c.judge) {
    for (const out of outs) {
      // Counters and generic checks still apply to every outcome; the custom judge replaces only the expectation.
      const probe = { ...c, expect: { kind: 'status', status: out.status } as Expectation };
      judgeOutcome(probe, out, groupKey, result);
    }
    result.violations.push(...c.judge(outs));
  } else {
    for (const out of outs) judgeOutcome(c, out, groupKey, result);
  }
  if (c.post) {
    try {
      const bad = await c.post(env);
      if (bad) result.violations.push(bad);
    } catch (err) {
      result.violations.push(`post-check threw: ${(err as Error).message}`);
    }
  }
  return result;
}

/** Runs `tasks` with at most `limit` in flight; results keep the input order. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return results;
}

export class Tally {
  readonly results: CaseResult[] = [];

  add(results: CaseResult[]): void {
    this.results.push(...results);
  }

  private get counted(): CaseResult[] {
    return this.results.filter((r) => !r.knownBug);
  }

  get classes(): number {
    return new Set(this.results.map((r) => r.cls)).size;
  }

  get cases(): number {
    return this.results.length;
  }

  get tokensIssued(): number {
    return this.counted.reduce((n, r) => n + r.tokensIssued, 0);
  }

  get sharesForForged(): number {
    return this.counted.reduce((n, r) => n + r.sharesForForged, 0);
  }

  get fiveXX(): number {
    return this.counted.reduce((n, r) => n + r.fiveXX, 0);
  }

  violations(filter?: (r: CaseResult) => boolean): string[] {
    return this.counted.filter((r) => r.violations.length > 0 && (!filter || filter(r))).map((r) => `[${r.cls}] ${r.name}: ${r.violations.join('; ')}`);
  }

  knownBugs(): Array<{ cls: string; name: string; bug: string; reproduces: boolean; detail: string }> {
    return this.results.filter((r) => r.knownBug).map((r) => ({ cls: r.cls, name: r.name, bug: r.knownBug!, reproduces: r.violations.length > 0, detail: r.violations.join('; ') }));
  }

  summary(): string {
    const known = this.knownBugs();
    return (
      `adversarial: classes=${this.classes} cases=${this.cases} tokens_issued=${this.tokensIssued} ` +
      `forged_shares=${this.sharesForForged} 5xx=${this.fiveXX} violations=${this.violations().length} ` +
      `known_bugs=${known.length} (still reproducing ${known.filter((k) => k.reproduces).length})`
    );
  }
}
