// Signed OPA policy bundles in process: built and signed in JS, verified against policy-admin keys
// (tampered file, wrong key, missing or extra files, HMAC all refused), OPA's structured-file
// digest, and the bundle set behind staged rollouts (revisions file, refused bundles keep what is in
// force). Interop with the real OPA CLI is test/policy-bundle-opa.e2e.test.ts; live processes are
// test/policy-rollout.e2e.test.ts.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { readBundleArchive, writeBundleArchive } from '../policy-engine/bundle-archive.js';
import { BundlePolicySet, parseRevisions } from '../policy-engine/bundle-set.js';
import { loadAdminKey, SIGNATURES_FILE, type AdminKey } from '../policy-engine/bundle-signature.js';
import { buildPolicyBundle, readPolicyBundle } from '../policy-engine/bundle.js';
import { opaFileHash } from '../policy-engine/opa-file-hash.js';
import { DATA, WASM, mainClaims, readJson } from './helpers/policy-fixtures.js';

function ecKeyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { priv: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, pub: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

let dir: string;
let admin: ReturnType<typeof ecKeyPair>;
let other: ReturnType<typeof ecKeyPair>;
let adminKey: AdminKey;
let wasm: Buffer;
const data = readJson(DATA) as Record<string, unknown>;
const request = { scopes: ['deploy:canary'] };

const bundle = (revision: string, key = admin.priv, d: unknown = data) => buildPolicyBundle({ wasm, data: d, revision, signingKeyPem: key });

async function repack(gz: Buffer, edit: (files: Map<string, Uint8Array>) => void): Promise<Buffer> {
  const files = await readBundleArchive(gz);
  edit(files);
  return writeBundleArchive(files);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ztmint-bundle-'));
  admin = ecKeyPair();
  other = ecKeyPair();
  await writeFile(join(dir, 'admin.pub.pem'), admin.pub);
  adminKey = await loadAdminKey(join(dir, 'admin.pub.pem'));
  wasm = await readFile(WASM);
});

