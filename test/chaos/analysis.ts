// After the run: check every received token against the JWKS and the audit log, the log's chain,
// that no mint succeeded without a quorum of live signers, and that mints resumed after each fault.
import { createHash } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Lifetime } from '../helpers/stack.js';
import type { Attempt } from './load.js';

export interface FaultEvent {
  name: string;
  /** How it was injected (signal, chattr, tmpfs, prlimit, …). */
  how: string;
  start: number;
  /** When the fault was lifted (e.g. just before a restarted signer was spawned). */
  windowEnd?: number;
  /** When the service was whole again (quorum back, coordinator ready, audit writable). */
  restored?: number;
  /** Did the fault leave fewer than t signers up? (then no mint may succeed inside the window) */
  belowQuorum?: boolean;
  /** No request that started and ended inside the window may succeed (below quorum, audit refused). */
  noSuccessInside?: boolean;
  /** A failure that must have been seen inside the window, e.g. "503 audit_unavailable" (the fault bit). */
  expect?: string;
  /** Attempts in flight when it was injected (coordinator kills). */
  inflight?: number;
  note?: string;
}

export interface AnalysisInput {
  attempts: Attempt[];
  records: Array<Record<string, unknown>>;
  tornLines: string[];
  auditVerify: { status: number | null; output: string };
  jwksBefore: JSONWebKeySet;
  jwksAfter: JSONWebKeySet;
  issuer: string;
  threshold: number;
  signerLifetimes: Map<string, Lifetime[]>;
  faults: FaultEvent[];
  /** A fault's restoration must be followed by a successful mint within this many ms. */
  resumeWithinMs: number;
  harnessErrors: string[];
  methods: Record<string, string>;
}

export interface ChaosReport {
  attempts: number;
  durationS: number;
  tokensIssued: number;
  tokensVerified: number;
  tokensWithAuditRecord: number;
  lost: number;
  unverifiable: number;
  auditRecords: { total: number; mint: number; deny: number; revoke: number; torn: number };
  auditVerify: { status: number | null; output: string };
  /** Mint records whose response never reached the client (coordinator killed after the append). */
  auditedNotDelivered: number;
  responses: Record<string, number>;
  serviceUnavailableByCode: Record<string, number>;
  transportErrors: Record<string, number>;
  quorumViolations: string[];
  /** 200s whose audit time falls where fewer than t signers were surely up (in flight across the boundary). */
  boundaryMints: number;
  faults: Array<FaultEvent & { resumeMs?: number; failedDuring: Record<string, number> }>;
  methods: Record<string, string>;
  failures: string[];
}

