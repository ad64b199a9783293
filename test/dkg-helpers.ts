// Shared by the DKG tests: a local PKI, recorded randomness (to recover each signer's secret
// polynomial in-process), and the check that no secret appears anywhere in a relay transcript.
import { ed25519 } from '@noble/curves/ed25519.js';
import { getMinHashLength, mapHashToField } from '@noble/curves/abstract/modular.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLocalPki } from '../pki/local-pki.js';
import type { DkgIdentity } from '../signers/dkg.js';

export const ORDER = ed25519.Point.Fn.ORDER;

export async function makePki(signers: number, extra: Array<{ name: string; role: 'server' | 'client' | 'both' }> = []): Promise<string> {
  const state = await mkdtemp(join(tmpdir(), 'ztmint-dkg-'));
  await writeLocalPki(join(state, 'tls'), [
    { name: 'coordinator', role: 'both' },
    { name: 'admin', role: 'client' },
    ...Array.from({ length: signers }, (_, i) => ({ name: `signer-${i + 1}`, role: 'server' as const })),
    ...extra,
  ]);
  return state;
}

export async function tlsOf(state: string, name: string) {
  const dir = join(state, 'tls');
  return {
    key: await readFile(join(dir, `${name}-key.pem`), 'utf8'),
    cert: await readFile(join(dir, `${name}.pem`), 'utf8'),
    ca: await readFile(join(dir, 'ca.pem'), 'utf8'),
  };
}

export async function identityOf(state: string, index: number): Promise<DkgIdentity> {
  const t = await tlsOf(state, `signer-${index}`);
  return { index, certificate: t.cert, privateKey: t.key, ca: t.ca };
}

/** An rng for noble's DKG.round1 that records what it hands out. */
export function recordingRng() {
  const draws: Uint8Array[] = [];
  const rng = (n = 32) => {
    const b = new Uint8Array(randomBytes(n));
    draws.push(b.slice());
    return b;
  };
  return { rng, draws };
}

/** noble's randomScalar over recorded draws (abstract/frost.js): the scalars round 1 drew. */
export function scalarsFrom(draws: Uint8Array[]): bigint[] {
  const need = getMinHashLength(ORDER);
  return draws.map((d) => {
    if (d.length !== need) throw new Error(`unexpected draw of ${d.length} bytes`);
    return bytesToNumberLE(mapHashToField(d, ORDER, true));
  });
}

export function scalarBytes(s: bigint): Uint8Array {
  return numberToBytesLE(((s % ORDER) + ORDER) % ORDER, 32);
}

export function polyEval(coefficients: bigint[], x: bigint): bigint {
  return coefficients.reduceRight((acc, c) => (acc * x + c) % ORDER, 0n);
}

/** Every string in a JSON value. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  }
  return out;
}

/** Byte views a string could be carrying: base64url/base64, hex, PEM bodies. */
function decodings(s: string): Buffer[] {
  const out: Buffer[] = [Buffer.from(s)];
  const compact = s.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  if (/^[A-Za-z0-9_-]+$/.test(compact)) out.push(Buffer.from(compact, 'base64url'));
  if (/^[A-Za-z0-9+/=]+$/.test(compact)) out.push(Buffer.from(compact, 'base64'));
  if (/^[0-9a-fA-F]+$/.test(compact) && compact.length % 2 === 0) out.push(Buffer.from(compact, 'hex'));
  return out;
}

/**
 * Fails if any secret (32-byte scalars, little-endian as FROST serializes them; big-endian too)
 * appears in `transcript`: as bytes inside any decoded string, or as hex, base64(url) or decimal text.
 */
export function findSecrets(transcript: unknown, secrets: Record<string, Uint8Array>): string[] {
  const text = JSON.stringify(transcript);
  const views = strings(transcript).flatMap(decodings);
  const found: string[] = [];
  for (const [label, secret] of Object.entries(secrets)) {
    const le = Buffer.from(secret);
    const be = Buffer.from(secret).reverse();
    const forms = [le, be].flatMap((b) => [b.toString('hex'), b.toString('base64url'), b.toString('base64').replace(/=+$/, '')]);
    forms.push(bytesToNumberLE(secret).toString(10));
    if (forms.some((f) => text.includes(f)) || views.some((v) => v.includes(le) || v.includes(be))) found.push(label);
  }
  return found;
}
