// `ztmint keys refresh|repair|reshare` at the coordinator (docs/keys.md): new shares of the key
// signing now, same group key, by a ceremony of signers/share-ceremony.ts relayed to the running
// signers over the coordinator's mTLS client (coordinator/share-relay.ts). In this order:
//
//   1. plan from the key set (keys.json): who deals, who receives, the threshold; refused with
//      key_conflict if it cannot fit (another ceremony running, bad quorum, unknown signer)
//   2. rounds 1–3 and finalize at every member: each stages the result, nothing signs with it yet
//   3. the result is checked here (same group key, the quorum asked for, each member's verifying
//      share is the key set's); new signing runs of the key are held at the gate
//      (coordinator/signing-gate.ts) once the runs in flight are done
//   4. activate at every member, then keys.json gets the new key set (same kid: the JWKS does not
//      change), then the gate opens: mints go on with the new verifying shares and quorum
//   5. key_refreshed / key_repaired / key_reshared is audited before the answer
//
// A failure before activation changes nothing (the relay aborts the ceremony at every member) and
// is audited as key_ceremony_failed; so is an activation that reached only some members (the key
// set then follows the new shares: the members that activated sign with them).
import { Agent, request } from 'undici';
import { ZtmintError } from '../errors/ztmint-error.js';
import { identifierFromIndex, type GroupInfo } from '../protocol/ciphersuite.js';
import type { AuditEntry } from './audit.js';
import { DkgRelayError, type RelaySigner, type RelayStep } from './dkg-relay.js';
import { keyCeremonyHolder, lockKeyCeremony } from './key-ceremony-lock.js';
import type { KeySet, LoadedKey } from './key-set.js';
import { ShareRelay, type ShareResult } from './share-relay.js';
import type { SigningGate } from './signing-gate.js';

type ShareKind = 'refresh' | 'repair' | 'reshare';

/** What the operator asked for (the admin API's body). */
export type ShareChangeRequest = { kind: 'refresh' } | { kind: 'repair'; index: number; helpers?: number[] } | { kind: 'reshare'; threshold: number; signers: number; dealers?: number[] };

/** Where a ceremony stopped: planning, a relay step, or writing the key set. */
export type ShareStep = 'plan' | RelayStep | 'persist';

export interface ShareChangeOptions {
  keys: KeySet;
  /** The coordinator's signers (`--signer signer-i=URL`): the ceremony's members come from here. */
  signers: RelaySigner[];
  tls: { key: string; cert: string; ca: string };
  appendAudit(entry: AuditEntry): Promise<number>;
  now: () => number;
  gate: SigningGate;
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Tests only: called before each relay step (e.g. to kill a signer there). */
  beforeStep?: (step: RelayStep) => Promise<void> | void;
}

export interface ShareChangeResult {
  kind: ShareKind;
  kid: string;
  ceremony: string;
  transcript_hash: string;
  dealers: string[];
  recipients: string[];
  threshold: number;
  signers: number;
  /** The new verifying share of each signer, by name. */
  verifying_shares: Record<string, string>;
  audit: { index: number };
}

export class ShareChangeError extends ZtmintError<'ceremony_failed' | 'key_conflict'> {
  constructor(
    code: 'ceremony_failed' | 'key_conflict',
    message: string,
    readonly step: ShareStep,
    options: { cause?: unknown } = {},
  ) {
    super(code, message, options);
  }
}

const EVENT = { refresh: 'key_refreshed', repair: 'key_repaired', reshare: 'key_reshared' } as const;
const name = (i: number) => `signer-${i}`;
const indexOf = (identifier: string) => Number(BigInt(`0x${Buffer.from(identifier, 'hex').reverse().toString('hex')}`));

interface Plan {
  dealers: number[];
  recipients: number[];
  threshold: number;
}

function conflict(message: string): ShareChangeError {
  return new ShareChangeError('key_conflict', message, 'plan');
}

/**
 * Is the signer up and holding its share (GET /v1/info answers with a verifying share, and a
 * `key_share` state, where reported, of `held`)? Picks default helpers and dealers: a signer
 * started without its share (lost, joining, removed) has nothing to deal.
 */
