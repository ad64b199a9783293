// `ztmint keys rotate` at the coordinator (docs/keys.md): a new FROST DKG across the running
// signers, relayed over the coordinator's mTLS connections (coordinator/dkg-relay.ts: the same
// authenticated, transcript-bound, end-to-end encrypted ceremony as `ztmint dkg`), while they keep
// signing with the current key. Then, in this order:
//
//   1. the group comes from the signers' own results (all n confirmed the same key set, each sealed
//      its share into its key ring and answered with its verifying share): checked here, same quorum
//   2. every signer schedules the key (POST /v1/keys/schedule): it signs from activates_at; older
//      keys retire at activates_at + overlap — all n must accept, or all are told to cancel
//   3. the key set is written (<state>/keys.json): the JWKS publishes the key now, new tokens carry
//      its kid from activates_at, the previous key leaves the JWKS at its retirement
//   4. key_published is audited before the answer; key_activated / key_retired when they happen
//
// Any failure leaves the old key set as it was (a key that some signers sealed or scheduled is
// cancelled, or superseded by the next rotation) and is audited as key_rotation_failed.
import { Agent, request } from 'undici';
import { ZtmintError } from '../errors/ztmint-error.js';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { thumbprint } from '../protocol/jwk.js';
import type { AuditEntry } from './audit.js';
import { DkgRelay, DkgRelayError, type RelaySigner, type RelayStep } from './dkg-relay.js';
import { keyCeremonyHolder, lockKeyCeremony } from './key-ceremony-lock.js';
import type { KeySet, LoadedKey } from './key-set.js';

/** Where a rotation stopped: a ceremony step, scheduling at the signers, or persisting. */
export type RotationStep = RelayStep | 'setup' | 'schedule' | 'persist';

export interface RotationOptions {
  keys: KeySet;
  signers: RelaySigner[];
  tls: { key: string; cert: string; ca: string };
  appendAudit(entry: AuditEntry): Promise<number>;
  now: () => number;
  /** Seconds between publishing the key and signing with it (≥ the JWKS cache time of verifiers). */
  activationDelayS: number;
  /** Seconds the previous key stays published after the new one activates (≥ the longest token lifetime). */
  overlapS: number;
  /** The longest token lifetime the policy allows now (the overlap may not be shorter). */
  maxTokenLifetimeS: number;
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Tests only: the relay's hook (coordinator/dkg-relay.ts) and one before each schedule call. */
  tamper?: ConstructorParameters<typeof DkgRelay>[0]['tamper'];
  beforeSchedule?: (signer: string) => void | Promise<void>;
}

export interface RotationResult {
  ceremony: string;
  transcript_hash: string;
  kid: string;
  group_public_key: string;
  published_at: number;
  activates_at: number;
  previous: Array<{ kid: string; retires_at: number | null }>;
  audit: { index: number };
}

/** The rotation failed at `step`; the old key set is still the one in use. */
export class RotationError extends ZtmintError<'rotation_failed' | 'key_conflict'> {
  constructor(
    code: 'rotation_failed' | 'key_conflict',
    message: string,
    readonly step: RotationStep,
    options: { cause?: unknown } = {},
  ) {
    super(code, message, options);
  }
}

const AFTERWARDS = 'the current key set is unchanged and still signs; bring every signer up (`ztmint keys status` lists them) and run `ztmint keys rotate` again';

