// One signer's side of `ztmint dkg`: FROST distributed key generation (noble's frost-rs-compatible
// ed25519_FROST.DKG) with no trusted dealer, relayed by an untrusted coordinator. docs/dkg.md has
// the protocol; in short, per ceremony:
//
//   round 1   DKG.round1 → VSS commitment + proof of knowledge, plus a fresh X25519 key for this
//             ceremony; the package names ceremony, t, n and index and is signed with the signer's
//             mTLS key (certificate `CN=signer-<i>`, issued by the state's CA) so the relay can
//             neither forge nor swap one.
//   round 2   all n round-1 packages (as the relay distributes them) → checks every signature and
//             certificate, hashes the set into the transcript, DKG.round2, and seals each share
//             f_i(j) to recipient j: X25519 (fresh ephemeral + this signer's ceremony key, both
//             with j's ceremony key), HKDF-SHA256 (salt = transcript), AES-256-GCM with ceremony,
//             sender, recipient, transcript and the ephemeral key as associated data.
//   round 3   the n-1 envelopes addressed to this signer → each must carry this signer's transcript
//             (else the relay or a signer equivocated on round 1), decrypt and authenticate, and
//             match its sender's VSS commitment; DKG.round3 → the key share (kept in memory) and a
//             signed confirmation: transcript, group key, summed commitments, verifying shares.
//   finalize  all n confirmations → every one signed by its signer and identical to this signer's
//             view; only then is the share handed to the caller to be sealed.
//
// Any failed check aborts the ceremony at this signer for good (its secrets are dropped): a
// DkgAbort names the step, the other signer concerned and the reason; it never holds a secret.
import { ZtmintError } from '../errors/ztmint-error.js';
import {
  X509Certificate,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { DKG_Secret, Key } from '@noble/curves/abstract/frost.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { canonicalJson } from '../protocol/canonical-json.js';
import type { DkgConfirmation, DkgEnvelope, DkgRound1Package } from '../protocol/wire.js';
import { CIPHERSUITE, frost, identifierFromIndex, type GroupInfo, type SecretShare } from '../protocol/ciphersuite.js';
import { b64url, fromB64url } from '../protocol/encoding.js';

export const DKG_VERSION = 'ztmint-dkg-v1';
/** Ceremony ids: 16–64 base64url characters (the relay draws 128 random bits). */
export const CEREMONY_PATTERN = '^[A-Za-z0-9_-]{16,64}$';
const CEREMONY_RE = new RegExp(CEREMONY_PATTERN);

/** Entropy source for noble's round 1 (tests only: production uses the CSPRNG). */
export type Rng = (bytesLength?: number) => Uint8Array;

/**
 * The wire messages, typed from signers/openapi.json (protocol/wire.ts): the round-1 broadcast of
 * one signer, signed with its mTLS key; a round-2 package in transit (only the recipient can open
 * it); what a signer computed in round 3, signed (all must agree before anyone seals). Bytes are
 * base64url; docs/dkg.md describes every field.
 */
export type { DkgConfirmation, DkgEnvelope, DkgRound1Package } from '../protocol/wire.js';

export type DkgAbortReason = 'round1_invalid' | 'transcript_mismatch' | 'round2_invalid' | 'decrypt_failed' | 'share_invalid' | 'confirmation_mismatch' | 'aborted';

/**
 * The ceremony failed a check at this signer and is over; `code` is the abort reason the signer
 * sends (problem `dkg_aborted`, field `reason`). The message holds no secret.
 */
export class DkgAbort extends ZtmintError<DkgAbortReason> {}

/**
 * Why a request does not fit: parameters out of range (`invalid_parameters`), a step asked out of
 * order (`wrong_step`), or another ceremony in the way (`ceremony_conflict`).
 */
export type DkgStepErrorCode = 'invalid_parameters' | 'wrong_step' | 'ceremony_conflict';

/** A request that does not fit the ceremony's current step (no abort: nothing was checked). */
export class DkgStepError extends ZtmintError<DkgStepErrorCode> {}

/** The signer's long-term identity: its mTLS certificate and key, and the CA of the state. */
export interface DkgIdentity {
  index: number;
  certificate: string;
  privateKey: string;
  ca: string;
}

export interface DkgParticipantOptions {
  ceremony: string;
  threshold: number;
  signers: number;
  identity: DkgIdentity;
  rng?: Rng;
  now?: () => Date;
}

type Step = 'round1' | 'round2' | 'round3' | 'final' | 'aborted';

const SIGNED = {
  round1: `${DKG_VERSION}/round1\n`,
  confirmation: `${DKG_VERSION}/confirmation\n`,
  transcript: `${DKG_VERSION}/transcript\n`,
  key: `${DKG_VERSION}/round2-key`,
} as const;

export function signerName(index: number): string {
  return `signer-${index}`;
}

export function sha256hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function short(hash: string): string {
  return `${hash.slice(0, 12)}…`;
}

/** The bytes a signature covers: a label for what it is, then the canonical JSON without `signature`. */
function signedBytes(label: string, doc: object): Buffer {
  const { signature: _omit, ...rest } = doc as Record<string, unknown>;
  return Buffer.from(label + canonicalJson(rest));
}

function signatureAlgorithm(key: KeyObject): string | null {
  return key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448' ? null : 'sha256';
}

export function signDoc(label: string, doc: object, key: KeyObject): string {
  return b64url(sign(signatureAlgorithm(key), signedBytes(label, doc), { key, dsaEncoding: 'ieee-p1363' }));
}

export function x25519Public(raw: string): KeyObject {
  const bytes = fromB64url(raw);
  if (bytes.length !== 32) throw new TypeError('X25519 public keys are 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw }, format: 'jwk' });
}

export function x25519Raw(key: KeyObject): string {
  const x = key.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new Error('cannot export an X25519 public key');
  return x;
}

function dh(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  const shared = diffieHellman({ privateKey, publicKey });
  if (shared.every((b) => b === 0)) throw new Error('X25519 produced the all-zero secret (low-order point)');
  return shared;
}

interface EnvelopeKeyInput {
  ceremony: string;
  sender: number;
  recipient: number;
  transcript: string;
  enc: string;
  senderKey: string;
  recipientKey: string;
}

/**
 * HPKE-like AuthEncap: ikm = X25519(e, R) ‖ X25519(S, R), where e is fresh per envelope and S, R
 * are the sender's and the recipient's signed ceremony keys; HKDF-SHA256 with the transcript hash
 * as salt and every public input in `info`. Only the two signers can derive it.
 */
function envelopeKey(dh1: Buffer, dh2: Buffer, k: EnvelopeKeyInput, version: string): Buffer {
  const ikm = Buffer.concat([dh1, dh2]);
  const info = Buffer.from(
    `${version}/round2-key` + canonicalJson({ ceremony: k.ceremony, sender: k.sender, recipient: k.recipient, enc: k.enc, sender_key: k.senderKey, recipient_key: k.recipientKey }),
  );
  try {
    return Buffer.from(hkdfSync('sha256', ikm, Buffer.from(k.transcript, 'hex'), info, 32));
  } finally {
    ikm.fill(0);
    dh1.fill(0);
    dh2.fill(0);
  }
}

/** An envelope of any protocol version: the DKG's (`DkgEnvelope`) or share-ceremony.ts's. */
export type SealedEnvelope = Omit<DkgEnvelope, 'version'> & { version: string };

function envelopeAad(e: Pick<SealedEnvelope, 'version' | 'ceremony' | 'sender' | 'recipient' | 'transcript' | 'enc'>): Buffer {
  return Buffer.from(canonicalJson({ version: e.version, ceremony: e.ceremony, sender: e.sender, recipient: e.recipient, transcript: e.transcript, enc: e.enc }));
}

/**
 * Seals one round-2 share for its recipient. `version` (default the DKG's) names the protocol: it is
 * the envelope's `version` and labels the key derivation (share refresh, repair and reshare use
 * their own, signers/share-ceremony.ts).
 */
export function sealEnvelope(
  plaintext: Uint8Array,
  k: { ceremony: string; sender: number; recipient: number; transcript: string; senderPrivate: KeyObject; senderKey: string; recipientKey: string; version?: string },
): SealedEnvelope {
  const version = k.version ?? DKG_VERSION;
  const eph = generateKeyPairSync('x25519');
  const enc = x25519Raw(eph.publicKey);
  const recipient = x25519Public(k.recipientKey);
  const key = envelopeKey(dh(eph.privateKey, recipient), dh(k.senderPrivate, recipient), { ...k, enc }, version);
  const nonce = randomBytes(12);
  const head = { version, ceremony: k.ceremony, sender: k.sender, recipient: k.recipient, transcript: k.transcript, enc } as const;
  try {
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(envelopeAad(head));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { ...head, nonce: b64url(nonce), ciphertext: b64url(ciphertext) };
  } finally {
    key.fill(0);
  }
}

/** Opens an envelope addressed to the holder of `recipientPrivate`; throws on any mismatch. */
export function openEnvelope(e: SealedEnvelope, k: { recipientPrivate: KeyObject; senderKey: string; recipientKey: string }): Uint8Array {
  const sender = x25519Public(k.senderKey);
  const key = envelopeKey(dh(k.recipientPrivate, x25519Public(e.enc)), dh(k.recipientPrivate, sender), { ...e, senderKey: k.senderKey, recipientKey: k.recipientKey }, e.version);
  try {
    const nonce = fromB64url(e.nonce);
    const sealed = fromB64url(e.ciphertext);
    if (nonce.length !== 12 || sealed.length < 16) throw new Error('malformed envelope');
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(envelopeAad(e));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const head = decipher.update(sealed.subarray(0, sealed.length - 16));
    const tail = decipher.final();
    const plain = new Uint8Array(Buffer.concat([head, tail]));
    head.fill(0);
    return plain;
  } finally {
    key.fill(0);
  }
}

/** Checks that `pem` is `CN=signer-<index>`, issued by `ca`, and valid now. */
export function checkCertificate(pem: string, ca: X509Certificate, index: number, now: Date, what: string, reason: DkgAbortReason = 'round1_invalid'): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new DkgAbort(reason, `${what}: the certificate is not a PEM X.509 certificate`);
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    throw new DkgAbort(reason, `${what}: the certificate was not issued by this state's CA`);
  }
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
    throw new DkgAbort(reason, `${what}: the certificate is not valid now (${cert.validFrom} – ${cert.validTo})`);
  }
  if (cert.subject !== `CN=${signerName(index)}`) {
    throw new DkgAbort(reason, `${what}: the certificate is for ${cert.subject.replace(/\n/g, ', ')}, not CN=${signerName(index)}`);
  }
  return cert;
}

