// One signer's side of a share refresh, repair or reshare (docs/keys.md): the schemes of
// protocol/frost/ (refresh.ts, repair.ts, reshare.ts) run as an authenticated ceremony relayed by
// the untrusted coordinator, on the DKG's machinery (signers/dkg.ts): every public message is
// signed with the signer's mTLS key and names the ceremony and the plan; every secret value goes
// end to end encrypted to its one recipient, bound to the transcript of round 1.
//
//   plan      kind, ceremony id, the key set being changed (group.json), dealers, recipients, new
//             threshold; its hash is in every message, so no signer can be shown another plan.
//   round 1   each member's package: its ceremony X25519 key and, for a dealer of a refresh or a
//             reshare, its Feldman commitment (signed).
//   round 2   all packages → checks signatures and certificates, the transcript hash, and (refresh,
//             reshare) the resulting key set from the public commitments alone, refusing a dealer
//             whose commitment is not its own share (C_0 = λ·V); then a dealer seals each
//             recipient's value (repair: each helper's deltas to the other helpers).
//   round 3   the envelopes addressed to this member → decrypt, check against the commitments,
//             combine; a signed confirmation of the resulting key set (repair helpers also seal
//             their sigma to the member being repaired, which runs round 3 after them).
//   finalize  all confirmations, signed and identical → the new share (for a recipient) to seal.
// A failed check aborts the ceremony at this signer (DkgAbort, as the DKG) and drops its secrets.
import { createPrivateKey, generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { canonicalJson } from '../protocol/canonical-json.js';
import { identifierFromIndex, type GroupInfo, type SecretShare } from '../protocol/ciphersuite.js';
import { b64url, fromB64url } from '../protocol/encoding.js';
import { refreshDeal, refreshedGroup, refreshShare } from '../protocol/frost/refresh.js';
import { repairDeltas, repairShare, repairSigma } from '../protocol/frost/repair.js';
import { reshareDeal, resharedGroup, reshareShare, type ReshareParameters } from '../protocol/frost/reshare.js';
import { ShareSchemeError, type ScalarRng } from '../protocol/frost/vss.js';
import {
  checkCertificate,
  checkSignature,
  DkgAbort,
  DkgStepError,
  openEnvelope,
  sameJson,
  sealEnvelope,
  sha256hex,
  short,
  signDoc,
  signerName,
  x25519Public,
  x25519Raw,
  type DkgAbortReason,
  type DkgIdentity,
  type SealedEnvelope,
} from './dkg.js';

const KEYS_VERSION = 'ztmint-keys-v1';
/** Repair sigmas travel under their own version, so a delta can never pass for a sigma. */
const SIGMA_VERSION = `${KEYS_VERSION}/sigma`;
const LABEL = {
  plan: `${KEYS_VERSION}/plan\n`,
  round1: `${KEYS_VERSION}/round1\n`,
  transcript: `${KEYS_VERSION}/transcript\n`,
  confirmation: `${KEYS_VERSION}/confirmation\n`,
} as const;

export type ShareCeremonyKind = 'refresh' | 'reshare' | 'repair';

export interface ShareCeremonyPlan {
  kind: ShareCeremonyKind;
  ceremony: string;
  /** The key set being changed (public). */
  group: GroupInfo;
  /** Signer indices that deal: refresh participants, reshare's old holders, repair helpers. */
  dealers: number[];
  /** Signer indices that end with a share: refresh = dealers, reshare = new holders, repair = [lost]. */
  recipients: number[];
  /** Threshold of the resulting key set (refresh and repair: the current one). */
  threshold: number;
}

export interface ShareRound1Package {
  version: typeof KEYS_VERSION;
  kind: ShareCeremonyKind;
  ceremony: string;
  plan: string;
  index: number;
  /** Feldman commitment of a refresh or reshare dealer (base64url points); empty otherwise. */
  commitment: string[];
  encryption_key: string;
  certificate: string;
  signature: string;
}

export interface ShareConfirmation {
  version: typeof KEYS_VERSION;
  ceremony: string;
  plan: string;
  index: number;
  transcript: string;
  /** The resulting key set (repair: the unchanged one). */
  group: GroupInfo;
  certificate: string;
  signature: string;
}

type Step = 'round1' | 'round2' | 'round3' | 'final' | 'aborted';

const sortedUnique = (xs: readonly number[]) => [...new Set(xs)].sort((a, b) => a - b);

/** Checks the plan's shape; returns the members (dealers ∪ recipients, sorted). */
function checkPlan(plan: ShareCeremonyPlan): number[] {
  const bad = (why: string) => new DkgStepError('invalid_parameters', `${plan.kind} plan: ${why}`);
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(plan.ceremony)) throw bad('ceremony must be 16–64 base64url characters');
  const indices = [...plan.dealers, ...plan.recipients];
  if (indices.some((i) => !Number.isInteger(i) || i < 1 || i > 255)) throw bad('signer indices must be 1…255');
  if (sortedUnique(plan.dealers).length !== plan.dealers.length || sortedUnique(plan.recipients).length !== plan.recipients.length) throw bad('an index is listed twice');
  const same = (a: number[], b: number[]) => sameJson(sortedUnique(a), sortedUnique(b));
  if (plan.kind === 'refresh' && !same(plan.dealers, plan.recipients)) throw bad('every participant both deals and receives');
  if (plan.kind === 'repair' && (plan.recipients.length !== 1 || plan.dealers.includes(plan.recipients[0]!))) throw bad('one member is repaired, by helpers other than itself');
  if (plan.kind !== 'reshare' && plan.threshold !== plan.group.threshold) throw bad(`the threshold stays ${plan.group.threshold}`);
  return sortedUnique(indices);
}

