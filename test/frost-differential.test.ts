// Differential tests: the libsodium FROST(Ed25519, SHA-512) of protocol/ciphersuite.ts against
// @noble/curves' ed25519_FROST (exported there as `frost`) and against the RFC 9591 formulas
// written out below in BigInt, byte for byte, over thousands of seeded random sessions:
// same key shares + same nonce randomness → same nonces and commitments, same signature shares,
// same aggregate signature. Then the negative cases: tampered shares name the same culprits,
// invalid group elements are refused by both, spent or foreign nonces are refused.
//
// noble needs 30–50 ms per session (it re-validates every point with a full [L]P check), so by
// default every session is checked against the BigInt reference and noble's commit(), and every
// FULL_EVERY-th session against noble's signShare/aggregate too. Environment knobs:
//   FROST_DIFF_SESSIONS (default 2000), FROST_DIFF_FULL_EVERY (default 25; 1 = noble on all),
//   FROST_DIFF_SEED (default fixed; any string).
import { ed25519 } from '@noble/curves/ed25519.js';
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  aggregate,
  AggregationError,
  CIPHERSUITE,
  commit,
  commitmentFromWire,
  frost,
  identifierFromIndex,
  signShare,
  toFrostPublic,
  verifyShare,
  type GroupInfo,
  type Nonces,
  type SecretShare,
  type WireCommitment,
} from '../protocol/ciphersuite.js';
import { b64url, fromB64url, hex } from '../protocol/encoding.js';
import * as sodiumFrost from '../protocol/frost/sign.js';

const SESSIONS = Number(process.env.FROST_DIFF_SESSIONS ?? 2000);
const FULL_EVERY = Math.max(1, Number(process.env.FROST_DIFF_FULL_EVERY ?? 25));
const SEED = process.env.FROST_DIFF_SEED ?? 'ztmint frost differential v1';

// ---- deterministic randomness ----------------------------------------------------------------

/** SHA-512 counter-mode DRBG: reproducible streams from a label. */
class Drbg {
  private counter = 0;
  private pool = new Uint8Array(0);
  constructor(private readonly seed: string) {}
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.pool.length === 0) this.pool = new Uint8Array(createHash('sha512').update(`${this.seed}/${this.counter++}`).digest());
      const take = Math.min(n - filled, this.pool.length);
      out.set(this.pool.subarray(0, take), filled);
      this.pool = this.pool.subarray(take);
      filled += take;
    }
    return out;
  }
  /** Uniform enough for test choices: a 32-bit value mod max. */
  below(max: number): number {
    const b = this.bytes(4);
    return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) % max;
  }
  rng(): (n?: number) => Uint8Array {
    return (n = 32) => this.bytes(n);
  }
}

// ---- groups -----------------------------------------------------------------------------------

interface Fixture {
  name: string;
  group: GroupInfo;
  shares: Record<string, SecretShare>;
  pub: ReturnType<typeof toFrostPublic>;
}

function makeGroup(min: number, max: number, bigIds: boolean, seed: string): Fixture {
  const drbg = new Drbg(seed);
  const ids = Array.from({ length: max }, (_, i) => (bigIds ? frost.Identifier.derive(`${seed}/signer-${i}`) : identifierFromIndex(i + 1)));
  const deal = frost.trustedDealer({ min, max }, ids, undefined, drbg.rng());
  const group: GroupInfo = {
    ciphersuite: CIPHERSUITE,
    group_public_key: b64url(deal.public.commitments[0]!),
    threshold: min,
    signers: max,
    identifiers: ids,
    verifying_shares: Object.fromEntries(Object.entries(deal.public.verifyingShares).map(([id, v]) => [id, b64url(v)])),
    commitments: deal.public.commitments.map((c) => b64url(c)),
  };
  return { name: `${min}-of-${max}${bigIds ? ' (derived ids)' : ''}`, group, shares: deal.secretShares, pub: toFrostPublic(group) };
}

const FIXTURES: Fixture[] = [];
for (let g = 0; g < 4; g++) {
  FIXTURES.push(makeGroup(2, 3, g % 2 === 1, `${SEED}/group-2-3-${g}`));
  FIXTURES.push(makeGroup(3, 5, g % 2 === 1, `${SEED}/group-3-5-${g}`));
}

