// The DKG relay (`ztmint dkg`): carries a FROST DKG ceremony between live signer processes over
// mTLS, authenticating with the coordinator's client certificate. It is untrusted by design: it
// forwards signed round-1 broadcasts and round-2 packages that are encrypted end to end to their
// recipients, and it learns only public values (commitments, proofs of knowledge, encryption
// public keys, ciphertexts, the transcript hash, the group key and the verifying shares). It
// records everything it sent and received (`transcript`), and writes `<state>/group.json` once all
// n signers have confirmed the same key set and sealed their shares. docs/dkg.md has the protocol.
//
// It meets the signers only on the wire: the package types below are the wire format, checked
// structurally; the cryptographic checks are the signers' (signers/dkg.ts).
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Pool } from 'undici';
import { ZtmintError, type ZtmintErrorOptions } from '../errors/ztmint-error.js';
import type { DkgConfirmation, DkgEnvelope, DkgFinal, DkgRound1Package } from '../protocol/wire.js';
import { CIPHERSUITE, identifierFromIndex, type GroupInfo } from '../protocol/ciphersuite.js';

interface RelayTls {
  key: string;
  cert: string;
  ca: string;
}

export interface RelaySigner {
  /** `signer-<i>`: the index and the name its server certificate must carry. */
  name: string;
  url: string;
}

export type RelayStep = 'round1' | 'round2' | 'round3' | 'finalize' | 'abort' | 'activate';

/** One request/response the relay exchanged, verbatim (parsed JSON). */
export interface RelayExchange {
  seq: number;
  signer: string;
  step: RelayStep;
  method: 'POST';
  path: string;
  request: unknown;
  status: number | null;
  response: unknown;
}

export interface DkgRelayOptions {
  signers: RelaySigner[];
  threshold: number;
  tls: RelayTls;
  /** Default: 128 random bits, base64url. */
  ceremony?: string;
  /** Per request (default 60 s: sealing may wait for an HSM or a KMS). */
  timeoutMs?: number;
  /** Progress lines (each round, each signer). */
  log?: (line: string) => void;
  /**
   * Tests only: sees (and may replace) every request body before it is sent — how the tests play
   * a malicious relay (tampering, equivocation).
   */
  tamper?: (step: RelayStep, signer: string, body: Record<string, unknown>) => Record<string, unknown>;
}

export interface DkgResult {
  ceremony: string;
  transcript_hash: string;
  group: GroupInfo;
  signers: Array<{ name: string; identifier: string; verifying_share: string; sealed: DkgFinal['sealed'] }>;
}

/**
 * Why the relay gave up: a bad ceremony setup, a signer it could not reach, a signer that refused
 * (`reason` then holds the signer's abort reason or problem code), an answer that does not fit
 * the ceremony, signers that disagree with each other, or any other failure (`relay_failed`).
 */
export type DkgRelayErrorCode = 'invalid_setup' | 'signer_unreachable' | 'signer_refused' | 'bad_answer' | 'signers_disagree' | 'relay_failed';

export interface DkgRelayErrorOptions extends ZtmintErrorOptions {
  step: RelayStep | 'setup';
  /** The signer concerned, when one is. */
  signer?: string;
  /** The signer's own reason when it refused (a DKG abort reason or a problem code). */
  reason?: string;
}

/** The ceremony failed; `signer` and `reason` say where and why when a signer refused. */
export class DkgRelayError extends ZtmintError<DkgRelayErrorCode> {
  readonly step: RelayStep | 'setup';
  readonly signer?: string;
  readonly reason?: string;

  constructor(code: DkgRelayErrorCode, message: string, options: DkgRelayErrorOptions) {
    super(code, message, options);
    this.step = options.step;
    if (options.signer !== undefined) this.signer = options.signer;
    if (options.reason !== undefined) this.reason = options.reason;
  }
}

const STEP_TITLE: Record<RelayStep, string> = {
  round1: 'round 1 (commitments, proofs of knowledge, encryption keys)',
  round2: 'round 2 (transcript, encrypted shares)',
  round3: 'round 3 (decrypt, verify, key share)',
  finalize: 'confirmation (all agree → seal)',
  abort: 'abort',
  activate: 'activate',
};

function indexOf(name: string): number {
  const m = /^signer-([1-9][0-9]{0,2})$/.exec(name);
  return m ? Number(m[1]) : NaN;
}