/** The hash every message carries: kind, ceremony, key set, dealers, recipients, threshold. */
function planHash(plan: ShareCeremonyPlan): string {
  return sha256hex(
    LABEL.plan +
      canonicalJson({
        kind: plan.kind,
        ceremony: plan.ceremony,
        group: plan.group,
        dealers: sortedUnique(plan.dealers),
        recipients: sortedUnique(plan.recipients),
        threshold: plan.threshold,
      }),
  );
}

const ids = (indices: readonly number[]) => indices.map((i) => identifierFromIndex(i));
const indexOf = (identifier: string) => Number(BigInt(`0x${Buffer.from(identifier, 'hex').reverse().toString('hex')}`));

export interface ShareCeremonyOptions {
  plan: ShareCeremonyPlan;
  identity: DkgIdentity;
  /** This signer's share of `plan.group` (dealers only). */
  share?: SecretShare;
  rng?: ScalarRng;
  now?: () => Date;
}

/** One member of one ceremony; each step is idempotent for the same input, as the DKG's. */
export class ShareCeremonyParticipant {
  readonly plan: ShareCeremonyPlan;
  readonly index: number;
  readonly planHash: string;
  private readonly members: number[];
  private readonly dealer: boolean;
  private readonly recipient: boolean;
  private step: Step = 'round1';
  private abortError?: DkgAbort;
  private readonly now: () => Date;
  private readonly ca: X509Certificate;
  private readonly signingKey: KeyObject;
  private encryptionKey?: KeyObject;
  /** What this dealer sends, by recipient identifier (secret). */
  private dealt?: Map<string, Uint8Array>;
  private readonly own: ShareRound1Package;
  private round1Set?: ShareRound1Package[];
  private transcript?: string;
  private nextGroup?: GroupInfo;
  private round2Out?: { transcript: string; packages: SealedEnvelope[] };
  private round3In?: string;
  private round3Out?: { confirmation: ShareConfirmation; packages: SealedEnvelope[] };
  private result?: SecretShare;