function inc(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** Failure categories, one per assertion of the suite. */
type Category = 'responses' | 'tokens' | 'audit' | 'quorum' | 'faults' | 'harness';

const EXPECTED_503 = new Set(['quorum_unavailable', 'audit_unavailable', 'not_ready']);

export async function analyse(input: AnalysisInput): Promise<ChaosReport> {
  const failures: string[] = [];
  const shown: Record<string, number> = {};
  const fail = (category: Category, msg: string) => {
    shown[category] = (shown[category] ?? 0) + 1;
    if (shown[category]! <= 12) failures.push(`[${category}] ${msg}`);
  };
  const { attempts, records } = input;

  // --- responses
  const responses: Record<string, number> = {};
  const by503: Record<string, number> = {};
  const transport: Record<string, number> = {};
  for (const a of attempts) {
    if (a.error) inc(transport, a.error);
    else if (a.status === 200) inc(responses, '200');
    else {
      inc(responses, `${a.status} ${a.code}`);
      if (a.status === 503) inc(by503, a.code ?? '?');
      if (!(a.status === 503 && EXPECTED_503.has(a.code ?? ''))) {
        fail('responses', `unexpected response ${a.status} ${a.code} (${a.contentType}${a.rawBody ? `: ${a.rawBody}` : ''}) at ${new Date(a.start).toISOString()}`);
      } else if (!a.contentType?.startsWith('application/problem+json')) {
        fail('responses', `503 without application/problem+json (${a.contentType})`);
      }
    }
  }
  for (const msg of input.harnessErrors) fail('harness', msg);

  // --- tokens: JWKS signature, audit record with the same jti and SHA-256, and the same index
  if (JSON.stringify(input.jwksBefore) !== JSON.stringify(input.jwksAfter)) fail('tokens', 'the JWKS changed across restarts');
  const keys = createLocalJWKSet(input.jwksAfter);
  const mintByJti = new Map<string, Record<string, unknown>>();
  for (const r of records) if (r.event === 'mint' && typeof r.jti === 'string') mintByJti.set(r.jti, r);
  const issued = attempts.filter((a) => a.status === 200);
  let verified = 0;
  let withRecord = 0;
  let lost = 0;
  let unverifiable = 0;
  const delivered = new Set<string>();
  for (const a of issued) {
    let jti: unknown;
    try {
      const { payload, protectedHeader } = await jwtVerify(a.token ?? '', keys, { issuer: input.issuer, algorithms: ['EdDSA'] });
      if (protectedHeader.typ !== 'JWT' || payload.jti !== a.jti) throw new Error('header typ or jti does not match the response');
      jti = payload.jti;
      verified++;
    } catch (err) {
      unverifiable++;
      if (unverifiable <= 5) fail('tokens', `token (jti ${a.jti}) does not verify against the JWKS: ${(err as Error).message}`);
      continue;
    }
    delivered.add(jti as string);
    const record = mintByJti.get(jti as string);
    const sha = createHash('sha256').update(a.token!).digest('hex');
    if (!record || record.token_sha256 !== sha || record.index !== a.auditIndex) {
      lost++;
      if (lost <= 5) {
        fail(
          'tokens',
          record
            ? `audit record ${String(record.index)} for jti ${String(jti)} does not match the token (sha256 ${String(record.token_sha256 === sha)}, index ${String(record.index)} vs ${a.auditIndex})`
            : `no audit record for token jti ${String(jti)} (response said audit index ${a.auditIndex}, minted ${new Date(a.end).toISOString()})`,
        );
      }
      continue;
    }
    withRecord++;
  }
  if (lost > 5) fail('tokens', `… ${lost} tokens in all without a matching audit record`);
  if (unverifiable > 5) fail('tokens', `… ${unverifiable} tokens in all do not verify`);
  const auditedNotDelivered = [...mintByJti.keys()].filter((j) => !delivered.has(j)).length;

  // --- the log itself
  if (input.auditVerify.status !== 0) fail('audit', `ztmint audit verify exited ${input.auditVerify.status}: ${input.auditVerify.output}`);
  if (input.tornLines.length) fail('audit', `${input.tornLines.length} audit line(s) are not JSON, e.g. ${JSON.stringify(input.tornLines[0])}`);
  records.forEach((r, i) => {
    if (r.index !== i) fail('audit', `audit line ${i} carries index ${String(r.index)}`);
  });

  // --- no mint without t live signers. A signer "may be up" from spawn until its exit was seen;
  // a mint may use a signer that was up at any time between the request's start and its audit time.
  const lifetimes = [...input.signerLifetimes.entries()];
  const mayBeUp = (life: Lifetime, from: number, to: number) => life.spawnedAt <= to && (life.exitedAt ?? Infinity) >= from;
  const surelyUp = (life: Lifetime, at: number) => (life.readyAt ?? Infinity) <= at && (life.killedAt ?? life.exitedAt ?? Infinity) > at;
  const quorumViolations: string[] = [];
  let boundaryMints = 0;
  const attemptByJti = new Map(issued.map((a) => [a.jti, a]));
  for (const record of mintByJti.values()) {
    const at = Date.parse(String(record.time));
    const a = attemptByJti.get(record.jti as string);
    // Undelivered records: the request started at most 20 s (the client timeout) earlier.
    const from = (a?.start ?? at - 20_000) - 2;
    const to = at + 2;
    const possible = lifetimes.filter(([, lives]) => lives.some((l) => mayBeUp(l, from, to))).map(([name]) => name);
    const used = Array.isArray(record.signers) ? (record.signers as string[]) : [];
    if (possible.length < input.threshold) {
      quorumViolations.push(`mint #${String(record.index)} at ${String(record.time)}: only ${possible.join(', ') || 'no signer'} could have been up`);
    }
    for (const name of used) {
      if (!possible.includes(name)) quorumViolations.push(`mint #${String(record.index)} at ${String(record.time)} lists ${name}, which was down the whole time`);
    }
    if (used.length < input.threshold) quorumViolations.push(`mint #${String(record.index)} lists ${used.length} signers`);
    const up = lifetimes.filter(([, lives]) => lives.some((l) => surelyUp(l, at))).length;
    if (up < input.threshold) boundaryMints++;
  }
  for (const v of quorumViolations.slice(0, 10)) fail('quorum', v);

  // --- each fault bit, and mints resumed by themselves after it
  const faults = input.faults.map((f) => {
    const end = f.windowEnd ?? f.restored ?? Infinity;
    const failedDuring: Record<string, number> = {};
    for (const a of attempts) {
      if (a.start >= f.start && a.end <= end && a.status !== 200) inc(failedDuring, a.error ?? `${a.status} ${a.code}`);
    }
    let resumeMs: number | undefined;
    if (f.restored !== undefined) {
      const first = attempts.filter((a) => a.status === 200 && a.start >= f.restored!).reduce((m, a) => Math.min(m, a.end), Infinity);
      if (Number.isFinite(first)) resumeMs = first - f.restored;
      if (resumeMs === undefined || resumeMs > input.resumeWithinMs) {
        fail('faults', `${f.name}: no successful mint within ${input.resumeWithinMs} ms of the restoration (${resumeMs ?? 'none'})`);
      }
    }
    if (f.belowQuorum || f.noSuccessInside) {
      // Requests that started and ended inside the window must all have failed.
      const okInside = attempts.filter((a) => a.status === 200 && a.start > f.start + 2 && a.end < end - 2).length;
      if (okInside) fail(f.belowQuorum ? 'quorum' : 'audit', `${f.name}: ${okInside} mint(s) succeeded entirely inside the fault window`);
    }
    const expected = f.expect ?? (f.belowQuorum ? '503 quorum_unavailable' : undefined);
    if (expected && !failedDuring[expected]) fail('faults', `${f.name}: no "${expected}" inside the window; did the fault bite?`);
    return { ...f, resumeMs, failedDuring };
  });

  for (const [category, n] of Object.entries(shown)) if (n > 12) failures.push(`[${category}] … ${n - 12} more`);

  const start = attempts.reduce((m, a) => Math.min(m, a.start), Infinity);
  const end = attempts.reduce((m, a) => Math.max(m, a.end), 0);
  return {
    attempts: attempts.length,
    durationS: Math.round((end - start) / 100) / 10,
    tokensIssued: issued.length,
    tokensVerified: verified,
    tokensWithAuditRecord: withRecord,
    lost,
    unverifiable,
    auditRecords: {
      total: records.length + input.tornLines.length,
      mint: records.filter((r) => r.event === 'mint').length,
      deny: records.filter((r) => r.event === 'deny').length,
      revoke: records.filter((r) => r.event === 'revoke').length,
      torn: input.tornLines.length,
    },
    auditVerify: input.auditVerify,
    auditedNotDelivered,
    responses,
    serviceUnavailableByCode: by503,
    transportErrors: transport,
    quorumViolations,
    boundaryMints,
    faults,
    methods: input.methods,
    failures,
  };
}
