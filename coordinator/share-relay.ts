// The relay of share refresh, reshare and repair (docs/keys.md): carries a ceremony of
// signers/share-ceremony.ts between live signers over mTLS with the coordinator's client
// certificate, like the DKG relay. Untrusted by design: it forwards signed packages and envelopes
// sealed end to end, and learns only public values. It records everything it sent and received.
//
// Order: round 1, 2, 3 at every member (repair: the helpers' round 3 first, then the repaired
// member's with their sigmas), finalize (every member stages the result, nothing signs with it
// yet), then activate at every member. A failure before activation aborts the ceremony at every
// member: the old key set keeps signing, unchanged.
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { DkgRelayError, type RelayExchange, type RelaySigner, type RelayStep } from './dkg-relay.js';

type Kind = 'refresh' | 'reshare' | 'repair';

interface SharePlanInput {
  kind: Kind;
  group: GroupInfo;
  dealers: number[];
  recipients: number[];
  threshold: number;
}

export interface ShareRelayOptions {
  /** Every member of the plan (dealers and recipients), `signer-<i>` with its URL. */
  signers: RelaySigner[];
  plan: SharePlanInput;
  tls: { key: string; cert: string; ca: string };
  ceremony?: string;
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Tests only: sees (and may replace) every request body. */
  tamper?: (step: RelayStep, signer: string, body: Record<string, unknown>) => Record<string, unknown>;
  /** Tests only: called before each step, e.g. to kill a signer there. */
  beforeStep?: (step: RelayStep) => Promise<void> | void;
  /**
   * Called once every member has staged the result, before any is told to activate: the
   * coordinator checks the result there and holds new signing runs of the key (a throw aborts the
   * ceremony: nothing changed).
   */
  beforeActivate?: (result: ShareResult) => Promise<void> | void;
}

export interface ShareResult {
  ceremony: string;
  transcript_hash: string;
  group: GroupInfo;
  /** Each member's finalize answer: its index and, for a recipient, the verifying share it staged. */
  members: Array<{ name: string; index: number; verifying_share?: string }>;
}

interface Envelope {
  sender: number;
  recipient: number;
}

const ACTIVATE_ATTEMPTS = 3;

const TITLE: Record<RelayStep, string> = {
  round1: 'round 1 (signed packages, commitments)',
  round2: 'round 2 (transcript, key set from the commitments, sealed values)',
  round3: 'round 3 (open, check, confirm)',
  finalize: 'finalize (all agree → stage the new shares)',
  activate: 'activate (sign with the new shares)',
  abort: 'abort',
};