export class DkgRelay {
  readonly ceremony: string;
  /** Everything sent and received, in order. */
  readonly transcript: RelayExchange[] = [];
  private readonly pools = new Map<string, Pool>();
  private readonly signers: Array<RelaySigner & { index: number }>;
  private readonly timeoutMs: number;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: DkgRelayOptions) {
    const n = opts.signers.length;
    if (!Number.isInteger(opts.threshold) || opts.threshold < 2 || opts.threshold > n || n > 255) {
      throw new DkgRelayError('invalid_setup', `need 2 ≤ threshold ≤ signers ≤ 255 (got threshold ${opts.threshold}, ${n} signers)`, { step: 'setup' });
    }
    this.signers = opts.signers.map((s) => ({ ...s, index: indexOf(s.name) })).sort((a, b) => a.index - b.index);
    this.signers.forEach((s, i) => {
      if (s.index !== i + 1) throw new DkgRelayError('invalid_setup', `signers must be named signer-1 … signer-${n}, once each (got ${opts.signers.map((x) => x.name).join(', ')})`, { step: 'setup' });
    });
    this.ceremony = opts.ceremony ?? randomBytes(16).toString('base64url');
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.log = opts.log ?? (() => {});
    for (const s of this.signers) {
      this.pools.set(
        s.name,
        new Pool(s.url, {
          connections: 2,
          connect: { key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca, rejectUnauthorized: true, servername: s.name, minVersion: 'TLSv1.3' },
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          // TCP and the TLS handshake get the request's whole budget: a fixed 10 s cap is shorter than a
          // handshake with a starved signer process can take on a loaded machine ("Connect Timeout").
          connectTimeout: this.timeoutMs,
        }),
      );
    }
  }

  private async post<T>(step: RelayStep, signer: RelaySigner, body: Record<string, unknown>): Promise<T> {
    const sent = this.opts.tamper ? this.opts.tamper(step, signer.name, structuredClone(body)) : body;
    const path = `/v1/dkg/${step}`;
    const exchange: RelayExchange = { seq: this.transcript.length + 1, signer: signer.name, step, method: 'POST', path, request: sent, status: null, response: null };
    this.transcript.push(exchange);
    let res;
    try {
      res = await this.pools.get(signer.name)!.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sent),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new DkgRelayError('signer_unreachable', `${signer.name} (${signer.url}) unreachable: ${(err as Error).message}`, { step, signer: signer.name, cause: err });
    }
    let doc: unknown;
    try {
      doc = await res.body.json();
    } catch {
      doc = null;
    }
    exchange.status = res.statusCode;
    exchange.response = doc;
    if (res.statusCode !== 200) {
      const p = (doc ?? {}) as { detail?: unknown; code?: unknown; reason?: unknown };
      // Signers prefix their details with their name; say it once.
      const detail = typeof p.detail === 'string' ? p.detail.replace(`${signer.name}: `, '') : `HTTP ${res.statusCode}`;
      const reason = typeof p.reason === 'string' ? p.reason : typeof p.code === 'string' ? p.code : undefined;
      throw new DkgRelayError('signer_refused', `${signer.name} refused: ${detail}${reason ? ` [${reason}]` : ''}`, { step, signer: signer.name, reason });
    }
    return doc as T;
  }

  /** One request per signer, in parallel; progress per signer; the first failure wins. */
  private async round<T>(step: RelayStep, bodyFor: (s: RelaySigner & { index: number }) => Record<string, unknown>, check?: (s: RelaySigner & { index: number }, r: T) => void): Promise<T[]> {
    this.log(`${STEP_TITLE[step]}`);
    const settled = await Promise.allSettled(
      this.signers.map(async (s) => {
        const r = await this.post<T>(step, s, bodyFor(s));
        check?.(s, r);
        this.log(`  ✓ ${s.name}`);
        return r;
      }),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
    const sealed = step === 'finalize' ? this.signers.filter((_, i) => settled[i]!.status === 'fulfilled').map((s) => s.name) : [];
    if (sealed.length && failed.reason instanceof DkgRelayError) {
      const e = failed.reason;
      throw new DkgRelayError(e.code, `${e.message} (${sealed.join(', ')} already sealed a share of this incomplete key set: run a new ceremony, with --replace / --force)`, {
        step: e.step,
        signer: e.signer,
        reason: e.reason,
        cause: e.cause,
      });
    }
    throw failed.reason;
  }

  async run(): Promise<DkgResult> {
    const n = this.signers.length;
    const t = this.opts.threshold;
    this.log(`DKG ceremony ${this.ceremony}: ${t}-of-${n}, ${this.signers.map((s) => s.name).join(', ')}`);
    let step: RelayStep = 'round1';
    try {
      const r1 = await this.round<{ package: DkgRound1Package }>(
        'round1',
        () => ({ ceremony: this.ceremony, threshold: t, signers: n }),
        (s, r) => {
          const p = r?.package;
          if (!p || p.ceremony !== this.ceremony || p.index !== s.index || p.identifier !== identifierFromIndex(s.index) || p.threshold !== t || p.signers !== n) {
            throw new DkgRelayError('bad_answer', `${s.name} answered round 1 with a package for another ceremony, index or quorum`, { step: 'round1', signer: s.name });
          }
        },
      );
      const round1 = r1.map((r) => r.package);

      step = 'round2';
      const r2 = await this.round<{ transcript: string; packages: DkgEnvelope[] }>(
        'round2',
        () => ({ ceremony: this.ceremony, round1 }),
        (s, r) => {
          if (!Array.isArray(r?.packages) || r.packages.length !== n - 1 || r.packages.some((e) => e.sender !== s.index)) {
            throw new DkgRelayError('bad_answer', `${s.name} answered round 2 with a malformed set of encrypted packages`, { step: 'round2', signer: s.name });
          }
        },
      );
      const transcripts = new Set(r2.map((r) => r.transcript));
      if (transcripts.size !== 1) {
        throw new DkgRelayError('signers_disagree', `the signers saw different round-1 sets (${this.signers.map((s, i) => `${s.name}: ${r2[i]!.transcript.slice(0, 12)}…`).join(', ')})`, {
          step: 'round2',
        });
      }
      const transcript = r2[0]!.transcript;
      this.log(`  transcript ${transcript}`);

      step = 'round3';
      const envelopes = r2.flatMap((r) => r.packages);
      const r3 = await this.round<{ confirmation: DkgConfirmation }>('round3', (s) => ({
        ceremony: this.ceremony,
        packages: envelopes.filter((e) => e.recipient === s.index),
      }));
      const confirmations = r3.map((r) => r.confirmation);
      const first = confirmations[0]!;
      for (const [i, c] of confirmations.entries()) {
        if (c?.index !== i + 1 || c.transcript !== transcript || c.group_public_key !== first.group_public_key) {
          throw new DkgRelayError('signers_disagree', `${this.signers[i]!.name} confirmed another transcript or group key than ${this.signers[0]!.name}`, {
            step: 'round3',
            signer: this.signers[i]!.name,
          });
        }
      }
      this.log(`  group key ${first.group_public_key}`);

      step = 'finalize';
      const finals = await this.round<DkgFinal>(
        'finalize',
        () => ({ ceremony: this.ceremony, confirmations }),
        (s, r) => {
          if (r?.group_public_key !== first.group_public_key || r.index !== s.index) {
            throw new DkgRelayError('signers_disagree', `${s.name} sealed a share of another key set`, { step: 'finalize', signer: s.name });
          }
        },
      );
      for (const f of finals) this.log(`  ${this.signers[f.index - 1]!.name} sealed its share at ${f.sealed.path} (${String(f.sealed.provider.type)})`);

      const identifiers = this.signers.map((s) => identifierFromIndex(s.index));
      const group: GroupInfo = {
        ciphersuite: CIPHERSUITE,
        group_public_key: first.group_public_key,
        threshold: t,
        signers: n,
        identifiers,
        verifying_shares: Object.fromEntries(identifiers.map((id) => [id, first.verifying_shares[id]!])),
        commitments: first.commitments,
      };
      if (group.commitments[0] !== group.group_public_key || group.commitments.length !== t || identifiers.some((id) => !group.verifying_shares[id])) {
        throw new DkgRelayError('bad_answer', 'the confirmed key set is malformed (commitments[0] must be the group key, one verifying share per signer)', { step: 'finalize' });
      }
      return {
        ceremony: this.ceremony,
        transcript_hash: transcript,
        group,
        signers: finals.map((f) => ({ name: this.signers[f.index - 1]!.name, identifier: f.identifier, verifying_share: f.verifying_share, sealed: f.sealed })),
      };
    } catch (err) {
      const e = err instanceof DkgRelayError ? err : new DkgRelayError('relay_failed', (err as Error).message, { step, cause: err });
      await this.abortAll(e.message);
      throw new DkgRelayError(e.code, `DKG ceremony ${this.ceremony} failed in ${STEP_TITLE[e.step === 'setup' ? step : e.step]}: ${e.message}`, {
        step: e.step,
        signer: e.signer,
        reason: e.reason,
        cause: e.cause,
      });
    }
  }

  /** Best effort: tell every signer to drop the ceremony's secrets. */
  private async abortAll(reason: string): Promise<void> {
    await Promise.allSettled(this.signers.map((s) => this.post('abort', s, { ceremony: this.ceremony, reason: reason.slice(0, 500) })));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((p) => p.close()));
  }
}

/** Writes `<state>/group.json` (same format as keygen) atomically, and creates `<state>/audit/`. */
export async function writeGroupFile(state: string, group: GroupInfo): Promise<string> {
  await mkdir(join(state, 'audit'), { recursive: true, mode: 0o700 });
  const path = join(state, 'group.json');
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o644);
  try {
    await handle.writeFile(JSON.stringify(group, null, 2) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  return path;
}