export function checkSignature(label: string, doc: { index: number; signature: string }, cert: X509Certificate, what: string, reason: DkgAbortReason): void {
  let ok: boolean;
  try {
    ok = verify(signatureAlgorithm(cert.publicKey), signedBytes(label, doc), { key: cert.publicKey, dsaEncoding: 'ieee-p1363' }, fromB64url(doc.signature));
  } catch {
    ok = false;
  }
  if (!ok) throw new DkgAbort(reason, `${what}: the signature does not verify under ${signerName(doc.index)}'s certificate (forged or modified in transit)`);
}

export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** Index → identifier scalar (noble's Identifier.fromNumber(i) is the scalar i). */
function vssEvaluate(commitment: string[], index: number) {
  const x = BigInt(index);
  let acc = ed25519.Point.ZERO;
  let power = 1n;
  const order = ed25519.Point.Fn.ORDER;
  for (const c of commitment) {
    acc = acc.add(ed25519.Point.fromBytes(fromB64url(c)).multiply(power));
    power = (power * x) % order;
  }
  return acc;
}

/** Does share f_sender(index) lie on the sender's committed polynomial? (RFC 9591 App. C.2 vss_verify) */
function shareMatchesCommitment(share: Uint8Array, commitment: string[], index: number): boolean {
  try {
    const s = bytesToNumberLE(share);
    if (s <= 0n || s >= ed25519.Point.Fn.ORDER) return false;
    return ed25519.Point.BASE.multiply(s).equals(vssEvaluate(commitment, index));
  } catch {
    return false;
  }
}

function groupInfoFromKey(pub: Key['public'], signers: number): GroupInfo {
  const identifiers = Array.from({ length: signers }, (_, i) => identifierFromIndex(i + 1));
  return {
    ciphersuite: CIPHERSUITE,
    group_public_key: b64url(pub.commitments[0]!),
    threshold: pub.signers.min,
    signers,
    identifiers,
    verifying_shares: Object.fromEntries(identifiers.map((id) => [id, b64url(pub.verifyingShares[id]!)])),
    commitments: pub.commitments.map((c) => b64url(c)),
  };
}

function validateCeremonyParameters(ceremony: string, threshold: number, signers: number, index: number): void {
  if (typeof ceremony !== 'string' || !CEREMONY_RE.test(ceremony)) throw new DkgStepError('invalid_parameters', 'ceremony must be 16–64 base64url characters');
  if (!Number.isInteger(signers) || !Number.isInteger(threshold) || threshold < 2 || threshold > signers || signers > 255) {
    throw new DkgStepError('invalid_parameters', `need integers with 2 ≤ threshold ≤ signers ≤ 255 (got threshold ${threshold}, signers ${signers})`);
  }
  if (!Number.isInteger(index) || index < 1 || index > signers) {
    throw new DkgStepError('invalid_parameters', `this signer is ${signerName(index)}: not a member of a ceremony with ${signers} signers`);
  }
}

/**
 * One signer in one ceremony. Each step is idempotent for the same input (a relay may retry) and
 * aborts the ceremony for good on a failed check or on a different input for a step already done.
 */
export class DkgParticipant {
  readonly ceremony: string;
  readonly threshold: number;
  readonly signers: number;
  readonly index: number;
  readonly identifier: string;
  private step: Step = 'round1';
  private abortError?: DkgAbort;
  private readonly now: () => Date;
  private readonly ca: X509Certificate;
  private readonly signingKey: KeyObject;
  private secret?: DKG_Secret;
  private encryptionKey?: KeyObject;
  private readonly own: DkgRound1Package;
  private round1Set?: DkgRound1Package[];
  private transcript?: string;
  private round2Out?: { transcript: string; packages: DkgEnvelope[] };
  private round3In?: string;
  private key?: Key;
  private confirmation?: DkgConfirmation;

  constructor(opts: DkgParticipantOptions) {
    const { identity } = opts;
    validateCeremonyParameters(opts.ceremony, opts.threshold, opts.signers, identity.index);
    this.ceremony = opts.ceremony;
    this.threshold = opts.threshold;
    this.signers = opts.signers;
    this.index = identity.index;
    this.identifier = identifierFromIndex(identity.index);
    this.now = opts.now ?? (() => new Date());
    this.ca = new X509Certificate(identity.ca);
    this.signingKey = createPrivateKey(identity.privateKey);
    // Our own certificate must pass the checks the others will make.
    checkCertificate(identity.certificate, this.ca, this.index, this.now(), `this signer (${signerName(this.index)})`);

    const r1 = frost.DKG.round1(this.identifier, { min: this.threshold, max: this.signers }, undefined, opts.rng);
    this.secret = r1.secret;
    const enc = generateKeyPairSync('x25519');
    this.encryptionKey = enc.privateKey;
    const unsigned: Omit<DkgRound1Package, 'signature'> = {
      version: DKG_VERSION,
      ciphersuite: CIPHERSUITE,
      ceremony: this.ceremony,
      threshold: this.threshold,
      signers: this.signers,
      index: this.index,
      identifier: r1.public.identifier,
      commitment: r1.public.commitment.map((c) => b64url(c)),
      proof_of_knowledge: b64url(r1.public.proofOfKnowledge),
      encryption_key: x25519Raw(enc.publicKey),
      certificate: identity.certificate.trim() + '\n',
    };
    this.own = { ...unsigned, signature: signDoc(SIGNED.round1, unsigned, this.signingKey) };
  }

  get state(): Step {
    return this.step;
  }

  get abortReason(): DkgAbort | undefined {
    return this.abortError;
  }

  /** Ends the ceremony here: secrets are dropped, every later call fails with this reason. */
  abort(reason: DkgAbortReason, message: string): DkgAbort {
    const err = new DkgAbort(reason, message);
    if (this.step === 'aborted') return this.abortError!;
    this.step = 'aborted';
    this.abortError = err;
    this.wipe();
    return err;
  }

  /** Drops the DKG secrets and the key share (noble's state, the X25519 key, our copy of the share). */
  wipe(): void {
    if (this.secret) frost.DKG.clean(this.secret);
    this.secret = undefined;
    this.encryptionKey = undefined;
    this.key?.secret.signingShare.fill(0);
  }

  private guard(expected: Step[], what: string): void {
    if (this.step === 'aborted') throw this.abortError!;
    if (!expected.includes(this.step)) throw new DkgStepError('wrong_step', `${what} does not fit: ceremony ${this.ceremony} is at ${this.step} at ${signerName(this.index)}`);
  }

  /** Runs `fn`; a DkgAbort it throws aborts the ceremony. */
  private checked<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof DkgAbort) throw this.abort(err.code, err.message);
      throw err;
    }
  }

  round1(): DkgRound1Package {
    this.guard(['round1', 'round2', 'round3', 'final'], 'round 1');
    return this.own;
  }

  /** The transcript hash of a set of round-1 packages (sorted by index). */
  static transcriptOf(ceremony: string, threshold: number, signers: number, packages: DkgRound1Package[]): string {
    const sorted = [...packages].sort((a, b) => a.index - b.index);
    return sha256hex(SIGNED.transcript + canonicalJson({ ceremony, threshold, signers, packages: sorted }));
  }

  round2(set: DkgRound1Package[]): { transcript: string; packages: DkgEnvelope[] } {
    this.guard(['round1', 'round2'], 'round 2');
    return this.checked(() => {
      const sorted = this.checkRound1Set(set);
      const transcript = DkgParticipant.transcriptOf(this.ceremony, this.threshold, this.signers, sorted);
      if (this.round2Out) {
        if (transcript === this.round2Out.transcript) return this.round2Out;
        throw new DkgAbort(
          'transcript_mismatch',
          `round 2 was asked again with another set of round-1 packages (transcript ${short(transcript)} after ${short(this.round2Out.transcript)}): the relay equivocated`,
        );
      }
      const others = sorted.filter((p) => p.index !== this.index);
      let shares;
      try {
        const noble = others.map((p) => ({ identifier: p.identifier, commitment: p.commitment.map(fromB64url), proofOfKnowledge: fromB64url(p.proof_of_knowledge) }));
        shares = frost.DKG.round2(this.secret!, noble);
      } catch (err) {
        throw new DkgAbort('round1_invalid', `FROST DKG refused the round-1 packages: ${(err as Error).message}`);
      }
      const packages = others.map((p) => {
        const share = shares[p.identifier]!.signingShare;
        try {
          return sealEnvelope(share, {
            ceremony: this.ceremony,
            sender: this.index,
            recipient: p.index,
            transcript,
            senderPrivate: this.encryptionKey!,
            senderKey: this.own.encryption_key,
            recipientKey: p.encryption_key,
          }) as DkgEnvelope;
        } finally {
          share.fill(0);
        }
      });
      this.round1Set = sorted;
      this.transcript = transcript;
      this.round2Out = { transcript, packages };
      this.step = 'round2';
      return this.round2Out;
    });
  }

  private checkRound1Set(set: DkgRound1Package[]): DkgRound1Package[] {
    if (!Array.isArray(set) || set.length !== this.signers) {
      throw new DkgAbort('round1_invalid', `expected ${this.signers} round-1 packages (one per signer, this one's included), got ${Array.isArray(set) ? set.length : 'none'}`);
    }
    const sorted = [...set].sort((a, b) => a.index - b.index);
    const now = this.now();
    const keys = new Set<string>();
    sorted.forEach((p, i) => {
      const what = `round-1 package of ${signerName(p.index)}`;
      if (p.index !== i + 1) throw new DkgAbort('round1_invalid', `round-1 packages must come one per signer 1…${this.signers}; ${signerName(i + 1)} is missing or doubled`);
      if (p.version !== DKG_VERSION || p.ciphersuite !== CIPHERSUITE) throw new DkgAbort('round1_invalid', `${what}: version ${p.version}/${p.ciphersuite} is not ${DKG_VERSION}/${CIPHERSUITE}`);
      if (p.ceremony !== this.ceremony) throw new DkgAbort('round1_invalid', `${what} belongs to ceremony ${p.ceremony}, not ${this.ceremony}`);
      if (p.threshold !== this.threshold || p.signers !== this.signers) {
        throw new DkgAbort('round1_invalid', `${what} is for ${p.threshold}-of-${p.signers}, not ${this.threshold}-of-${this.signers}`);
      }
      if (p.identifier !== identifierFromIndex(p.index)) throw new DkgAbort('round1_invalid', `${what}: identifier does not match index ${p.index}`);
      if (p.index === this.index) {
        if (!sameJson(p, this.own)) throw new DkgAbort('round1_invalid', `the relay returned a modified copy of this signer's own round-1 package`);
        keys.add(p.encryption_key);
        return;
      }
      if (!Array.isArray(p.commitment) || p.commitment.length !== this.threshold) {
        throw new DkgAbort('round1_invalid', `${what}: expected ${this.threshold} VSS commitments`);
      }
      const cert = checkCertificate(p.certificate, this.ca, p.index, now, what);
      checkSignature(SIGNED.round1, p, cert, what, 'round1_invalid');
      try {
        x25519Public(p.encryption_key);
      } catch {
        throw new DkgAbort('round1_invalid', `${what}: encryption_key is not an X25519 public key`);
      }
      if (keys.has(p.encryption_key)) throw new DkgAbort('round1_invalid', `${what}: encryption_key is reused`);
      keys.add(p.encryption_key);
    });
    return sorted;
  }

  round3(envelopes: DkgEnvelope[]): DkgConfirmation {
    this.guard(['round2', 'round3'], 'round 3');
    return this.checked(() => {
      const input = canonicalJson([...(Array.isArray(envelopes) ? envelopes : [])].sort((a, b) => a.sender - b.sender));
      if (this.confirmation) {
        if (input === this.round3In) return this.confirmation;
        throw new DkgAbort('round2_invalid', 'round 3 was asked again with other round-2 packages: the relay equivocated');
      }
      const set = this.round1Set!;
      const others = set.filter((p) => p.index !== this.index);
      if (!Array.isArray(envelopes) || envelopes.length !== others.length) {
        throw new DkgAbort('round2_invalid', `expected ${others.length} round-2 packages (one from each other signer), got ${Array.isArray(envelopes) ? envelopes.length : 'none'}`);
      }
      const bySender = new Map<number, DkgEnvelope>();
      for (const e of envelopes) {
        if (e.version !== DKG_VERSION || e.ceremony !== this.ceremony) throw new DkgAbort('round2_invalid', `a round-2 package belongs to another ceremony or version`);
        if (e.recipient !== this.index)
          throw new DkgAbort('round2_invalid', `a round-2 package from ${signerName(e.sender)} is addressed to ${signerName(e.recipient)}, not ${signerName(this.index)}`);
        if (bySender.has(e.sender) || e.sender === this.index || !others.some((p) => p.index === e.sender)) {
          throw new DkgAbort('round2_invalid', `round-2 packages must come one from each other signer (${signerName(e.sender)} is unexpected or doubled)`);
        }
        bySender.set(e.sender, e);
      }
      // Transcripts first: a mismatch means the signers were shown different round-1 sets.
      for (const p of others) {
        const e = bySender.get(p.index)!;
        if (e.transcript !== this.transcript) {
          throw new DkgAbort(
            'transcript_mismatch',
            `${signerName(p.index)} saw a different set of round-1 packages (transcript ${short(e.transcript)}) than ${signerName(this.index)} (${short(this.transcript!)}): the relay or a signer equivocated`,
          );
        }
      }
      const received: Array<{ identifier: string; signingShare: Uint8Array }> = [];
      try {
        for (const p of others) {
          const e = bySender.get(p.index)!;
          let plain: Uint8Array;
          try {
            plain = openEnvelope(e, { recipientPrivate: this.encryptionKey!, senderKey: p.encryption_key, recipientKey: this.own.encryption_key });
          } catch {
            throw new DkgAbort(
              'decrypt_failed',
              `the round-2 package from ${signerName(p.index)} failed authenticated decryption at ${signerName(this.index)}: it was modified in transit or not sealed by ${signerName(p.index)} for ${signerName(this.index)}`,
            );
          }
          received.push({ identifier: p.identifier, signingShare: plain });
          if (plain.length !== 32 || !shareMatchesCommitment(plain, p.commitment, this.index)) {
            throw new DkgAbort('share_invalid', `the round-2 share from ${signerName(p.index)} does not match ${signerName(p.index)}'s VSS commitment (a cheating signer)`);
          }
        }
        try {
          const noble = others.map((p) => ({ identifier: p.identifier, commitment: p.commitment.map(fromB64url), proofOfKnowledge: fromB64url(p.proof_of_knowledge) }));
          this.key = frost.DKG.round3(this.secret!, noble, received);
        } catch (err) {
          throw new DkgAbort('share_invalid', `FROST DKG round 3 failed: ${(err as Error).message}`);
        }
      } finally {
        for (const r of received) r.signingShare.fill(0);
      }
      this.secret = undefined; // consumed (zeroed) by round3
      this.encryptionKey = undefined; // no more envelopes to open
      const group = groupInfoFromKey(this.key.public, this.signers);
      const unsigned: Omit<DkgConfirmation, 'signature'> = {
        version: DKG_VERSION,
        ceremony: this.ceremony,
        index: this.index,
        identifier: this.identifier,
        transcript: this.transcript!,
        group_public_key: group.group_public_key,
        commitments: group.commitments,
        verifying_shares: group.verifying_shares,
        certificate: this.own.certificate,
      };
      this.confirmation = { ...unsigned, signature: signDoc(SIGNED.confirmation, unsigned, this.signingKey) };
      this.round3In = input;
      this.step = 'round3';
      return this.confirmation;
    });
  }

  /**
   * Checks that all n signers confirmed the same transcript and key set; returns the share to seal
   * (the caller seals it, then calls wipe()) and the group's public data.
   */
  finalize(confirmations: DkgConfirmation[]): { share: SecretShare; group: GroupInfo } {
    this.guard(['round3'], 'finalize');
    return this.checked(() => {
      const mine = this.confirmation!;
      if (!Array.isArray(confirmations) || confirmations.length !== this.signers) {
        throw new DkgAbort('confirmation_mismatch', `expected ${this.signers} confirmations, got ${Array.isArray(confirmations) ? confirmations.length : 'none'}`);
      }
      const sorted = [...confirmations].sort((a, b) => a.index - b.index);
      const now = this.now();
      sorted.forEach((c, i) => {
        const what = `confirmation of ${signerName(c.index)}`;
        if (c.index !== i + 1) throw new DkgAbort('confirmation_mismatch', `confirmations must come one per signer 1…${this.signers}; ${signerName(i + 1)} is missing or doubled`);
        if (c.index === this.index) {
          if (!sameJson(c, mine)) throw new DkgAbort('confirmation_mismatch', `the relay returned a modified copy of this signer's own confirmation`);
          return;
        }
        if (c.version !== DKG_VERSION || c.ceremony !== this.ceremony) throw new DkgAbort('confirmation_mismatch', `${what} belongs to another ceremony`);
        const cert = checkCertificate(c.certificate, this.ca, c.index, now, what, 'confirmation_mismatch');
        checkSignature(SIGNED.confirmation, c, cert, what, 'confirmation_mismatch');
        if (c.transcript !== mine.transcript) {
          throw new DkgAbort(
            'transcript_mismatch',
            `${signerName(c.index)} confirmed another set of round-1 packages (transcript ${short(c.transcript)}, here ${short(mine.transcript)}): the relay or a signer equivocated`,
          );
        }
        if (c.group_public_key !== mine.group_public_key || !sameJson(c.commitments, mine.commitments) || !sameJson(c.verifying_shares, mine.verifying_shares)) {
          throw new DkgAbort('confirmation_mismatch', `${signerName(c.index)} computed another key set (group key ${c.group_public_key}, here ${mine.group_public_key}): a signer equivocated`);
        }
      });
      this.step = 'final';
      const group = groupInfoFromKey(this.key!.public, this.signers);
      return { share: { identifier: this.identifier, signingShare: this.key!.secret.signingShare }, group };
    });
  }
}

/** Constant-time equality for share checks (tests, sealing verification). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
