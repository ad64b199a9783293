// The DKG protocol in-process (signers/dkg.ts), then over real mTLS with in-process signer servers
// and the relay (coordinator/dkg-relay.ts): a 2-of-3 and a 3-of-5 ceremony produce working FROST
// keys; tampered envelopes, forged or swapped round-1 packages, equivocating signers, misrouted
// packages and forged confirmations abort the ceremony with a clear error; and the relay's
// transcript holds no share, no round-2 plaintext and no polynomial coefficient.
import { ed25519, ed25519_FROST as frost } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { createPrivateKey, randomBytes, sign as nodeSign } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DkgRelay, DkgRelayError } from '../coordinator/dkg-relay.js';
import { canonicalJson } from '../protocol/canonical-json.js';
import { toFrostPublic, type GroupInfo, type SecretShare } from '../protocol/ciphersuite.js';
import { b64url, fromB64url } from '../protocol/encoding.js';
import { DkgAbort, DkgParticipant, type DkgConfirmation, type DkgEnvelope, type DkgIdentity, type DkgRound1Package } from '../signers/dkg.js';
import { sealDkgShare } from '../signers/dkg-main.js';
import { buildDkgSignerServer } from '../signers/dkg-server.js';
import { unsealShare } from '../signers/sealed-share.js';
import { findSecrets, identityOf, makePki, polyEval, recordingRng, scalarBytes, scalarsFrom, tlsOf, ORDER } from './dkg-helpers.js';

let state: string; // PKI for 5 signers, plus a "signer-3" certificate from another CA
let otherState: string;
const ids: DkgIdentity[] = [];

beforeAll(async () => {
  state = await makePki(5, [{ name: 'relay-forger', role: 'both' }]);
  otherState = await makePki(3);
  for (let i = 1; i <= 5; i++) ids.push(await identityOf(state, i));
});
afterAll(async () => {
  await rm(state, { recursive: true, force: true });
  await rm(otherState, { recursive: true, force: true });
});

const ceremonyId = () => randomBytes(16).toString('base64url');

function participants(n: number, t: number, ceremony = ceremonyId()) {
  return ids.slice(0, n).map((identity) => new DkgParticipant({ ceremony, threshold: t, signers: n, identity }));
}

/** Runs the rounds like an honest relay; returns what each signer finalized. */
function honestRun(ps: DkgParticipant[]) {
  const r1 = ps.map((p) => p.round1());
  const r2 = ps.map((p) => p.round2(r1));
  const envelopes = r2.flatMap((r) => r.packages);
  const confirmations = ps.map((p) => p.round3(envelopes.filter((e) => e.recipient === p.index)));
  return ps.map((p) => p.finalize(confirmations));
}

function expectAbort(fn: () => unknown, reason: string, message: RegExp): DkgAbort {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DkgAbort);
  expect((caught as DkgAbort).code).toBe(reason);
  expect((caught as DkgAbort).message).toMatch(message);
  return caught as DkgAbort;
}

function signWith(group: GroupInfo, shares: SecretShare[], message: Uint8Array): Uint8Array {
  const pub = toFrostPublic(group);
  const nonces = shares.map((s) => frost.commit(s));
  const commitments = nonces.map((n) => n.commitments);
  const sigShares = Object.fromEntries(shares.map((s, i) => [s.identifier, frost.signShare(s, pub, nonces[i]!.nonces, commitments, message)]));
  return frost.aggregate(pub, commitments, message, sigShares);
}