// ---- the RFC 9591 formulas, independently, in BigInt (noble only for fixed-base G·k) -------

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (n: bigint) => ((n % L) + L) % L;
const leToBig = (b: Uint8Array) => BigInt(`0x${hex(b.slice().reverse()) || '0'}`);
const bigToLe = (n: bigint) => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse());
const sha512 = (...parts: Uint8Array[]) => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const hashToScalar = (...parts: Uint8Array[]) => mod(leToBig(sha512(...parts)));
function inv(a: bigint): bigint {
  let [r0, r1, t0, t1] = [L, mod(a), 0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, t0, t1] = [r1, r0 - q * r1, t1, t0 - q * t1];
  }
  return mod(t0);
}

interface RefSigner {
  id: string;
  secret: bigint;
  hiding: bigint;
  binding: bigint;
  D: Uint8Array;
  E: Uint8Array;
}

function reference(gpk: Uint8Array, signers: RefSigner[], msg: Uint8Array) {
  const sorted = [...signers].sort((a, b) => {
    const x = leToBig(fromHexId(a.id));
    const y = leToBig(fromHexId(b.id));
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const encoded = sorted.flatMap((s) => [fromHexId(s.id), s.D, s.E]);
  const prefix = [gpk, sha512(ascii(`${CIPHERSUITE}msg`), msg), sha512(ascii(`${CIPHERSUITE}com`), ...encoded)];
  const k = new Map<string, bigint>();
  for (const s of sorted) {
    const rho = hashToScalar(ascii(`${CIPHERSUITE}rho`), ...prefix, fromHexId(s.id));
    k.set(s.id, mod(s.hiding + rho * s.binding));
  }
  // R = Σ (D_i + rho_i·E_i) = (Σ d_i + rho_i·e_i)·G
  const R = ed25519.Point.BASE.multiply(mod([...k.values()].reduce((a, b) => a + b, 0n))).toBytes();
  const c = hashToScalar(R, gpk, msg);
  const xs = sorted.map((s) => leToBig(fromHexId(s.id)));
  const shares = new Map<string, Uint8Array>();
  let z = 0n;
  for (const [i, s] of sorted.entries()) {
    let num = 1n;
    let den = 1n;
    for (const [j, x] of xs.entries()) {
      if (j === i) continue;
      num = mod(num * x);
      den = mod(den * (x - xs[i]!));
    }
    const zi = mod(k.get(s.id)! + mod(num * inv(den)) * c * s.secret);
    shares.set(s.id, bigToLe(zi));
    z = mod(z + zi);
  }
  const signature = new Uint8Array(64);
  signature.set(R);
  signature.set(bigToLe(z), 32);
  return { shares, signature };
}

const fromHexId = (id: string) => new Uint8Array(Buffer.from(id, 'hex'));

// ---- one session --------------------------------------------------------------------------------

interface Session {
  fixture: Fixture;
  signers: SecretShare[];
  /** Wire commitments in the (shuffled) order the coordinator sends them. */
  list: WireCommitment[];
  nonces: Map<string, Nonces>;
  nobleNonces: Map<string, Nonces>;
  message: Uint8Array;
}

function pickSigners(drbg: Drbg, fixture: Fixture, exact?: number): SecretShare[] {
  const pool = [...fixture.group.identifiers];
  const count = exact ?? fixture.group.threshold + drbg.below(fixture.group.signers - fixture.group.threshold + 1);
  const chosen: SecretShare[] = [];
  while (chosen.length < count) chosen.push(fixture.shares[pool.splice(drbg.below(pool.length), 1)[0]!]!);
  return chosen;
}

/** Round 1 on both sides with the same randomness; asserts equal nonces and commitments. */
function roundOne(drbg: Drbg, fixture: Fixture, exact?: number): Session {
  const signers = pickSigners(drbg, fixture, exact);
  const nonces = new Map<string, Nonces>();
  const nobleNonces = new Map<string, Nonces>();
  const list: WireCommitment[] = [];
  for (const s of signers) {
    const randomness = drbg.bytes(64);
    const scripted = () => {
      let used = 0;
      return (n = 32) => randomness.slice(used, (used += n));
    };
    const ours = commit(s, scripted());
    const theirs = frost.commit(s, scripted());
    expect(hex(ours.nonces.hiding)).toBe(hex(theirs.nonces.hiding));
    expect(hex(ours.nonces.binding)).toBe(hex(theirs.nonces.binding));
    expect(ours.commitment).toEqual({ identifier: s.identifier, hiding: b64url(theirs.commitments.hiding), binding: b64url(theirs.commitments.binding) });
    nonces.set(s.identifier, ours.nonces);
    nobleNonces.set(s.identifier, theirs.nonces);
    list.push(ours.commitment);
  }
  return { fixture, signers, list, nonces, nobleNonces, message: drbg.bytes(drbg.below(300)) };
}

function runSession(drbg: Drbg, fixture: Fixture, full: boolean): void {
  const session = roundOne(drbg, fixture);
  const { group, pub } = fixture;
  const { list, message } = session;

  // Reference: from the secret nonces, independently of both implementations.
  const ref = reference(
    fromB64url(group.group_public_key),
    session.signers.map((s) => {
      const n = session.nonces.get(s.identifier)!;
      const c = list.find((x) => x.identifier === s.identifier)!;
      return {
        id: s.identifier,
        secret: leToBig(s.signingShare),
        hiding: leToBig(n.hiding),
        binding: leToBig(n.binding),
        D: fromB64url(c.hiding),
        E: fromB64url(c.binding),
      };
    }),
    message,
  );

  const shares: Record<string, Uint8Array> = {};
  for (const s of session.signers) {
    const nonces = session.nonces.get(s.identifier)!;
    const z = signShare(s, group, nonces, list, message);
    expect(hex(z)).toBe(hex(ref.shares.get(s.identifier)!));
    expect(hex(nonces.hiding) + hex(nonces.binding)).toBe('0'.repeat(128)); // consumed
    shares[s.identifier] = z;
  }
  const signature = aggregate(group, list, message, shares);
  expect(hex(signature)).toBe(hex(ref.signature));

  if (full) {
    const nobleList = list.map(commitmentFromWire);
    const nobleShares: Record<string, Uint8Array> = {};
    for (const s of session.signers) {
      nobleShares[s.identifier] = frost.signShare(s, pub, session.nobleNonces.get(s.identifier)!, nobleList, message);
      expect(hex(shares[s.identifier]!)).toBe(hex(nobleShares[s.identifier]!));
    }
    expect(hex(frost.aggregate(pub, nobleList, message, nobleShares))).toBe(hex(signature));
    const first = session.signers[0]!.identifier;
    expect(verifyShare(group, list, message, first, shares[first]!)).toBe(true);
  }
}

// ---- tests ----------------------------------------------------------------------------------

describe('sodium FROST vs noble FROST and the RFC 9591 formulas', () => {
  const smallGroups = FIXTURES.filter((f) => f.group.threshold === 2);
  const largeGroups = FIXTURES.filter((f) => f.group.threshold === 3);

  it(`${Math.ceil(SESSIONS / 2)} random 2-of-3 sessions agree byte for byte`, () => {
    const drbg = new Drbg(`${SEED}/sessions-2-3`);
    for (let i = 0; i < Math.ceil(SESSIONS / 2); i++) runSession(drbg, smallGroups[i % smallGroups.length]!, i % FULL_EVERY === 0);
  }, 180_000);

  it(`${Math.floor(SESSIONS / 2)} random 3-of-5 sessions (3, 4 or 5 signers) agree byte for byte`, () => {
    const drbg = new Drbg(`${SEED}/sessions-3-5`);
    for (let i = 0; i < Math.floor(SESSIONS / 2); i++) runSession(drbg, largeGroups[i % largeGroups.length]!, i % FULL_EVERY === 0);
  }, 180_000);

  it('a tampered share: the aggregate fails in both and names the same culprits', () => {
    const drbg = new Drbg(`${SEED}/tampered`);
    for (let i = 0; i < 12; i++) {
      const fixture = FIXTURES[i % FIXTURES.length]!;
      const { signers, list, message, nonces } = roundOne(drbg, fixture);
      const shares: Record<string, Uint8Array> = {};
      for (const s of signers) shares[s.identifier] = signShare(s, fixture.group, nonces.get(s.identifier)!, list, message);
      // Tamper with one share, or two in the larger groups; stays a canonical scalar (low byte).
      const victims = signers.slice(0, fixture.group.threshold === 3 && i % 2 ? 2 : 1).map((s) => s.identifier);
      for (const id of victims) {
        const bad = shares[id]!.slice();
        bad[0]! ^= 1 + drbg.below(255);
        shares[id] = bad;
      }
      let ours: unknown;
      try {
        aggregate(fixture.group, list, message, shares);
      } catch (err) {
        ours = err;
      }
      let theirs: unknown;
      try {
        frost.aggregate(fixture.pub, list.map(commitmentFromWire), message, shares);
      } catch (err) {
        theirs = err;
      }
      expect(ours).toBeInstanceOf(AggregationError);
      const nobleCulprits = (theirs as { cheaters?: string[] }).cheaters;
      expect((ours as AggregationError).culprits).toEqual(nobleCulprits);
      expect([...(ours as AggregationError).culprits].sort()).toEqual(
        list
          .map((c) => c.identifier)
          .filter((id) => victims.includes(id))
          .sort(),
      );
      for (const s of signers) {
        const valid = !victims.includes(s.identifier);
        expect(verifyShare(fixture.group, list, message, s.identifier, shares[s.identifier]!)).toBe(valid);
        expect(frost.verifyShare(fixture.pub, list.map(commitmentFromWire), message, s.identifier, shares[s.identifier]!)).toBe(valid);
      }
    }
  });

  it('a share that is not a canonical scalar is named as culprit (noble names no one)', () => {
    const fixture = FIXTURES[0]!;
    const { signers, list, message, nonces } = roundOne(new Drbg(`${SEED}/non-canonical-share`), fixture);
    const shares: Record<string, Uint8Array> = {};
    for (const s of signers) shares[s.identifier] = signShare(s, fixture.group, nonces.get(s.identifier)!, list, message);
    const cheater = signers[signers.length - 1]!.identifier;
    shares[cheater] = new Uint8Array(32).fill(0xff);
    expect(() => aggregate(fixture.group, list, message, shares)).toThrow(AggregationError);
    try {
      aggregate(fixture.group, list, message, shares);
    } catch (err) {
      expect((err as AggregationError).culprits).toEqual([cheater]);
    }
    expect(verifyShare(fixture.group, list, message, cheater, shares[cheater]!)).toBe(false);
    expect(() => frost.aggregate(fixture.pub, list.map(commitmentFromWire), message, shares)).toThrow();
  });

  describe('invalid group elements in commitments are refused by both', () => {
    const P = ed25519.Point;
    // A point of order 8 (torsion generator) and its multiples: every small-order point.
    const T8 = P.fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05');
    const smallOrder = Array.from({ length: 8 }, (_, i) => (i === 0 ? P.ZERO : T8.multiply(BigInt(i))));
    const valid = P.BASE.multiply(123456789n);
    const enc = (p: InstanceType<typeof P>) => p.toBytes();
    const bad: Array<[string, Uint8Array]> = [
      ['identity', enc(P.ZERO)],
      [
        'identity, sign bit set',
        (() => {
          const b = enc(P.ZERO);
          b[31]! |= 0x80;
          return b;
        })(),
      ],
      ...smallOrder.slice(1).map((p, i): [string, Uint8Array] => [`small order (${i + 1}·T8)`, enc(p)]),
      ['torsioned (P + T8)', enc(valid.add(T8))],
      ['torsioned (P + 4·T8)', enc(valid.add(smallOrder[4]!))],
      ['non-canonical y = p', bigToLe(2n ** 255n - 19n)],
      ['non-canonical y = p + 1', bigToLe(2n ** 255n - 18n)],
      [
        'not on the curve',
        (() => {
          const b = enc(valid);
          for (let i = 0; ; i++) {
            b[0] = i;
            if (!isOnCurve(b)) return b;
          }
        })(),
      ],
    ];

    function isOnCurve(b: Uint8Array): boolean {
      try {
        P.fromBytes(b);
        return true;
      } catch {
        return false;
      }
    }

    it.each(bad)('%s', (_name, point) => {
      const fixture = FIXTURES[0]!;
      for (const field of ['hiding', 'binding'] as const) {
        const session = roundOne(new Drbg(`${SEED}/bad/${_name}/${field}`), fixture, 2);
        const [me, other] = session.signers as [SecretShare, SecretShare];
        const list = session.list.map((c) => (c.identifier === other.identifier ? { ...c, [field]: b64url(point) } : c));
        expect(() => signShare(me, fixture.group, session.nonces.get(me.identifier)!, list, session.message)).toThrow();
        expect(() => frost.signShare(me, fixture.pub, session.nobleNonces.get(me.identifier)!, list.map(commitmentFromWire), session.message)).toThrow();
        // Refused, so not consumed: the honest list still signs.
        const z = signShare(me, fixture.group, session.nonces.get(me.identifier)!, session.list, session.message);
        expect(verifyShare(fixture.group, list, session.message, me.identifier, z)).toBe(false);
        expect(() => aggregate(fixture.group, list, session.message, { [me.identifier]: z, [other.identifier]: z })).toThrow(AggregationError);
        try {
          aggregate(fixture.group, list, session.message, { [me.identifier]: z, [other.identifier]: z });
        } catch (err) {
          expect((err as AggregationError).culprits).toEqual([]);
        }
      }
    });

    it('point validity agrees with noble on a corpus of encodings', () => {
      const drbg = new Drbg(`${SEED}/points`);
      const corpus: Uint8Array[] = bad.map(([, b]) => b);
      for (const t of smallOrder) {
        const b = enc(t);
        b[31]! ^= 0x80;
        corpus.push(b);
      }
      for (let i = 0; i < 60; i++) {
        const p = P.BASE.multiply(1n + leToBig(drbg.bytes(31)));
        const flipped = enc(p);
        flipped[31]! ^= 0x80;
        corpus.push(enc(p), flipped, enc(p.add(smallOrder[1 + drbg.below(7)]!)), drbg.bytes(32));
      }
      for (let y = 0n; y < 19n; y++) corpus.push(bigToLe(2n ** 255n - 19n + y));
      let rejected = 0;
      for (const b of corpus) {
        const nobleValid = (() => {
          try {
            const p = P.fromBytes(b);
            p.assertValidity();
            return !p.is0() && p.isTorsionFree();
          } catch {
            return false;
          }
        })();
        const fixture = FIXTURES[0]!;
        const ids = fixture.group.identifiers;
        const list = [
          { identifier: ids[0]!, hiding: b64url(b), binding: b64url(enc(valid)) },
          { identifier: ids[1]!, hiding: b64url(enc(valid)), binding: b64url(enc(valid)) },
        ];
        // verifyShare validates every element of the list before anything else can fail.
        let sodiumValid = true;
        try {
          verifyShareStrict(fixture.group, list);
        } catch {
          sodiumValid = false;
        }
        expect({ point: hex(b), valid: sodiumValid }).toEqual({ point: hex(b), valid: nobleValid });
        if (!nobleValid) rejected++;
      }
      expect(rejected).toBeGreaterThan(90);
      expect(corpus.length - rejected).toBeGreaterThan(90);
    });
  });

  it('refuses spent nonces and a commitment list that does not hold its own commitment', () => {
    const fixture = FIXTURES[1]!;
    const session = roundOne(new Drbg(`${SEED}/nonces`), fixture, fixture.group.threshold);
    const [me, other] = session.signers as [SecretShare, SecretShare];
    const mine = session.nonces.get(me.identifier)!;
    const theirs = session.nobleNonces.get(me.identifier)!;
    const swapped = session.list.map((c) => (c.identifier === me.identifier ? { ...c, hiding: c.binding, binding: c.hiding } : c));
    expect(() => signShare(me, fixture.group, mine, swapped, session.message)).toThrow(/incorrect signer commitment/);
    expect(() => frost.signShare(me, fixture.pub, theirs, swapped.map(commitmentFromWire), session.message)).toThrow(/incorrect signer commitment/);
    const missing = session.list.filter((c) => c.identifier !== me.identifier);
    missing.push(commit(fixture.shares[fixture.group.identifiers.find((id) => !session.list.some((c) => c.identifier === id))!]!).commitment);
    expect(() => signShare(me, fixture.group, mine, missing, session.message)).toThrow(/missing signer commitment/);
    // A copy of the nonces (no round-1 record) works the same way as the original.
    const copy = { hiding: mine.hiding.slice(), binding: mine.binding.slice() };
    const z = signShare(me, fixture.group, copy, session.list, session.message);
    expect(hex(z)).toBe(hex(frost.signShare(me, fixture.pub, theirs, session.list.map(commitmentFromWire), session.message)));
    expect(() => signShare(me, fixture.group, copy, session.list, session.message)).toThrow(/already used/);
    // Nonces changed after round 1 are not trusted to match the recorded commitment.
    mine.hiding[0]! ^= 1;
    expect(() => signShare(me, fixture.group, mine, session.list, session.message)).toThrow(/incorrect signer commitment/);
    expect(other.identifier).not.toBe(me.identifier);
  });

  it('a signature from the sodium path verifies with node:crypto (OpenSSL)', () => {
    const fixture = FIXTURES[3]!;
    const { signers, list, message, nonces } = roundOne(new Drbg(`${SEED}/openssl`), fixture);
    const shares: Record<string, Uint8Array> = {};
    for (const s of signers) shares[s.identifier] = signShare(s, fixture.group, nonces.get(s.identifier)!, list, message);
    const signature = aggregate(fixture.group, list, message, shares);
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: fixture.group.group_public_key }, format: 'jwk' });
    expect(edVerify(null, message, key, signature)).toBe(true);
  });
});

/** Throws if any element of the list is invalid (the sodium verifyShare decodes and validates all). */
function verifyShareStrict(group: GroupInfo, list: WireCommitment[]): void {
  sodiumFrost.verifyShare(group, list, new Uint8Array(0), list[0]!.identifier, new Uint8Array(32));
}