  constructor(opts: ShareCeremonyOptions) {
    const { plan, identity } = opts;
    this.members = checkPlan(plan);
    if (!this.members.includes(identity.index)) throw new DkgStepError('invalid_parameters', `${signerName(identity.index)} has no part in this ${plan.kind}`);
    this.plan = plan;
    this.index = identity.index;
    this.planHash = planHash(plan);
    this.dealer = plan.dealers.includes(this.index);
    this.recipient = plan.recipients.includes(this.index);
    this.now = opts.now ?? (() => new Date());
    this.ca = new X509Certificate(identity.ca);
    this.signingKey = createPrivateKey(identity.privateKey);
    checkCertificate(identity.certificate, this.ca, this.index, this.now(), `this signer (${signerName(this.index)})`);
    if (this.dealer && opts.share?.identifier !== identifierFromIndex(this.index)) {
      throw new DkgStepError('invalid_parameters', `${signerName(this.index)} deals in this ${plan.kind} but holds no share of the key set`);
    }
    let commitment: string[] = [];
    try {
      if (this.dealer && plan.kind === 'refresh') {
        const d = refreshDeal(plan.group, ids(plan.dealers), opts.rng);
        this.dealt = d.shares;
        commitment = d.commitment.map((c) => b64url(c));
      } else if (this.dealer && plan.kind === 'reshare') {
        const d = reshareDeal(plan.group, this.reshareParameters(), opts.share!, opts.rng);
        this.dealt = d.shares;
        commitment = d.commitment.map((c) => b64url(c));
      } else if (this.dealer) {
        this.dealt = repairDeltas(plan.group, ids(plan.dealers), opts.share!, identifierFromIndex(plan.recipients[0]!), opts.rng);
      }
      if (this.dealer && this.plan.kind === 'refresh') {
        // Refresh adds to the share this signer holds: keep a copy until round 3.
        this.result = { identifier: opts.share!.identifier, signingShare: Uint8Array.from(opts.share!.signingShare) };
      }
    } catch (err) {
      if (err instanceof ShareSchemeError) throw new DkgStepError('invalid_parameters', `${signerName(this.index)} cannot deal: ${err.message}`);
      throw err;
    }
    const enc = generateKeyPairSync('x25519');
    this.encryptionKey = enc.privateKey;
    const unsigned: Omit<ShareRound1Package, 'signature'> = {
      version: KEYS_VERSION,
      kind: plan.kind,
      ceremony: plan.ceremony,
      plan: this.planHash,
      index: this.index,
      commitment,
      encryption_key: x25519Raw(enc.publicKey),
      certificate: identity.certificate.trim() + '\n',
    };
    this.own = { ...unsigned, signature: signDoc(LABEL.round1, unsigned, this.signingKey) };
  }

  get state(): Step {
    return this.step;
  }

  private reshareParameters(): ReshareParameters {
    return { dealers: ids(this.plan.dealers), threshold: this.plan.threshold, identifiers: ids(this.plan.recipients) };
  }

  /** Ends the ceremony here: secrets are dropped, every later call fails with this reason. */
  abort(reason: DkgAbortReason, message: string): DkgAbort {
    if (this.step === 'aborted') return this.abortError!;
    this.step = 'aborted';
    this.abortError = new DkgAbort(reason, message);
    this.wipe();
    return this.abortError;
  }

  /** Drops every secret: dealt values, the ceremony key, and the result once the caller sealed it. */
  wipe(): void {
    for (const v of this.dealt?.values() ?? []) v.fill(0);
    this.dealt = undefined;
    this.encryptionKey = undefined;
    this.result?.signingShare.fill(0);
  }

  private guard(expected: Step[], what: string): void {
    if (this.step === 'aborted') throw this.abortError!;
    if (!expected.includes(this.step)) throw new DkgStepError('wrong_step', `${what} does not fit: ${this.plan.kind} ${this.plan.ceremony} is at ${this.step} at ${signerName(this.index)}`);
  }