export class ShareRelay {
  readonly ceremony: string;
  readonly transcript: RelayExchange[] = [];
  /** The members that activated the result (all of them once run() returns). */
  readonly activated: string[] = [];
  private readonly pools = new Map<string, Pool>();
  private readonly members: Array<RelaySigner & { index: number }>;
  private readonly timeoutMs: number;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: ShareRelayOptions) {
    this.ceremony = opts.ceremony ?? randomBytes(16).toString('base64url');
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.log = opts.log ?? (() => {});
    const wanted = [...new Set([...opts.plan.dealers, ...opts.plan.recipients])].sort((a, b) => a - b);
    this.members = opts.signers.map((s) => ({ ...s, index: Number(/^signer-([1-9][0-9]{0,2})$/.exec(s.name)?.[1]) })).sort((a, b) => a.index - b.index);
    if (this.members.map((m) => m.index).join() !== wanted.join()) {
      throw new DkgRelayError('invalid_setup', `the ${opts.plan.kind} needs exactly ${wanted.map((i) => `signer-${i}`).join(', ')} (got ${opts.signers.map((s) => s.name).join(', ')})`, {
        step: 'setup',
      });
    }
    for (const s of this.members) {
      this.pools.set(
        s.name,
        new Pool(s.url, {
          connections: 2,
          connect: { key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca, rejectUnauthorized: true, servername: s.name, minVersion: 'TLSv1.3' },
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          connectTimeout: this.timeoutMs,
        }),
      );
    }
  }

  private async post<T>(step: RelayStep, signer: RelaySigner, body: Record<string, unknown>): Promise<T> {
    const sent = this.opts.tamper ? this.opts.tamper(step, signer.name, structuredClone(body)) : body;
    const path = `/v1/keys/share/${step}`;
    const exchange: RelayExchange = { seq: this.transcript.length + 1, signer: signer.name, step, method: 'POST', path, request: sent, status: null, response: null };
    this.transcript.push(exchange);
    let res;
    try {
      res = await this.pools
        .get(signer.name)!
        .request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(sent), signal: AbortSignal.timeout(this.timeoutMs) });
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
      const detail = typeof p.detail === 'string' ? p.detail.replace(`${signer.name}: `, '') : `HTTP ${res.statusCode}`;
      const reason = typeof p.reason === 'string' ? p.reason : typeof p.code === 'string' ? p.code : undefined;
      throw new DkgRelayError('signer_refused', `${signer.name} refused: ${detail}${reason ? ` [${reason}]` : ''}`, { step, signer: signer.name, reason });
    }
    return doc as T;
  }

  private async step<T>(step: RelayStep, who: Array<RelaySigner & { index: number }>, bodyFor: (s: RelaySigner & { index: number }) => Record<string, unknown>): Promise<T[]> {
    await this.opts.beforeStep?.(step);
    this.log(TITLE[step]);
    const settled = await Promise.allSettled(
      who.map(async (s) => {
        const r = await this.post<T>(step, s, bodyFor(s));
        this.log(`  ✓ ${s.name}`);
        return r;
      }),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
  }

  async run(): Promise<ShareResult> {
    const { plan } = this.opts;
    const fullPlan = { ...plan, ceremony: this.ceremony };
    this.log(`${plan.kind} ${this.ceremony}: dealers ${plan.dealers.map((i) => `signer-${i}`).join(', ')} → ${plan.recipients.map((i) => `signer-${i}`).join(', ')} (${plan.threshold}-of-…)`);
    let step: RelayStep = 'round1';
    try {
      const round1 = (await this.step<{ package: { index: number } }>('round1', this.members, () => ({ plan: fullPlan }))).map((r) => r.package);
      step = 'round2';
      const r2 = await this.step<{ transcript: string; packages: Envelope[] }>('round2', this.members, () => ({ ceremony: this.ceremony, round1 }));
      const transcripts = new Set(r2.map((r) => r.transcript));
      if (transcripts.size !== 1) throw new DkgRelayError('signers_disagree', 'the members saw different round-1 sets', { step: 'round2' });
      const transcript = r2[0]!.transcript;
      step = 'round3';
      const envelopes = r2.flatMap((r) => r.packages);
      const helpers = plan.kind === 'repair' ? this.members.filter((m) => plan.dealers.includes(m.index)) : this.members;
      const rest = plan.kind === 'repair' ? this.members.filter((m) => !plan.dealers.includes(m.index)) : [];
      const first = await this.step<{ confirmation: unknown; packages: Envelope[] }>('round3', helpers, (s) => ({
        ceremony: this.ceremony,
        packages: envelopes.filter((e) => e.recipient === s.index),
      }));
      const sigmas = first.flatMap((r) => r.packages);
      const second = rest.length
        ? await this.step<{ confirmation: unknown; packages: Envelope[] }>('round3', rest, (s) => ({ ceremony: this.ceremony, packages: sigmas.filter((e) => e.recipient === s.index) }))
        : [];
      const confirmations = [...first, ...second].map((r) => r.confirmation as { group: GroupInfo });
      const group = confirmations[0]!.group;
      step = 'finalize';
      const finalized = await this.step<{ verifying_share?: string }>('finalize', this.members, () => ({ ceremony: this.ceremony, confirmations }));
      const result: ShareResult = {
        ceremony: this.ceremony,
        transcript_hash: transcript,
        group,
        members: this.members.map((m, k) => ({
          name: m.name,
          index: m.index,
          ...(typeof finalized[k]?.verifying_share === 'string' ? { verifying_share: finalized[k].verifying_share } : {}),
        })),
      };
      await this.opts.beforeActivate?.(result);
      step = 'activate';
      // Activation is idempotent at a signer: one that did not answer is asked again, a few times.
      let failed: PromiseRejectedResult | undefined;
      for (let attempt = 0; attempt < ACTIVATE_ATTEMPTS; attempt++) {
        const left = this.members.filter((m) => !this.activated.includes(m.name));
        if (!left.length) break;
        if (attempt > 0) await new Promise((r) => setTimeout(r, 1000));
        const results = await Promise.allSettled(left.map((m) => this.post('activate', m, { ceremony: this.ceremony }).then(() => m.name)));
        this.activated.push(...results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
        failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      }
      if (failed && this.activated.length < this.members.length) throw failed.reason;
      this.log(`${TITLE.activate}: ${this.activated.join(', ')}`);
      return result;
    } catch (err) {
      const e = err instanceof DkgRelayError ? err : new DkgRelayError('relay_failed', (err as Error).message, { step, cause: err });
      let advice: string;
      if (step === 'activate') {
        const missing = this.members.filter((m) => !this.activated.includes(m.name)).map((m) => m.name);
        advice = `the new shares are active at ${this.activated.join(', ') || 'no signer'} only; ${missing.join(', ')} still sign${missing.length === 1 ? 's' : ''} with the old share, which no longer fits the key set (its signature shares are left out as invalid): bring ${missing.length === 1 ? 'it' : 'them'} up and repair ${missing.length === 1 ? 'it' : 'them'} (\`ztmint keys repair --index I\`)`;
      } else {
        await Promise.allSettled(this.members.map((s) => this.post('abort', s, { ceremony: this.ceremony, reason: e.message.slice(0, 500) })));
        advice = `nothing changed: every signer keeps signing with its current share; fix the cause and run the ${plan.kind} again`;
      }
      throw new DkgRelayError(e.code, `${plan.kind} ${this.ceremony} failed in ${TITLE[e.step === 'setup' ? step : e.step]}: ${e.message}. ${advice}`, {
        step: e.step,
        ...(e.signer ? { signer: e.signer } : {}),
        ...(e.reason ? { reason: e.reason } : {}),
        cause: e.cause,
      });
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((p) => p.close()));
  }
}