async function holdsShare(tls: ShareChangeOptions['tls'], signer: RelaySigner, timeoutMs: number): Promise<boolean> {
  const agent = new Agent({ connect: { ...tls, rejectUnauthorized: true, servername: signer.name, minVersion: 'TLSv1.3', timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    const res = await request(`${signer.url}/v1/info`, { dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) });
    const info = (await res.body.json().catch(() => null)) as { verifying_share?: unknown; key_share?: { state?: unknown } } | null;
    return res.statusCode === 200 && typeof info?.verifying_share === 'string' && (info.key_share === undefined || info.key_share.state === 'held');
  } catch {
    return false;
  } finally {
    await agent.close();
  }
}

/**
 * Who deals and who receives. Refresh: every holder does both (a holder left out would be removed
 * from the key set, so all n are needed). Repair: helpers (default: every other holder that is up with its share)
 * rebuild one holder's share. Reshare: dealers (default: the reachable holders) give signers 1..N
 * a T-of-N sharing of the same key.
 */
async function planFor(req: ShareChangeRequest, group: GroupInfo, opts: ShareChangeOptions, timeoutMs: number): Promise<Plan> {
  const holders = group.identifiers.map(indexOf).sort((a, b) => a - b);
  const known = new Map(opts.signers.map((s) => [s.name, s]));
  const needUrl = (indices: number[]) => {
    const missing = indices.filter((i) => !known.has(name(i)));
    if (missing.length) {
      throw conflict(`the coordinator has no URL for ${missing.map(name).join(', ')}: start it with \`--signer ${name(missing[0]!)}=URL\` for each (ztmint dev: \`--signers N\`)`);
    }
  };
  const checkHolders = (list: number[], what: string) => {
    const strangers = list.filter((i) => !holders.includes(i));
    if (strangers.length) throw conflict(`${what} ${strangers.map(name).join(', ')} ${strangers.length === 1 ? 'holds' : 'hold'} no share of the key (holders: ${holders.map(name).join(', ')})`);
    if (new Set(list).size !== list.length) throw conflict(`${what} lists a signer twice`);
  };
  const reachableHolders = async (candidates: number[]) => {
    const up = await Promise.all(candidates.map(async (i) => ((await holdsShare(opts.tls, known.get(name(i))!, Math.min(timeoutMs, 10_000))) ? i : 0)));
    return up.filter((i) => i > 0);
  };
  const t = group.threshold;
  switch (req.kind) {
    case 'refresh':
      needUrl(holders);
      return { dealers: holders, recipients: holders, threshold: t };
    case 'repair': {
      if (!holders.includes(req.index)) throw conflict(`${name(req.index)} is not a member of the key set (members: ${holders.map(name).join(', ')}): nothing to repair`);
      let helpers = req.helpers ? [...req.helpers].sort((a, b) => a - b) : undefined;
      if (helpers) {
        checkHolders(helpers, 'helper');
        if (helpers.includes(req.index)) throw conflict(`${name(req.index)} cannot help repair its own share`);
      } else {
        const others = holders.filter((i) => i !== req.index);
        needUrl(others);
        helpers = await reachableHolders(others);
      }
      if (helpers.length < t) {
        throw new ShareChangeError(
          'ceremony_failed',
          `a repair needs ${t} helpers holding a share and only ${helpers.length} ${helpers.length === 1 ? 'is' : 'are'} up with theirs (${helpers.map(name).join(', ') || 'none'}): bring at least ${t} other signers up and run \`ztmint keys repair --index ${req.index}\` again`,
          'plan',
        );
      }
      needUrl([...helpers, req.index]);
      return { dealers: helpers, recipients: [req.index], threshold: t };
    }
    case 'reshare': {
      if (!Number.isInteger(req.threshold) || req.threshold < 2) throw conflict(`a threshold of ${req.threshold} is refused: at least 2 signers must take part in every signature`);
      if (req.threshold > req.signers) throw conflict(`a threshold of ${req.threshold} is more than the ${req.signers} signers asked for`);
      if (req.signers > opts.signers.length) {
        throw conflict(
          `${req.signers} signers asked for, but the coordinator knows only ${opts.signers.length} (${opts.signers.map((s) => s.name).join(', ')}): start it with a \`--signer signer-i=URL\` for each (ztmint dev: \`--signers ${req.signers}\`)`,
        );
      }
      const recipients = Array.from({ length: req.signers }, (_, k) => k + 1);
      needUrl(recipients);
      let dealers = req.dealers ? [...req.dealers].sort((a, b) => a - b) : undefined;
      if (dealers) checkHolders(dealers, 'dealer');
      else {
        needUrl(holders);
        dealers = await reachableHolders(holders);
      }
      if (dealers.length < t) {
        throw new ShareChangeError(
          'ceremony_failed',
          `a reshare needs ${t} dealers holding a share and only ${dealers.length} ${dealers.length === 1 ? 'is' : 'are'} up with theirs (${dealers.map(name).join(', ') || 'none'}): bring at least ${t} holders up and run \`ztmint keys reshare\` again`,
          'plan',
        );
      }
      needUrl(dealers);
      return { dealers, recipients, threshold: req.threshold };
    }
  }
}

/** The staged result must be the plan's: same group key, the quorum asked for, members' verifying shares in it. */
function checkResult(kind: ShareKind, current: GroupInfo, plan: Plan, result: ShareResult): void {
  const g = result.group;
  if (g.group_public_key !== current.group_public_key) throw new Error(`the ${kind} produced another group key (${g.group_public_key}), not ${current.group_public_key}`);
  const ids = kind === 'reshare' ? plan.recipients.map(identifierFromIndex) : current.identifiers;
  const threshold = kind === 'reshare' ? plan.threshold : current.threshold;
  if (g.threshold !== threshold || g.signers !== ids.length || [...g.identifiers].sort().join() !== [...ids].sort().join()) {
    throw new Error(`the ${kind} produced a ${g.threshold}-of-${g.signers} key set, not the ${threshold}-of-${ids.length} planned`);
  }
  for (const id of ids) if (typeof g.verifying_shares[id] !== 'string') throw new Error(`the new key set has no verifying share for ${name(indexOf(id))}`);
  if (kind === 'repair' && ids.some((id) => g.verifying_shares[id] !== current.verifying_shares[id])) throw new Error('the repair changed verifying shares; a repair restores the same share');
  for (const m of result.members) {
    if (m.verifying_share !== undefined && g.verifying_shares[identifierFromIndex(m.index)] !== m.verifying_share)
      throw new Error(`${m.name} staged a share whose verifying share is not the key set's`);
  }
}

export async function changeShares(req: ShareChangeRequest, opts: ShareChangeOptions): Promise<ShareChangeResult> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const release = lockKeyCeremony(`a key ${req.kind}`);
  if (!release) throw conflict(`${keyCeremonyHolder() ?? 'another key ceremony'} is running at this coordinator; wait for it to finish and run the ${req.kind} again`);
  let current: LoadedKey | undefined;
  let relay: ShareRelay | undefined;
  let plan: Plan | undefined;
  let staged: ShareResult | undefined;
  let held: { open: () => void } | undefined;
  let step: ShareStep = 'plan';
  try {
    opts.keys.refresh();
    current = opts.keys.signing(Math.floor(opts.now() / 1000));
    const key = current;
    plan = await planFor(req, key.group, opts, timeoutMs);
    const p = plan;
    const members = [...new Set([...p.dealers, ...p.recipients])].sort((a, b) => a - b);
    log(
      `${req.kind} of key ${key.kid}: dealers ${p.dealers.map(name).join(', ')} → ${p.recipients.map(name).join(', ')}, ${p.threshold}-of-${req.kind === 'reshare' ? p.recipients.length : key.group.signers}`,
    );
    relay = new ShareRelay({
      signers: members.map((i) => opts.signers.find((s) => s.name === name(i))!),
      plan: { kind: req.kind, group: key.group, dealers: p.dealers, recipients: p.recipients, threshold: p.threshold },
      tls: opts.tls,
      timeoutMs,
      log,
      ...(opts.beforeStep ? { beforeStep: opts.beforeStep } : {}),
      beforeActivate: async (result) => {
        checkResult(req.kind, key.group, p, result);
        staged = result;
        // Runs in flight finish with the old shares; new ones wait until the key set is the new one.
        const gate = await opts.gate.hold(key.kid);
        held = gate;
        if (gate.stillRunning) log(`${gate.stillRunning} signing run(s) of ${key.kid} still in flight after the drain wait; activating anyway (they retry)`);
      },
    });
    step = 'round1';
    const result = await relay.run();
    step = 'persist';
    await opts.keys.replaceGroup(key.kid, result.group, { kind: req.kind, ceremony: result.ceremony, at: Math.floor(opts.now() / 1000) });
    held?.open();
    const verifying = Object.fromEntries(result.group.identifiers.map((id) => [name(indexOf(id)), result.group.verifying_shares[id]!]));
    const answer = {
      kind: req.kind,
      kid: key.kid,
      ceremony: result.ceremony,
      transcript_hash: result.transcript_hash,
      dealers: p.dealers.map(name),
      recipients: p.recipients.map(name),
      threshold: result.group.threshold,
      signers: result.group.signers,
    };
    const index = await opts.appendAudit({ event: EVENT[req.kind], ...answer });
    log(`${req.kind} of ${key.kid} done: ${answer.threshold}-of-${answer.signers}, audit #${index}`);
    return { ...answer, verifying_shares: verifying, audit: { index } };
  } catch (err) {
    if (err instanceof ShareChangeError && err.code === 'key_conflict') throw err;
    const failedStep: ShareStep = err instanceof DkgRelayError && err.step !== 'setup' ? err.step : err instanceof ShareChangeError ? err.step : step;
    let detail = err instanceof Error ? err.message : String(err);
    // Activation reached some members only: they sign with the new shares, so the key set must be the new one.
    if (staged && relay && relay.activated.length > 0 && current) {
      try {
        await opts.keys.replaceGroup(current.kid, staged.group, { kind: req.kind, ceremony: staged.ceremony, at: Math.floor(opts.now() / 1000) });
        detail += ` (the coordinator's key set now has the new verifying shares: ${relay.activated.join(', ')} sign with them)`;
      } catch (persistErr) {
        detail += ` (and the new key set could not be written: ${(persistErr as Error).message})`;
      }
    } else if (!(err instanceof DkgRelayError) && !(err instanceof ShareChangeError)) {
      detail = `${req.kind} failed in ${failedStep}: ${detail}. nothing changed: every signer keeps signing with its current share; fix the cause and run \`ztmint keys ${req.kind}\` again`;
    }
    held?.open();
    await opts.appendAudit({
      event: 'key_ceremony_failed',
      kind: req.kind,
      step: failedStep,
      kid: current?.kid ?? null,
      ...(relay ? { ceremony: relay.ceremony } : {}),
      reasons: [detail.slice(0, 1000)],
    });
    if (err instanceof DkgRelayError && err.code === 'signer_unreachable' && err.signer) detail = detail.replace('fix the cause and run', `bring ${err.signer} up and run`);
    throw new ShareChangeError('ceremony_failed', `key ${req.kind} failed in ${failedStep}: ${withCommand(detail, req)}`, failedStep, { cause: err });
  } finally {
    held?.open();
    release();
    await relay?.close();
  }
}

/** The relay says "run the refresh again"; the operator's command is `ztmint keys …`. */
function withCommand(detail: string, req: ShareChangeRequest): string {
  const command =
    req.kind === 'repair' ? `ztmint keys repair --index ${req.index}` : req.kind === 'reshare' ? `ztmint keys reshare --threshold ${req.threshold} --signers ${req.signers}` : 'ztmint keys refresh';
  return detail.replace(`run the ${req.kind} again`, `run \`${command}\` again`);
}