/** One JSON POST to a signer over mTLS (name checked against its certificate). */
async function postSigner(agent: Agent, signer: RelaySigner, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const res = await request(`${signer.url}${path}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const doc = (await res.body.json().catch(() => null)) as { detail?: string; code?: string } | null;
  if (res.statusCode !== 200) throw new Error(`${signer.name} refused: ${doc?.detail ?? `HTTP ${res.statusCode}`}${doc?.code ? ` [${doc.code}]` : ''}`);
  return doc;
}

function agentFor(tls: RotationOptions['tls'], signer: RelaySigner, timeoutMs: number): Agent {
  return new Agent({ connect: { ...tls, rejectUnauthorized: true, servername: signer.name, minVersion: 'TLSv1.3', timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
}

export async function rotateKeys(opts: RotationOptions): Promise<RotationResult> {
  const release = lockKeyCeremony('a key rotation');
  if (!release) throw new RotationError('key_conflict', `${keyCeremonyHolder() ?? 'a key rotation'} is already running at this coordinator; wait for it to finish`, 'setup');
  try {
    return await rotateLocked(opts);
  } finally {
    release();
  }
}

async function rotateLocked(opts: RotationOptions): Promise<RotationResult> {
  const log = opts.log ?? (() => {});
  const nowS = () => Math.floor(opts.now() / 1000);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  opts.keys.refresh();
  const pending = opts.keys.list().find((k) => k.activates_at > nowS());
  if (pending) {
    throw new RotationError('key_conflict', `key ${pending.kid} was published and activates at ${new Date(pending.activates_at * 1000).toISOString()}; rotate again after that`, 'setup');
  }
  if (opts.overlapS < opts.maxTokenLifetimeS) {
    throw new RotationError(
      'key_conflict',
      `the overlap (${opts.overlapS} s) is shorter than the longest token lifetime the policy allows (${opts.maxTokenLifetimeS} s): tokens signed by the previous key would outlive it in the JWKS`,
      'setup',
    );
  }
  const current = opts.keys.signing(nowS());
  let relay: DkgRelay | undefined;
  let step: RotationStep = 'setup';
  let newKid: string | undefined;
  try {
    relay = new DkgRelay({ signers: opts.signers, threshold: current.group.threshold, tls: opts.tls, timeoutMs, log, tamper: opts.tamper });
    step = 'round1';
    const result = await relay.run();
    const group = result.group;
    newKid = thumbprint(group.group_public_key);
    step = 'finalize';
    checkSameQuorum(current, group, result.signers);
    log(`new key ${newKid}: ${group.threshold}-of-${group.signers}, every signer sealed its share`);

    step = 'schedule';
    const publishedAt = nowS();
    const activatesAt = publishedAt + opts.activationDelayS;
    const retiresAt = activatesAt + opts.overlapS;
    await scheduleEverywhere(opts, newKid, activatesAt, retiresAt, timeoutMs, log);

    step = 'persist';
    const previous = opts.keys.list().map((k) => k.kid);
    const added = await opts.keys.add(group, result.ceremony, publishedAt, activatesAt, retiresAt);
    const index = await opts.appendAudit(publishedEntry(added, opts.keys.list(), result.transcript_hash));
    await opts.keys.markAudited(added.kid, 'key_published');
    log(`published ${newKid} in the JWKS; it signs from ${new Date(activatesAt * 1000).toISOString()}`);
    return {
      ceremony: result.ceremony,
      transcript_hash: result.transcript_hash,
      kid: added.kid,
      group_public_key: group.group_public_key,
      published_at: publishedAt,
      activates_at: activatesAt,
      previous: opts.keys
        .list()
        .filter((k) => previous.includes(k.kid))
        .map((k) => ({ kid: k.kid, retires_at: k.retires_at })),
      audit: { index },
    };
  } catch (err) {
    const failedStep: RotationStep = err instanceof DkgRelayError ? err.step : step;
    let detail = err instanceof Error ? err.message : String(err);
    if (newKid && (step === 'schedule' || step === 'persist' || step === 'finalize')) {
      const left = await cancelEverywhere(opts, newKid, timeoutMs);
      if (left.length) detail += ` (could not cancel key ${newKid} at ${left.join(', ')}: it never signs there, and the next rotation drops it)`;
    }
    const message = `key rotation failed in ${failedStep}: ${detail}; ${AFTERWARDS}`;
    await opts.appendAudit({ event: 'key_rotation_failed', step: failedStep, kid: current.kid, ...(newKid ? { new_kid: newKid } : {}), reasons: [detail.slice(0, 1000)] });
    throw new RotationError('rotation_failed', message, failedStep, { cause: err });
  } finally {
    await relay?.close();
  }
}

/** The ceremony must give a key for the quorum in use, with the verifying share each signer reported. */
function checkSameQuorum(current: LoadedKey, group: GroupInfo, signers: Array<{ name: string; identifier: string; verifying_share: string }>): void {
  if (group.threshold !== current.group.threshold || group.signers !== current.group.signers || group.identifiers.join() !== current.group.identifiers.join()) {
    throw new Error(`the ceremony produced a ${group.threshold}-of-${group.signers} key set, not the ${current.group.threshold}-of-${current.group.signers} in use`);
  }
  for (const s of signers) {
    if (group.verifying_shares[s.identifier] !== s.verifying_share) throw new Error(`${s.name} reported a verifying share that is not the key set's`);
  }
}