describe('DKG participants (in-process)', () => {
  it('2-of-3: every signer confirms the same key set; any 2 shares sign for the group key', () => {
    const out = honestRun(participants(3, 2));
    const group = out[0]!.group;
    for (const o of out) expect(o.group).toEqual(group);
    expect(group.commitments).toHaveLength(2);
    expect(group.commitments[0]).toBe(group.group_public_key);
    const shares = out.map((o) => ({ identifier: o.share.identifier, signingShare: o.share.signingShare.slice() }));
    for (const s of shares) expect(b64url(ed25519.Point.BASE.multiply(bytesToNumberLE(s.signingShare)).toBytes())).toBe(group.verifying_shares[s.identifier]);
    const msg = new TextEncoder().encode('header.payload');
    for (const pair of [
      [0, 1],
      [0, 2],
      [1, 2],
    ]) {
      const sig = signWith(
        group,
        pair.map((i) => shares[i]!),
        msg,
      );
      expect(ed25519.verify(sig, msg, fromB64url(group.group_public_key))).toBe(true);
    }
    // The dealer-free secret is the sum of the signers' a_i0: nobody ever held it.
    const secret = frost.combineSecret(shares, { min: 2, max: 3 });
    expect(b64url(ed25519.Point.BASE.multiply(bytesToNumberLE(secret)).toBytes())).toBe(group.group_public_key);
  });

  it('3-of-5 works too, and each step is idempotent for the same input', () => {
    const ps = participants(5, 3);
    const r1 = ps.map((p) => p.round1());
    expect(ps[0]!.round1()).toEqual(r1[0]);
    const r2 = ps.map((p) => p.round2([...r1].reverse()));
    expect(ps[1]!.round2(r1)).toEqual(r2[1]); // order does not matter
    const envelopes = r2.flatMap((r) => r.packages);
    const confirmations = ps.map((p) => p.round3(envelopes.filter((e) => e.recipient === p.index)));
    expect(ps[2]!.round3(envelopes.filter((e) => e.recipient === 3).reverse())).toEqual(confirmations[2]);
    const out = ps.map((p) => p.finalize(confirmations));
    expect(out[4]!.group.commitments).toHaveLength(3);
    const msg = new TextEncoder().encode('3-of-5');
    const sig = signWith(
      out[0]!.group,
      [out[0]!, out[2]!, out[4]!].map((o) => o.share),
      msg,
    );
    expect(ed25519.verify(sig, msg, fromB64url(out[0]!.group.group_public_key))).toBe(true);
  });

  it('round-2 envelopes are 32-byte shares under AES-256-GCM: ciphertext + tag = 48 bytes, nothing else', () => {
    const ps = participants(3, 2);
    const r1 = ps.map((p) => p.round1());
    const { packages } = ps[0]!.round2(r1);
    expect(packages.map((e) => [e.sender, e.recipient])).toEqual([
      [1, 2],
      [1, 3],
    ]);
    for (const e of packages) {
      expect(Object.keys(e).sort()).toEqual(['ceremony', 'ciphertext', 'enc', 'nonce', 'recipient', 'sender', 'transcript', 'version']);
      expect(fromB64url(e.ciphertext)).toHaveLength(48);
      expect(fromB64url(e.nonce)).toHaveLength(12);
      expect(fromB64url(e.enc)).toHaveLength(32);
    }
  });

  describe('a relay tampering with an encrypted round-2 package makes the recipient abort', () => {
    const cases: Array<[string, (e: DkgEnvelope) => void, string, RegExp]> = [
      [
        'a flipped ciphertext bit',
        (e) => (e.ciphertext = flip(e.ciphertext, 3)),
        'decrypt_failed',
        /round-2 package from signer-1 failed authenticated decryption at signer-2: it was modified in transit or not sealed by signer-1/,
      ],
      ['a flipped tag bit', (e) => (e.ciphertext = flip(e.ciphertext, 40)), 'decrypt_failed', /failed authenticated decryption/],
      ['another nonce', (e) => (e.nonce = b64url(randomBytes(12))), 'decrypt_failed', /failed authenticated decryption/],
      ['another ephemeral key', (e) => (e.enc = b64url(ed25519.utils.randomSecretKey())), 'decrypt_failed', /failed authenticated decryption/],
      ['a relabelled sender', (e) => (e.sender = 3), 'round2_invalid', /one from each other signer/],
      ['another transcript', (e) => (e.transcript = 'ab'.repeat(32)), 'transcript_mismatch', /signer-1 saw a different set of round-1 packages/],
    ];
    for (const [what, tamper, reason, message] of cases) {
      it(what, () => {
        const ps = participants(3, 2);
        const r1 = ps.map((p) => p.round1());
        const envelopes = ps.flatMap((p) => p.round2(r1).packages);
        const toSigner2 = envelopes.filter((e) => e.recipient === 2).map((e) => ({ ...e }));
        tamper(toSigner2.find((e) => e.sender === 1)!);
        expectAbort(() => ps[1]!.round3(toSigner2), reason, message);
        // Aborted for good: even the untampered packages are refused now.
        expectAbort(() => ps[1]!.round3(envelopes.filter((e) => e.recipient === 2)), reason, message);
        expect(ps[1]!.state).toBe('aborted');
      });
    }
  });

  it('a package re-encrypted by someone else (valid AEAD, not from the sender) is refused', () => {
    const ps = participants(3, 2);
    const r1 = ps.map((p) => p.round1());
    const envelopes = ps.flatMap((p) => p.round2(r1).packages);
    // Signer 3 (or anyone holding its key) cannot pass a package off as signer 1's: the key
    // derivation binds the sender's static X25519 key.
    const from3 = envelopes.find((e) => e.sender === 3 && e.recipient === 2)!;
    const toSigner2 = envelopes.filter((e) => e.recipient === 2 && e.sender !== 1).concat([{ ...from3, sender: 1 }]);
    expectAbort(() => ps[1]!.round3(toSigner2), 'decrypt_failed', /from signer-1 failed authenticated decryption/);
  });

  it('a package misrouted to another recipient is refused', () => {
    const ps = participants(3, 2);
    const r1 = ps.map((p) => p.round1());
    const envelopes = ps.flatMap((p) => p.round2(r1).packages);
    expectAbort(() => ps[0]!.round3(envelopes.filter((e) => e.recipient === 2)), 'round2_invalid', /addressed to signer-2, not signer-1/);
  });

  describe('a relay giving different round-1 sets to different signers is detected', () => {
    it("a forged round-1 package (the relay's own polynomial and encryption key) fails signer-3's signature", async () => {
      const ps = participants(3, 2);
      const r1 = ps.map((p) => p.round1());
      // The relay plays signer 3 towards signer 1 with a package whose secrets it knows.
      const forger = new DkgParticipant({ ceremony: ps[0]!.ceremony, threshold: 2, signers: 3, identity: { ...ids[2]!, privateKey: (await tlsOf(state, 'relay-forger')).key } as DkgIdentity });
      const forged: DkgRound1Package = { ...forger.round1(), certificate: r1[2]!.certificate };
      expectAbort(() => ps[0]!.round2([r1[0]!, r1[1]!, forged]), 'round1_invalid', /round-1 package of signer-3: the signature does not verify under signer-3's certificate/);
      // Signer 2 got the real set and goes on, but the ceremony cannot complete without signer 1.
      expect(ps[1]!.round2(r1).packages).toHaveLength(2);
    });

    it("a package signed with another signer's certificate, or one from another CA, is refused", async () => {
      const ps = participants(3, 2);
      const r1 = ps.map((p) => p.round1());
      const asSigner2 = { ...r1[2]!, certificate: r1[1]!.certificate };
      expectAbort(() => ps[0]!.round2([r1[0]!, r1[1]!, asSigner2]), 'round1_invalid', /certificate is for CN=signer-2, not CN=signer-3/);
      const ps2 = participants(3, 2);
      const q = ps2.map((p) => p.round1());
      const foreign = new DkgParticipant({ ceremony: ps2[0]!.ceremony, threshold: 2, signers: 3, identity: await identityOf(otherState, 3) }).round1();
      expectAbort(() => ps2[0]!.round2([q[0]!, q[1]!, foreign]), 'round1_invalid', /signer-3: the certificate was not issued by this state's CA/);
    });

    it('a package from another ceremony, or for another quorum, is refused', () => {
      const ps = participants(3, 2);
      const r1 = ps.map((p) => p.round1());
      const old = participants(3, 2)[2]!.round1();
      expectAbort(() => ps[0]!.round2([r1[0]!, r1[1]!, old]), 'round1_invalid', /round-1 package of signer-3 belongs to ceremony/);
      const ps2 = participants(3, 2);
      const q = ps2.map((p) => p.round1());
      expectAbort(() => ps2[0]!.round2([q[0]!, q[1]!, { ...q[2]!, threshold: 3 }]), 'round1_invalid', /signer-3 is for 3-of-3, not 2-of-3/);
    });

    it("a modified copy of the signer's own package, or a missing package, is refused", () => {
      const ps = participants(3, 2);
      const r1 = ps.map((p) => p.round1());
      expectAbort(() => ps[0]!.round2([{ ...r1[0]!, encryption_key: r1[1]!.encryption_key }, r1[1]!, r1[2]!]), 'round1_invalid', /modified copy of this signer's own round-1 package/);
      const ps2 = participants(3, 2);
      const q = ps2.map((p) => p.round1());
      expectAbort(() => ps2[0]!.round2([q[0]!, q[1]!, q[1]!]), 'round1_invalid', /signer-3 is missing or doubled/);
    });

    it('an equivocating signer (two valid round-1 packages) is caught by the transcript in round 3', () => {
      const ceremony = ceremonyId();
      const [p1, p2, p3a] = participants(3, 2, ceremony);
      const p3b = new DkgParticipant({ ceremony, threshold: 2, signers: 3, identity: ids[2]! }); // same key, second polynomial
      const setA = [p1!.round1(), p2!.round1(), p3a!.round1()];
      const setB = [setA[0]!, setA[1]!, p3b.round1()];
      const toA = p1!.round2(setA);
      const toB = p2!.round2(setB);
      const from3 = p3a!.round2(setA);
      expect(toA.transcript).not.toBe(toB.transcript);
      const forP1 = [...toB.packages, ...from3.packages].filter((e) => e.recipient === 1);
      expectAbort(
        () => p1!.round3(forP1),
        'transcript_mismatch',
        /signer-2 saw a different set of round-1 packages \(transcript [0-9a-f]{12}…\) than signer-1 \([0-9a-f]{12}…\): the relay or a signer equivocated/,
      );
      expectAbort(() => p2!.round2(setA), 'transcript_mismatch', /round 2 was asked again with another set of round-1 packages/);
    });
  });

  describe('the final confirmation', () => {
    function toRound3(n = 3, t = 2) {
      const ps = participants(n, t);
      const r1 = ps.map((p) => p.round1());
      const envelopes = ps.flatMap((p) => p.round2(r1).packages);
      const confirmations = ps.map((p) => p.round3(envelopes.filter((e) => e.recipient === p.index)));
      return { ps, confirmations };
    }

    it('a confirmation altered by the relay (another group key) fails its signature: nothing to seal', () => {
      const { ps, confirmations } = toRound3();
      const altered: DkgConfirmation = { ...confirmations[1]!, group_public_key: confirmations[1]!.commitments[1]! };
      expectAbort(() => ps[0]!.finalize([confirmations[0]!, altered, confirmations[2]!]), 'confirmation_mismatch', /confirmation of signer-2: the signature does not verify/);
    });

    it('a signer that computed another key set (validly signed) is caught', () => {
      const { ps, confirmations } = toRound3();
      // Signer 2 signs a confirmation for other values: e.g. a signer that is buggy or cheats.
      const other = toRound3().confirmations[1]!;
      const sameCeremony = { ...other, ceremony: confirmations[1]!.ceremony, transcript: confirmations[1]!.transcript };
      // Re-sign as signer 2 would: only a holder of signer 2's key can, which the test is.
      const resigned = resign(sameCeremony, ids[1]!.privateKey);
      expectAbort(() => ps[0]!.finalize([confirmations[0]!, resigned, confirmations[2]!]), 'confirmation_mismatch', /signer-2 computed another key set/);
    });

    it('a confirmation missing or doubled is refused', () => {
      const { ps, confirmations } = toRound3();
      expectAbort(() => ps[0]!.finalize([confirmations[0]!, confirmations[1]!]), 'confirmation_mismatch', /expected 3 confirmations, got 2/);
    });
  });
});

function flip(b64: string, byte: number): string {
  const bytes = fromB64url(b64);
  bytes[byte]! ^= 0x01;
  return b64url(bytes);
}

function resign(c: DkgConfirmation, keyPem: string): DkgConfirmation {
  const { signature: _s, ...rest } = c;
  const bytes = Buffer.from('ztmint-dkg-v1/confirmation\n' + canonicalJson(rest));
  return { ...rest, signature: b64url(nodeSign('sha256', bytes, { key: createPrivateKey(keyPem), dsaEncoding: 'ieee-p1363' })) };
}

describe('DKG over mTLS: in-process signer servers, the relay, and its transcript', () => {
  const n = 3;
  const t = 2;
  const draws: Array<Uint8Array[]> = [];
  const servers: Array<Awaited<ReturnType<typeof buildDkgSignerServer>>> = [];
  const urls: string[] = [];

  beforeAll(async () => {
    for (let i = 1; i <= n; i++) {
      const rec = recordingRng();
      draws.push(rec.draws);
      const tls = await tlsOf(state, `signer-${i}`);
      const app = await buildDkgSignerServer({
        identity: ids[i - 1]!,
        tls,
        allowedClients: ['coordinator'],
        rng: rec.rng,
        seal: (share, group) => sealDkgShare(join(state, 'signers', String(i), 'share.sealed'), share, group, { type: 'file', keyFile: join(state, 'signers', String(i), 'seal.key') }),
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      urls.push(`https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
      servers.push(app);
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  const signers = () => urls.map((url, i) => ({ name: `signer-${i + 1}`, url }));

  it('refuses a relay without the coordinator certificate', async () => {
    const relay = new DkgRelay({ signers: signers(), threshold: t, tls: await tlsOf(state, 'admin'), timeoutMs: 5_000 });
    await expect(relay.run()).rejects.toThrow(/failed in round 1 .*: signer-\d refused: client certificate is not allowed to call this signer \[forbidden\]/);
    await relay.close();
  });

  it('tampering with a relayed encrypted package fails the ceremony with a clear error', async () => {
    for (const d of draws) d.length = 0;
    const relay = new DkgRelay({
      signers: signers(),
      threshold: t,
      tls: await tlsOf(state, 'coordinator'),
      tamper: (step, signer, body) => {
        if (step === 'round3' && signer === 'signer-3') {
          const e = (body.packages as DkgEnvelope[]).find((x) => x.sender === 2)!;
          e.ciphertext = flip(e.ciphertext, 0);
        }
        return body;
      },
    });
    const err = await relay.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    await relay.close();
    expect(err).toBeInstanceOf(DkgRelayError);
    expect((err as DkgRelayError).message).toMatch(
      /failed in round 3 \(decrypt, verify, key share\): signer-3 refused: the round-2 package from signer-2 failed authenticated decryption at signer-3: it was modified in transit or not sealed by signer-2 for signer-3 \[decrypt_failed\]/,
    );
    expect((err as DkgRelayError).signer).toBe('signer-3');
    expect((err as DkgRelayError).reason).toBe('decrypt_failed');
    expect((err as DkgRelayError).code).toBe('signer_refused');
    // The relay told every signer to drop the ceremony.
    expect(
      relay.transcript
        .filter((x) => x.step === 'abort')
        .map((x) => x.signer)
        .sort(),
    ).toEqual(['signer-1', 'signer-2', 'signer-3']);
  });

  it("a relay swapping signer-3's round-1 package for signer-1 only is detected at once", async () => {
    const forgerKey = (await tlsOf(state, 'relay-forger')).key;
    let forged: DkgRound1Package | undefined;
    const relay = new DkgRelay({
      signers: signers(),
      threshold: t,
      tls: await tlsOf(state, 'coordinator'),
      tamper: (step, signer, body) => {
        if (step === 'round2' && signer === 'signer-1') {
          const set = body.round1 as DkgRound1Package[];
          forged ??= { ...new DkgParticipant({ ceremony: set[2]!.ceremony, threshold: t, signers: n, identity: { ...ids[2]!, privateKey: forgerKey } }).round1(), certificate: set[2]!.certificate };
          set[2] = forged;
        }
        return body;
      },
    });
    await expect(relay.run()).rejects.toThrow(/signer-1 refused: round-1 package of signer-3: the signature does not verify under signer-3's certificate .*\[round1_invalid\]/);
    await relay.close();
  });

  it('a 2-of-3 ceremony: group.json data, sealed shares, and a transcript without a single secret', async () => {
    for (const d of draws) d.length = 0;
    const log: string[] = [];
    const relay = new DkgRelay({ signers: signers(), threshold: t, tls: await tlsOf(state, 'coordinator'), log: (l) => log.push(l) });
    const result = await relay.run();
    await relay.close();
    const group = result.group;
    expect(group).toMatchObject({ ciphersuite: 'FROST-ED25519-SHA512-v1', threshold: 2, signers: 3 });
    expect(group.commitments[0]).toBe(group.group_public_key);
    expect(log.join('\n')).toMatch(/round 1[\s\S]*✓ signer-1[\s\S]*round 2[\s\S]*round 3[\s\S]*confirmation[\s\S]*sealed its share/);

    // What each signer holds, from the test's side: the unsealed shares …
    const shares = [];
    for (let i = 1; i <= n; i++) {
      const s = await unsealShare(join(state, 'signers', String(i), 'share.sealed'));
      expect(s.groupPublicKey).toBe(group.group_public_key);
      expect(b64url(ed25519.Point.BASE.multiply(bytesToNumberLE(s.signingShare)).toBytes())).toBe(group.verifying_shares[s.identifier]);
      shares.push(s);
    }
    // … and each signer's secret polynomial and PoK nonce, recovered from the randomness noble drew.
    const secrets: Record<string, Uint8Array> = {};
    const polys: bigint[][] = [];
    const r1 = relay.transcript
      .filter((x) => x.step === 'round1')
      .map((x) => (x.response as { package: DkgRound1Package }).package)
      .sort((a, b) => a.index - b.index);
    for (let i = 0; i < n; i++) {
      const scalars = scalarsFrom(draws[i]!);
      expect(scalars).toHaveLength(t + 1); // a_i0 … a_i(t-1), then the proof-of-knowledge nonce
      const coefficients = scalars.slice(0, t);
      // The recovery is right: the coefficients are what the signer committed to.
      expect(coefficients.map((c) => b64url(ed25519.Point.BASE.multiply(c).toBytes()))).toEqual(r1[i]!.commitment);
      polys.push(coefficients);
      coefficients.forEach((c, k) => (secrets[`signer-${i + 1} coefficient a${k}`] = scalarBytes(c)));
      secrets[`signer-${i + 1} proof-of-knowledge nonce`] = scalarBytes(scalars[t]!);
      for (let j = 1; j <= n; j++) if (j !== i + 1) secrets[`round-2 plaintext f_${i + 1}(${j})`] = scalarBytes(polyEval(coefficients, BigInt(j)));
    }
    for (const [i, s] of shares.entries()) secrets[`signing share of signer-${i + 1}`] = s.signingShare;
    const groupSecret = polys.reduce((acc, p) => (acc + p[0]!) % ORDER, 0n);
    secrets['group secret key'] = scalarBytes(groupSecret);
    expect(b64url(ed25519.Point.BASE.multiply(groupSecret).toBytes())).toBe(group.group_public_key);
    for (let i = 1; i <= n; i++) secrets[`seal.key of signer-${i}`] = new Uint8Array(await readFile(join(state, 'signers', String(i), 'seal.key')));
    // Each signer's final share is the sum of the plaintexts it received plus its own f_i(i).
    for (const [i, s] of shares.entries()) {
      expect(bytesToNumberLE(s.signingShare)).toBe(polys.reduce((acc, p) => (acc + polyEval(p, BigInt(i + 1))) % ORDER, 0n));
    }

    expect(relay.transcript.length).toBe(4 * n);
    expect(findSecrets(relay.transcript, secrets)).toEqual([]);
    // The check is not vacuous: a transcript that leaked one would be caught.
    expect(findSecrets([...relay.transcript, { leak: b64url(shares[1]!.signingShare) }], secrets)).toEqual(['signing share of signer-2']);
    expect(findSecrets({ leak: Buffer.from(secrets['round-2 plaintext f_1(2)']!).toString('hex') }, secrets)).toEqual(['round-2 plaintext f_1(2)']);
    for (const s of shares) s.signingShare.fill(0);
  });
});
