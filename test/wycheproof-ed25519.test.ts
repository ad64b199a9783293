// Wycheproof's Ed25519 verification vectors (C2SP/wycheproof testvectors_v1/ed25519_test.json, copied
// to test/vectors/wycheproof/, see test/vectors/SOURCES.md) through both Ed25519 checks an aggregate
// passes before a token leaves the coordinator: libsodium's crypto_sign_verify_detached (the default
// check inside protocol/frost/sign.ts `aggregate`) and node:crypto's `verifyEd25519`
// (protocol/jwk.ts, the coordinator's independent check). Malleable, non-canonical, truncated and
// overlong signatures must be refused by both, or a forged aggregate could pass invariant I1.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sodium } from '../protocol/frost/sodium.js';
import { ed25519PublicKey, verifyEd25519 } from '../protocol/jwk.js';

interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid';
}

const file = JSON.parse(readFileSync(new URL('vectors/wycheproof/ed25519_test.json', import.meta.url), 'utf8')) as {
  algorithm: string;
  numberOfTests: number;
  testGroups: { publicKey: { pk: string }; tests: WycheproofTest[] }[];
};

const cases = file.testGroups.flatMap((group) => group.tests.map((test) => ({ pk: group.publicKey.pk, ...test })));

/** sodium-native throws on a signature shorter than 64 bytes rather than answering false. */
function sodiumVerifies(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  try {
    return sodium.crypto_sign_verify_detached(sig, msg, pk);
  } catch {
    return false;
  }
}

describe('Wycheproof Ed25519 vectors', () => {
  it('holds every test of the file', () => {
    expect(file.algorithm).toBe('EDDSA');
    expect(cases).toHaveLength(file.numberOfTests);
    expect(cases.filter((c) => c.result === 'valid').length).toBeGreaterThan(0);
    expect(cases.filter((c) => c.result === 'invalid').length).toBeGreaterThan(0);
  });

  it('node:crypto (the coordinator check) gives the expected result on every test', () => {
    const wrong = cases.filter((c) => {
      const key = ed25519PublicKey(Buffer.from(c.pk, 'hex').toString('base64url'));
      return verifyEd25519(key, Buffer.from(c.msg, 'hex'), Buffer.from(c.sig, 'hex')) !== (c.result === 'valid');
    });
    expect(wrong.map((c) => `${c.tcId} ${c.comment}`)).toEqual([]);
  });

  // `aggregate` hands libsodium the 64 bytes R || z it assembled itself; sodium-native reads the
  // first 64 bytes of a longer buffer, so overlong signatures are outside what it is asked.
  it('libsodium (the aggregate check) gives the expected result on every 64-byte signature', () => {
    const sized = cases.filter((c) => c.sig.length === 128);
    expect(sized.length).toBeGreaterThan(cases.length / 2);
    const wrong = sized.filter((c) => {
      const ok = sodiumVerifies(Buffer.from(c.sig, 'hex'), Buffer.from(c.msg, 'hex'), Buffer.from(c.pk, 'hex'));
      return ok !== (c.result === 'valid');
    });
    expect(wrong.map((c) => `${c.tcId} ${c.comment}`)).toEqual([]);
  });
});