async function scheduleEverywhere(opts: RotationOptions, kid: string, activatesAt: number, retiresAt: number, timeoutMs: number, log: (line: string) => void): Promise<void> {
  log(`scheduling ${kid} at every signer: signs from ${new Date(activatesAt * 1000).toISOString()}, previous key retires ${new Date(retiresAt * 1000).toISOString()}`);
  const settled = await Promise.allSettled(
    opts.signers.map(async (s) => {
      await opts.beforeSchedule?.(s.name);
      const agent = agentFor(opts.tls, s, timeoutMs);
      try {
        await postSigner(agent, s, '/v1/keys/schedule', { kid, activates_at: activatesAt, previous_retires_at: retiresAt }, timeoutMs);
        log(`  ✓ ${s.name}`);
      } catch (err) {
        throw new Error(`${s.name}: ${(err as Error).message.replace(`${s.name} refused: `, 'refused: ')}`, { cause: err });
      } finally {
        await agent.close();
      }
    }),
  );
  const failed = settled.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (failed.length) throw new Error(`not every signer scheduled the new key: ${failed.join('; ')}`);
}

/** Best effort; returns the signers that could not be told. */
async function cancelEverywhere(opts: RotationOptions, kid: string, timeoutMs: number): Promise<string[]> {
  const settled = await Promise.allSettled(
    opts.signers.map(async (s) => {
      const agent = agentFor(opts.tls, s, Math.min(timeoutMs, 10_000));
      try {
        await postSigner(agent, s, '/v1/keys/cancel', { kid }, Math.min(timeoutMs, 10_000));
      } finally {
        await agent.close();
      }
    }),
  );
  return opts.signers.filter((_, i) => settled[i]!.status === 'rejected').map((s) => s.name);
}

function publishedEntry(key: LoadedKey, all: LoadedKey[], transcript: string): AuditEntry {
  return {
    event: 'key_published',
    kid: key.kid,
    group_public_key: key.group.group_public_key,
    threshold: key.group.threshold,
    signers: key.group.signers,
    ceremony: key.ceremony,
    transcript_hash: transcript,
    published_at: key.published_at,
    activates_at: key.activates_at,
    retiring: all.filter((k) => k.kid !== key.kid && k.retires_at !== null).map((k) => ({ kid: k.kid, retires_at: k.retires_at })),
  };
}

/** Each signer's key ring (GET /v1/keys/ring), or why it could not be read: for `ztmint keys status`. */
export async function signerKeyRings(signers: RelaySigner[], tls: RotationOptions['tls'], timeoutMs = 10_000) {
  return Promise.all(
    signers.map(async (s) => {
      const agent = agentFor(tls, s, timeoutMs);
      try {
        const res = await request(`${s.url}/v1/keys/ring`, { dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) });
        const doc = (await res.body.json()) as Record<string, unknown>;
        if (res.statusCode !== 200) return { name: s.name, error: `HTTP ${res.statusCode}: ${String(doc.detail ?? '')}` };
        return { name: s.name, ...doc };
      } catch (err) {
        return { name: s.name, error: `unreachable: ${(err as Error).message}` };
      } finally {
        await agent.close();
      }
    }),
  );
}