  private checked<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof DkgAbort) throw this.abort(err.code, err.message);
      if (err instanceof ShareSchemeError) {
        const who = err.culprit ? signerName(indexOf(err.culprit)) : 'a member';
        const reason: DkgAbortReason = err.code === 'commitment_invalid' ? 'round1_invalid' : 'share_invalid';
        throw this.abort(reason, `${who}: ${err.message}`);
      }
      throw err;
    }
  }

  round1(): ShareRound1Package {
    this.guard(['round1', 'round2', 'round3', 'final'], 'round 1');
    return this.own;
  }

  static transcriptOf(plan: string, ceremony: string, packages: ShareRound1Package[]): string {
    const sorted = [...packages].sort((a, b) => a.index - b.index);
    return sha256hex(LABEL.transcript + canonicalJson({ ceremony, plan, packages: sorted }));
  }

  round2(set: ShareRound1Package[]): { transcript: string; packages: SealedEnvelope[] } {
    this.guard(['round1', 'round2'], 'round 2');
    return this.checked(() => {
      const sorted = this.checkRound1Set(set);
      const transcript = ShareCeremonyParticipant.transcriptOf(this.planHash, this.plan.ceremony, sorted);
      if (this.round2Out) {
        if (transcript === this.round2Out.transcript) return this.round2Out;
        throw new DkgAbort(
          'transcript_mismatch',
          `round 2 was asked again with another set of round-1 packages (${short(transcript)} after ${short(this.round2Out.transcript)}): the relay equivocated`,
        );
      }
      const dealings = sorted.filter((p) => this.plan.dealers.includes(p.index)).map((p) => ({ index: p.index, commitment: p.commitment.map(fromB64url) }));
      // The resulting key set follows from the public commitments: check it before sending anything.
      if (this.plan.kind === 'refresh')
        this.nextGroup = refreshedGroup(
          this.plan.group,
          ids(this.plan.dealers),
          dealings.map((d) => ({ sender: identifierFromIndex(d.index), commitment: d.commitment })),
        );
      else if (this.plan.kind === 'reshare')
        this.nextGroup = resharedGroup(
          this.plan.group,
          this.reshareParameters(),
          dealings.map((d) => ({ dealer: identifierFromIndex(d.index), commitment: d.commitment })),
        );
      else this.nextGroup = this.plan.group;
      const targets = this.plan.kind === 'repair' ? this.plan.dealers : this.plan.recipients;
      const packages = this.dealer ? targets.filter((j) => j !== this.index).map((j) => this.seal(this.dealt!.get(identifierFromIndex(j))!, j, transcript, sorted, KEYS_VERSION)) : [];
      this.round1Set = sorted;
      this.transcript = transcript;
      this.round2Out = { transcript, packages };
      this.step = 'round2';
      return this.round2Out;
    });
  }

  private seal(value: Uint8Array, recipient: number, transcript: string, set: ShareRound1Package[], version: string): SealedEnvelope {
    return sealEnvelope(value, {
      version,
      ceremony: this.plan.ceremony,
      sender: this.index,
      recipient,
      transcript,
      senderPrivate: this.encryptionKey!,
      senderKey: this.own.encryption_key,
      recipientKey: set.find((p) => p.index === recipient)!.encryption_key,
    });
  }

  private checkRound1Set(set: ShareRound1Package[]): ShareRound1Package[] {
    if (!Array.isArray(set) || set.length !== this.members.length) {
      throw new DkgAbort('round1_invalid', `expected ${this.members.length} round-1 packages (one per member), got ${Array.isArray(set) ? set.length : 'none'}`);
    }
    const sorted = [...set].sort((a, b) => a.index - b.index);
    const now = this.now();
    const keys = new Set<string>();
    const commitmentLength = (i: number) => (!this.plan.dealers.includes(i) || this.plan.kind === 'repair' ? 0 : this.plan.kind === 'refresh' ? this.plan.threshold - 1 : this.plan.threshold);
    sorted.forEach((p, k) => {
      const what = `round-1 package of ${signerName(p.index)}`;
      if (p.index !== this.members[k])
        throw new DkgAbort('round1_invalid', `round-1 packages must come one per member (${this.members.map(signerName).join(', ')}); ${signerName(this.members[k]!)} is missing or doubled`);
      if (p.version !== KEYS_VERSION || p.kind !== this.plan.kind || p.ceremony !== this.plan.ceremony) throw new DkgAbort('round1_invalid', `${what} belongs to another ceremony, kind or version`);
      if (p.plan !== this.planHash)
        throw new DkgAbort(
          'round1_invalid',
          `${what} was made for another plan (${short(p.plan)}, here ${short(this.planHash)}): the signers were not given the same key set, dealers, recipients or threshold`,
        );
      if (p.index === this.index) {
        if (!sameJson(p, this.own)) throw new DkgAbort('round1_invalid', "the relay returned a modified copy of this signer's own round-1 package");
      } else {
        const cert = checkCertificate(p.certificate, this.ca, p.index, now, what);
        checkSignature(LABEL.round1, p, cert, what, 'round1_invalid');
        try {
          x25519Public(p.encryption_key);
        } catch {
          throw new DkgAbort('round1_invalid', `${what}: encryption_key is not an X25519 public key`);
        }
      }
      if (!Array.isArray(p.commitment) || p.commitment.length !== commitmentLength(p.index)) throw new DkgAbort('round1_invalid', `${what}: expected ${commitmentLength(p.index)} commitments`);
      if (keys.has(p.encryption_key)) throw new DkgAbort('round1_invalid', `${what}: encryption_key is reused`);
      keys.add(p.encryption_key);
    });
    return sorted;
  }

  /** Opens the envelopes from `senders` (one each, this ceremony and transcript, addressed here). */
  private open(envelopes: SealedEnvelope[], senders: number[], version: string): Map<number, Uint8Array> {
    if (!Array.isArray(envelopes) || envelopes.length !== senders.length) {
      throw new DkgAbort(
        'round2_invalid',
        `expected ${senders.length} packages (one from each of ${senders.map(signerName).join(', ') || 'nobody'}), got ${Array.isArray(envelopes) ? envelopes.length : 'none'}`,
      );
    }
    const out = new Map<number, Uint8Array>();
    try {
      for (const e of envelopes) {
        if (e.version !== version || e.ceremony !== this.plan.ceremony) throw new DkgAbort('round2_invalid', `a package belongs to another ceremony or step`);
        if (e.recipient !== this.index) throw new DkgAbort('round2_invalid', `a package from ${signerName(e.sender)} is addressed to ${signerName(e.recipient)}, not ${signerName(this.index)}`);
        if (!senders.includes(e.sender) || out.has(e.sender))
          throw new DkgAbort('round2_invalid', `packages must come one from each of ${senders.map(signerName).join(', ')} (${signerName(e.sender)} is unexpected or doubled)`);
        if (e.transcript !== this.transcript) {
          throw new DkgAbort(
            'transcript_mismatch',
            `${signerName(e.sender)} saw a different set of round-1 packages (${short(e.transcript)}) than ${signerName(this.index)} (${short(this.transcript!)}): the relay or a signer equivocated`,
          );
        }
        const sender = this.round1Set!.find((p) => p.index === e.sender)!;
        try {
          out.set(e.sender, openEnvelope(e, { recipientPrivate: this.encryptionKey!, senderKey: sender.encryption_key, recipientKey: this.own.encryption_key }));
        } catch {
          throw new DkgAbort(
            'decrypt_failed',
            `the package from ${signerName(e.sender)} failed authenticated decryption at ${signerName(this.index)}: it was modified in transit or not sealed by ${signerName(e.sender)} for ${signerName(this.index)}`,
          );
        }
      }
      return out;
    } catch (err) {
      for (const v of out.values()) v.fill(0);
      throw err;
    }
  }

  /**
   * Refresh and reshare: the dealers' envelopes for this recipient (none for a reshare dealer that
   * receives nothing). Repair: a helper's round 3 takes the other helpers' deltas and returns its
   * sigma for the member being repaired; that member's round 3 takes the helpers' sigmas.
   */
  round3(envelopes: SealedEnvelope[]): { confirmation: ShareConfirmation; packages: SealedEnvelope[] } {
    this.guard(['round2', 'round3'], 'round 3');
    return this.checked(() => {
      const input = canonicalJson([...(Array.isArray(envelopes) ? envelopes : [])].sort((a, b) => a.sender - b.sender));
      if (this.round3Out) {
        if (input === this.round3In) return this.round3Out;
        throw new DkgAbort('round2_invalid', 'round 3 was asked again with other packages: the relay equivocated');
      }
      const { kind } = this.plan;
      let packages: SealedEnvelope[] = [];
      if (kind === 'repair' && this.dealer) {
        const received = this.open(
          envelopes,
          this.plan.dealers.filter((j) => j !== this.index),
          KEYS_VERSION,
        );
        const deltas = [this.dealt!.get(identifierFromIndex(this.index))!, ...received.values()];
        const sigma = repairSigma(deltas);
        for (const v of received.values()) v.fill(0);
        packages = [this.seal(sigma, this.plan.recipients[0]!, this.transcript!, this.round1Set!, SIGMA_VERSION)];
        sigma.fill(0);
      } else if (kind === 'repair') {
        const received = this.open(envelopes, this.plan.dealers, SIGMA_VERSION);
        try {
          this.result = repairShare(this.plan.group, identifierFromIndex(this.index), [...received.values()]);
        } finally {
          for (const v of received.values()) v.fill(0);
        }
      } else if (this.recipient) {
        const received = this.open(
          envelopes,
          this.plan.dealers.filter((j) => j !== this.index),
          KEYS_VERSION,
        );
        const me = identifierFromIndex(this.index);
        const byDealer = this.round1Set!.filter((p) => this.plan.dealers.includes(p.index)).map((p) => ({
          index: p.index,
          commitment: p.commitment.map(fromB64url),
          share: p.index === this.index ? this.dealt!.get(me)! : received.get(p.index)!,
        }));
        try {
          const out =
            kind === 'refresh'
              ? refreshShare(
                  this.plan.group,
                  ids(this.plan.dealers),
                  this.result!,
                  byDealer.map((d) => ({ sender: identifierFromIndex(d.index), commitment: d.commitment, share: d.share })),
                )
              : reshareShare(
                  this.plan.group,
                  this.reshareParameters(),
                  me,
                  byDealer.map((d) => ({ dealer: identifierFromIndex(d.index), commitment: d.commitment, share: d.share })),
                );
          this.result?.signingShare.fill(0);
          this.result = out.share;
          if (!sameJson(out.group, this.nextGroup)) throw new DkgAbort('share_invalid', 'the shares received do not give the key set the commitments promise');
        } finally {
          for (const v of received.values()) v.fill(0);
        }
      } else {
        this.open(envelopes, [], KEYS_VERSION);
      }
      for (const v of this.dealt?.values() ?? []) v.fill(0);
      this.dealt = undefined;
      if (kind !== 'repair' || !this.dealer) this.encryptionKey = undefined;
      const unsigned: Omit<ShareConfirmation, 'signature'> = {
        version: KEYS_VERSION,
        ceremony: this.plan.ceremony,
        plan: this.planHash,
        index: this.index,
        transcript: this.transcript!,
        group: this.nextGroup!,
        certificate: this.own.certificate,
      };
      this.round3Out = { confirmation: { ...unsigned, signature: signDoc(LABEL.confirmation, unsigned, this.signingKey) }, packages };
      this.round3In = input;
      this.step = 'round3';
      return this.round3Out;
    });
  }

  /**
   * All members' confirmations, each signed and stating this transcript and key set; returns the
   * new share (recipients; the caller seals it, then calls wipe()) and the resulting key set.
   */
  finalize(confirmations: ShareConfirmation[]): { share?: SecretShare; group: GroupInfo } {
    this.guard(['round3'], 'finalize');
    return this.checked(() => {
      const mine = this.round3Out!.confirmation;
      if (!Array.isArray(confirmations) || confirmations.length !== this.members.length) {
        throw new DkgAbort('confirmation_mismatch', `expected ${this.members.length} confirmations, got ${Array.isArray(confirmations) ? confirmations.length : 'none'}`);
      }
      const sorted = [...confirmations].sort((a, b) => a.index - b.index);
      const now = this.now();
      sorted.forEach((c, k) => {
        const what = `confirmation of ${signerName(c.index)}`;
        if (c.index !== this.members[k]) throw new DkgAbort('confirmation_mismatch', `confirmations must come one per member; ${signerName(this.members[k]!)} is missing or doubled`);
        if (c.index === this.index) {
          if (!sameJson(c, mine)) throw new DkgAbort('confirmation_mismatch', "the relay returned a modified copy of this signer's own confirmation");
          return;
        }
        if (c.version !== KEYS_VERSION || c.ceremony !== this.plan.ceremony || c.plan !== this.planHash) throw new DkgAbort('confirmation_mismatch', `${what} belongs to another ceremony or plan`);
        const cert = checkCertificate(c.certificate, this.ca, c.index, now, what, 'confirmation_mismatch');
        checkSignature(LABEL.confirmation, c, cert, what, 'confirmation_mismatch');
        if (c.transcript !== mine.transcript) throw new DkgAbort('transcript_mismatch', `${signerName(c.index)} confirmed another set of round-1 packages: the relay or a signer equivocated`);
        if (!sameJson(c.group, mine.group)) throw new DkgAbort('confirmation_mismatch', `${signerName(c.index)} computed another key set: a signer equivocated`);
      });
      this.step = 'final';
      return this.recipient ? { share: this.result!, group: mine.group } : { group: mine.group };
    });
  }
}
