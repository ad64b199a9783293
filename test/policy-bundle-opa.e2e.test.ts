// Signed policy bundles against the real OPA CLI, both directions: bundles `opa build --signing-key`
// makes (ES256 and RS256, with data that exercises OPA's structured digest: HTML characters, U+2028,
// non-ASCII, number literals) verify and evaluate here as our wasm does; bundles `ztmint policy
// bundle` makes (buildPolicyBundle) verify in `opa build --verification-key` and `opa inspect`
// reads their revision; a tampered one is refused by both. Starts the OPA CLI, so e2e.
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundleArchive, writeBundleArchive } from '../policy-engine/bundle-archive.js';
import { loadAdminKey } from '../policy-engine/bundle-signature.js';
import { buildPolicyBundle, readPolicyBundle } from '../policy-engine/bundle.js';
import { DATA, OPA, REGO, WASM, decide, load, mainClaims, prodClaims, readJson } from './helpers/policy-fixtures.js';
import { toolAvailable } from './helpers/tools.js';

const haveOpa = toolAvailable('the OPA CLI at .opa/bin/opa', existsSync(OPA));
const OPA_TIMEOUT_MS = 110_000;

function keyPair(dir: string, name: string, type: 'ec' | 'rsa') {
  const { privateKey, publicKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const priv = join(dir, `${name}.pem`);
  const pub = join(dir, `${name}.pub.pem`);
  writeFileSync(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return { priv, pub };
}

// Data that makes a naive digest differ from OPA's: a float literal, HTML characters, U+2028, non-ASCII.
const trickyData = () => {
  const data = readJson(DATA) as { grants: Array<Record<string, unknown>> };
  data.grants[0]!.description = 'deploy <canary> & "quoted" \u2028 line, café, ☃';
  return JSON.stringify(data, null, 2).replace('"max_ttl": 1800', '"max_ttl": 1800.0');
};

describe.skipIf(!haveOpa)('signed bundles with the real OPA CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztmint-opa-bundle-'));

  for (const [type, alg] of [
    ['ec', 'ES256'],
    ['rsa', 'RS256'],
  ] as const) {
    it(`accepts a bundle built and signed by opa build (${alg}) and decides as our wasm`, async () => {
      const keys = keyPair(dir, `opa-${type}`, type);
      const src = join(dir, `src-${type}`);
      mkdirSync(join(src, 'ztmint'), { recursive: true });
      writeFileSync(join(src, 'mint.rego'), readFileSync(REGO));
      writeFileSync(join(src, 'ztmint', 'data.json'), trickyData());
      const out = join(dir, `opa-${type}.tar.gz`);
      execFileSync(OPA, ['build', '-b', '-t', 'wasm', '-e', 'ztmint/mint/decision', src, '--signing-key', keys.priv, '--signing-alg', alg, '--revision', `opa-${alg}`, '-o', out], {
        stdio: 'pipe',
        timeout: OPA_TIMEOUT_MS,
      });
      const verified = await readPolicyBundle(readFileSync(out), [await loadAdminKey(keys.pub)]);
      expect(verified.policy.revision).toBe(`opa-${alg}`);
      expect(verified.keyId).toBe('default');
      const ours = await load(JSON.parse(trickyData()));
      for (const [claims, scopes] of [
        [mainClaims, ['deploy:canary']],
        [prodClaims, ['deploy:prod']],
        [{ ...mainClaims, ref: 'refs/heads/dev' }, ['deploy:canary']],
      ] as const) {
        expect(verified.policy.evaluate(claims, { scopes: [...scopes] })).toEqual(decide(ours, { claims, request: { scopes } }));
      }
      // and the same bundle under a key that is not a policy admin is refused
      const stranger = keyPair(dir, `stranger-${type}`, type);
      await expect(readPolicyBundle(readFileSync(out), [await loadAdminKey(stranger.pub)])).rejects.toMatchObject({ code: 'bundle_signature_invalid' });
    }, 120_000);
  }

  it('our bundles verify in opa build --verification-key and opa inspect shows the revision; tampered ones fail there too', async () => {
    const keys = keyPair(dir, 'ours', 'ec');
    const gz = await buildPolicyBundle({ wasm: readFileSync(WASM), data: JSON.parse(trickyData()), revision: 'ours-1', signingKeyPem: readFileSync(keys.priv, 'utf8') });
    const file = join(dir, 'ours.tar.gz');
    writeFileSync(file, gz);
    execFileSync(OPA, ['build', '-b', file, '--verification-key', keys.pub, '--signing-alg', 'ES256', '-o', join(dir, 'ours-verified.tar.gz')], { stdio: 'pipe', timeout: OPA_TIMEOUT_MS });
    const inspected = JSON.parse(execFileSync(OPA, ['inspect', '--format', 'json', file], { encoding: 'utf8', timeout: OPA_TIMEOUT_MS })) as { manifest: { revision: string } };
    expect(inspected.manifest.revision).toBe('ours-1');

    const files = await readBundleArchive(gz);
    files.set('data.json', Buffer.from(JSON.stringify({ ztmint: { ...(readJson(DATA) as object), scopes: ['deploy:prod'] } })));
    const tampered = join(dir, 'tampered.tar.gz');
    writeFileSync(tampered, await writeBundleArchive(files));
    const opa = spawnSync(OPA, ['build', '-b', tampered, '--verification-key', keys.pub, '--signing-alg', 'ES256', '-o', join(dir, 'x.tar.gz')], { encoding: 'utf8', timeout: OPA_TIMEOUT_MS });
    expect(opa.status).not.toBe(0);
    expect(`${opa.stdout}${opa.stderr}`).toMatch(/digest mismatch/);
    await expect(readPolicyBundle(readFileSync(tampered), [await loadAdminKey(keys.pub)])).rejects.toMatchObject({ code: 'bundle_digest_mismatch' });
  }, 120_000);
});