describe('signed policy bundle', () => {
  it('verifies and evaluates: the revision is the pol, the data sits under data.ztmint', async () => {
    const v = await readPolicyBundle(await bundle('rev-a'), [adminKey]);
    expect(v.policy.revision).toBe('rev-a');
    expect(v.policy.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(v.policy.evaluate(mainClaims, request).allow).toBe(true);
    expect(v.signedBy).toBe(join(dir, 'admin.pub.pem'));
  });

  it('refuses a tampered data.json (digest mismatch)', async () => {
    const gz = await repack(await bundle('rev-a'), (f) => f.set('data.json', Buffer.from(JSON.stringify({ ztmint: { ...data, scopes: ['deploy:prod'] } }))));
    await expect(readPolicyBundle(gz, [adminKey])).rejects.toMatchObject({ code: 'bundle_digest_mismatch' });
  });

  it('accepts a data.json re-serialised with other whitespace and key order (OPA hashes structure)', async () => {
    const gz = await repack(await bundle('rev-a'), (f) => {
      const doc = JSON.parse(Buffer.from(f.get('data.json')!).toString()) as { ztmint: Record<string, unknown> };
      const reordered = Object.fromEntries(Object.entries(doc.ztmint).reverse());
      f.set('data.json', Buffer.from(JSON.stringify({ ztmint: reordered }, null, 2)));
    });
    expect((await readPolicyBundle(gz, [adminKey])).policy.revision).toBe('rev-a');
  });

  it('refuses a bundle signed by a key that is not a policy admin', async () => {
    await expect(readPolicyBundle(await bundle('rev-a', other.priv), [adminKey])).rejects.toMatchObject({ code: 'bundle_signature_invalid' });
  });

  it('refuses a bundle without .signatures.json', async () => {
    const gz = await repack(await bundle('rev-a'), (f) => f.delete(SIGNATURES_FILE));
    await expect(readPolicyBundle(gz, [adminKey])).rejects.toMatchObject({ code: 'bundle_unsigned' });
  });

  it('refuses an unsigned extra file and a signed file that is missing', async () => {
    const extra = await repack(await bundle('rev-a'), (f) => f.set('ztmint/data.json', Buffer.from('{"x":1}')));
    await expect(readPolicyBundle(extra, [adminKey])).rejects.toMatchObject({ code: 'bundle_file_unsigned' });
    const missing = await repack(await bundle('rev-a'), (f) => f.delete('data.json'));
    await expect(readPolicyBundle(missing, [adminKey])).rejects.toMatchObject({ code: 'bundle_file_missing' });
  });

  it('refuses HMAC signatures (a shared secret on every signer host would let any of them forge bundles)', async () => {
    const files = await readBundleArchive(await bundle('rev-a'));
    const signed = JSON.parse(Buffer.from(files.get(SIGNATURES_FILE)!).toString()) as { signatures: string[] };
    const payload = Buffer.from(signed.signatures[0]!.split('.')[1]!, 'base64url');
    const jws = await new CompactSign(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('secret'));
    files.set(SIGNATURES_FILE, Buffer.from(JSON.stringify({ signatures: [jws] })));
    await expect(readPolicyBundle(await writeBundleArchive(files), [adminKey])).rejects.toMatchObject({ code: 'bundle_signature_algorithm' });
  });

  it('refuses a revision that cannot be a pol claim', async () => {
    await expect(bundle('has space')).rejects.toMatchObject({ code: 'bundle_revision_invalid' });
  });

  it('hashes structured files as OPA does: keys sorted, number literals kept, no HTML escaping', () => {
    const a = opaFileHash('data.json', Buffer.from('{"b": [1.0, "<&>"], "a": {"y": null, "x": true}}'));
    const b = opaFileHash('data.json', Buffer.from('{"a":{"x":true,"y":null},"b":[1.0,"<&>"]}'));
    const c = opaFileHash('data.json', Buffer.from('{"a":{"x":true,"y":null},"b":[1,"<&>"]}'));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    // the walk's input for b is the compact text itself
    expect(b).toBe(opaFileHash('policy.wasm', Buffer.from('{"a":{"x":true,"y":null},"b":[1.0,"<&>"]}')));
  });
});

describe('bundle set (staged rollout)', () => {
  let bundles: string;
  let revisions: string;
  const logs: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  let set: BundlePolicySet;

  const writeAtomically = async (path: string, bytes: string | Buffer) => {
    await writeFile(`${path}.tmp`, bytes);
    await rename(`${path}.tmp`, path);
  };

  beforeAll(async () => {
    bundles = await mkdtemp(join(tmpdir(), 'ztmint-bundles-'));
    revisions = join(bundles, '..', `${bundles.split('/').pop()}-revisions`);
    await writeAtomically(join(bundles, 'a.tar.gz'), await bundle('A'));
    await writeAtomically(revisions, '# accepted\nA\n');
    set = await BundlePolicySet.load({ bundleDir: bundles, adminKeys: [join(dir, 'admin.pub.pem')], revisionsFile: revisions, log: (msg, fields) => logs.push({ msg, fields }) });
  });

  it('publish B → accept both → switch → retire A', async () => {
    expect(set.acceptedRevisions()).toEqual(['A']);
    await writeAtomically(join(bundles, 'b.tar.gz'), await bundle('B', admin.priv, { ...data, ttl: { default: 600, max: 3600 } }));
    await set.reload();
    expect(set.acceptedRevisions(), 'published but not listed: not accepted').toEqual(['A']);
    await writeAtomically(revisions, 'A\nB\n');
    expect(await set.reload()).toBe(true);
    expect(set.acceptedRevisions()).toEqual(['A', 'B']);
    expect(set.current.revision).toBe('A');
    expect(set.accepted('B')?.evaluate(mainClaims, request).ttl).toBe(600);
    await writeAtomically(revisions, 'B\nA\n');
    await set.reload();
    expect(set.current.revision).toBe('B');
    await writeAtomically(revisions, 'B\n');
    await set.reload();
    expect(set.acceptedRevisions()).toEqual(['B']);
    expect(set.accepted('A')).toBeUndefined();
  });

  it('refuses bad bundles, logs why, and keeps what is in force', async () => {
    const good = await bundle('C');
    await writeAtomically(join(bundles, 'c-tampered.tar.gz'), await repack(good, (f) => f.set('data.json', Buffer.from('{"ztmint":{}}'))));
    await writeAtomically(join(bundles, 'c-wrong-key.tar.gz'), await bundle('C', other.priv));
    await writeAtomically(join(bundles, 'c-unsigned.tar.gz'), await repack(good, (f) => f.delete(SIGNATURES_FILE)));
    await writeAtomically(revisions, 'C\nB\n');
    await set.reload();
    expect(set.acceptedRevisions()).toEqual(['B']);
    const refused = logs.filter((l) => l.msg === 'policy bundle refused').map((l) => [l.fields?.file, l.fields?.code]);
    expect(refused).toEqual(
      expect.arrayContaining([
        ['c-tampered.tar.gz', 'bundle_digest_mismatch'],
        ['c-unsigned.tar.gz', 'bundle_unsigned'],
        ['c-wrong-key.tar.gz', 'bundle_signature_invalid'],
      ]),
    );
    // overwriting a verified bundle with a tampered copy keeps the verified one
    await writeAtomically(join(bundles, 'b.tar.gz'), await repack(await bundle('B'), (f) => f.set('policy.wasm', Buffer.from('garbage'))));
    await set.reload();
    expect(set.current.revision).toBe('B');
    expect(logs.at(-1)).toMatchObject({ msg: 'policy bundle refused', fields: { file: 'b.tar.gz', kept: 'B' } });
    // a revisions file that would leave nothing accepted is refused
    await writeAtomically(revisions, 'C\n');
    expect(await set.reload()).toBe(false);
    expect(set.acceptedRevisions()).toEqual(['B']);
  });

  it('parses the revisions file: comments, blanks, duplicates; refuses junk', () => {
    expect(parseRevisions('# x\n\nA  # first\nB\nA\n', 'f')).toEqual(['A', 'B']);
    expect(() => parseRevisions('A B\n', 'f')).toThrow(/line 1/);
  });
});
