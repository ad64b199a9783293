// `ztmint dkg` end to end with real processes over mTLS: the PKI (`ztmint dkg --pki-only`), three
// `ztmint signer dkg-serve` processes, the relay (in this process for the malicious-relay cases,
// `ztmint dkg --signer …` for the real one), then `ztmint dev` on that state dir mints a token
// that verifies against the JWKS. Nothing the relay sent or received holds a share or the group
// secret (compared with what the test unseals from each signer's share.sealed at the end).
// Signer 2 seals its share with the pkcs11 key provider (a SoftHSM2 token, AES-GCM mode), the
// others with the default file provider.
import { ed25519, ed25519_FROST as frost } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DkgRelay, type RelayExchange } from '../coordinator/dkg-relay.js';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { b64url, fromB64url } from '../protocol/encoding.js';
import { DkgParticipant, type DkgEnvelope, type DkgRound1Package } from '../signers/dkg.js';
import { unsealShare, type UnsealedShare } from '../signers/sealed-share.js';
import { findSecrets, identityOf, tlsOf } from './dkg-helpers.js';
import { DEV_STACK_READY_TIMEOUT_MS, READY_TIMEOUT_MS, readyLine, stopChild } from './helpers/child-process.js';
import { CLI } from './helpers/dev-stack.js';
import { createSoftHsmToken, type SoftHsmToken } from './helpers/softhsm.js';

// Every wait below is bounded, and each bound is shorter than the test's own timeout, so that a hang
// fails with a message naming what hung (not a bare vitest timeout that leaves the ceremony running
// into the next test). Generous: this file runs on a machine shared with other test files.
const execFileAsync = promisify(execFile);
/** One `ztmint dkg …` command (PKI, a ceremony over mTLS, sealing): it kills its own signers when done. */
const CLI_TIMEOUT_MS = 150_000;
const run = (file: string, args: string[]) => execFileAsync(file, args, { timeout: CLI_TIMEOUT_MS, killSignal: 'SIGKILL' });
/** Per relay request in this process (the relay's default is 60 s, the test's timeout). */
const RELAY_TIMEOUT_MS = 30_000;
/** For tests that start processes or run whole ceremonies: above every bound they wait on. */
const PROCESS_TEST_TIMEOUT_MS = 300_000;
const HTTP_TIMEOUT_MS = 30_000;
let state: string;
const signers: Array<{ child: ChildProcess; url: string; pid: number; stderr: string; exit: Promise<number | null> }> = [];
let dev: ChildProcess | undefined;
let devOutput = '';
let token: SoftHsmToken;
let pkcs11Env: Record<string, string>;

async function startDkgSigner(index: number) {
  const seal = index === 2 ? ['--seal-to', 'pkcs11', '--module', token.module, '--token-label', token.label, '--key-label', 'dkg-seal'] : [];
  const child = spawn(process.execPath, [CLI, 'signer', 'dkg-serve', '--state', state, '--index', String(index), '--port', '0', '--expect-signers', '3', '--exit-when-done', ...seal], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ZTMINT_LOG_LEVEL: 'info', ...(index === 2 ? pkcs11Env : {}) },
  });
  const entry = { child, url: '', pid: child.pid!, stderr: '', exit: new Promise<number | null>((r) => child.once('exit', (code) => r(code))) };
  child.stderr!.on('data', (c: Buffer) => (entry.stderr += c.toString()));
  const ready = await readyLine<{ ready: boolean; url: string; mode: string; signer: string }>(child, `dkg signer ${index}`, () => entry.stderr, READY_TIMEOUT_MS);
  expect(ready).toMatchObject({ ready: true, mode: 'dkg', signer: `signer-${index}` });
  entry.url = ready.url;
  return entry;
}

const endpoints = () => signers.map((s, i) => ({ name: `signer-${i + 1}`, url: s.url }));
const noShares = () => [1, 2, 3].every((i) => !existsSync(join(state, 'signers', String(i), 'share.sealed')));

beforeAll(
  async () => {
    state = await mkdtemp(join(tmpdir(), 'ztmint-dkg-e2e-'));
    token = await createSoftHsmToken('ztmint-dkg', '135790');
    token.generateAesKey('dkg-seal', '01');
    pkcs11Env = { ...token.env, ZTMINT_PKCS11_PIN: token.pin };
    process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF; // for the test's own unseal
    const pki = await run(process.execPath, [CLI, 'dkg', '--state', state, '--signers', '3', '--pki-only', '--json']);
    expect(JSON.parse(pki.stdout)).toMatchObject({ pki: join(state, 'tls') });
    // Started together; the ones that did start are kept (afterAll stops them) even if another failed.
    const started = await Promise.allSettled([1, 2, 3].map(startDkgSigner));
    for (const r of started) if (r.status === 'fulfilled') signers.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  },
  CLI_TIMEOUT_MS + READY_TIMEOUT_MS + 60_000,
);

afterAll(async () => {
  if (dev) await stopChild(dev, 'ztmint dev');
  await Promise.all(signers.map((s, i) => stopChild(s.child, `dkg signer ${i + 1}`, 0)));
  await rm(state, { recursive: true, force: true });
  await token?.cleanup();
}, 60_000);

describe('ztmint dkg across three signer processes', () => {
  let savedRound1: DkgRound1Package | undefined;

  it(
    'a relay that tampers with an encrypted round-2 package: the ceremony fails with a clear error, nothing is sealed',
    async () => {
      const relay = new DkgRelay({
        signers: endpoints(),
        threshold: 2,
        tls: await tlsOf(state, 'coordinator'),
        timeoutMs: RELAY_TIMEOUT_MS,
        tamper: (step, signer, body) => {
          if (step === 'round3' && signer === 'signer-2') {
            const e = (body.packages as DkgEnvelope[]).find((x) => x.sender === 1)!;
            const c = fromB64url(e.ciphertext);
            c[7]! ^= 0x80;
            e.ciphertext = b64url(c);
          }
          return body;
        },
      });
      await expect(relay.run()).rejects.toThrow(
        /failed in round 3 \(decrypt, verify, key share\): signer-2 refused: the round-2 package from signer-1 failed authenticated decryption at signer-2: it was modified in transit or not sealed by signer-1 for signer-2 \[decrypt_failed\]/,
      );
      await relay.close();
      savedRound1 = (relay.transcript.find((x) => x.step === 'round1' && x.signer === 'signer-3')!.response as { package: DkgRound1Package }).package;
      expect(noShares()).toBe(true);
      expect(signers[1]!.stderr).toMatch(/DKG aborted: the round-2 package from signer-1 failed authenticated decryption/);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'a relay that gives signer-1 another round-1 set than the others is detected (forged, or replayed from another ceremony)',
    async () => {
      const forgerKey = (await tlsOf(state, 'admin')).key; // a key the relay's operator might hold
      const identity3 = await identityOf(state, 3);
      for (const variant of ['forged', 'replayed'] as const) {
        const relay = new DkgRelay({
          signers: endpoints(),
          threshold: 2,
          tls: await tlsOf(state, 'coordinator'),
          timeoutMs: RELAY_TIMEOUT_MS,
          tamper: (step, signer, body) => {
            if (step === 'round2' && signer === 'signer-1') {
              const set = body.round1 as DkgRound1Package[];
              set[2] =
                variant === 'forged'
                  ? { ...new DkgParticipant({ ceremony: set[2]!.ceremony, threshold: 2, signers: 3, identity: { ...identity3, privateKey: forgerKey } }).round1(), certificate: set[2]!.certificate }
                  : savedRound1!;
            }
            return body;
          },
        });
        const expected =
          variant === 'forged'
            ? /failed in round 2 \(transcript, encrypted shares\): signer-1 refused: round-1 package of signer-3: the signature does not verify under signer-3's certificate \(forged or modified in transit\) \[round1_invalid\]/
            : /failed in round 2 \(transcript, encrypted shares\): signer-1 refused: round-1 package of signer-3 belongs to ceremony [\w-]+, not [\w-]+ \[round1_invalid\]/;
        await expect(relay.run()).rejects.toThrow(expected);
        await relay.close();
        expect(noShares()).toBe(true);
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  let group: GroupInfo;
  let transcript: { ceremony: string; exchanges: RelayExchange[] };
  const shares: UnsealedShare[] = [];

  it(
    '2-of-3 via `ztmint dkg --signer …`: each signer seals its share and exits, the relay writes group.json',
    async () => {
      const transcriptFile = join(state, 'dkg-transcript.json');
      const { stdout } = await run(process.execPath, [
        CLI,
        'dkg',
        '--state',
        state,
        '--threshold',
        '2',
        '--transcript',
        transcriptFile,
        '--json',
        ...endpoints().flatMap((e) => ['--signer', `${e.name}=${e.url}`]),
      ]);
      const result = JSON.parse(stdout) as { ceremony: string; group_public_key: string; signers: Array<{ name: string; sealed: { path: string; provider: { type: string } } }> };
      expect(await Promise.all(signers.map((s) => s.exit))).toEqual([0, 0, 0]);

      group = JSON.parse(await readFile(join(state, 'group.json'), 'utf8')) as GroupInfo;
      expect(Object.keys(group).sort()).toEqual(['ciphersuite', 'commitments', 'group_public_key', 'identifiers', 'signers', 'threshold', 'verifying_shares']);
      expect(group).toMatchObject({ ciphersuite: 'FROST-ED25519-SHA512-v1', threshold: 2, signers: 3, group_public_key: result.group_public_key });
      expect(group.commitments).toHaveLength(2);
      expect(group.commitments[0]).toBe(group.group_public_key);
      expect(result.signers.map((s) => [s.name, s.sealed.path, s.sealed.provider.type])).toEqual(
        [1, 2, 3].map((i) => [`signer-${i}`, join(state, 'signers', String(i), 'share.sealed'), i === 2 ? 'pkcs11' : 'file']),
      );

      for (let i = 1; i <= 3; i++) {
        const share = await unsealShare(join(state, 'signers', String(i), 'share.sealed'), { env: { ...process.env, ...pkcs11Env } });
        expect(share.groupPublicKey).toBe(group.group_public_key);
        expect(share.identifier).toBe(group.identifiers[i - 1]);
        expect(b64url(ed25519.Point.BASE.multiply(bytesToNumberLE(share.signingShare)).toBytes())).toBe(group.verifying_shares[share.identifier]);
        shares.push(share);
      }
      transcript = JSON.parse(await readFile(transcriptFile, 'utf8'));
      expect(transcript.ceremony).toBe(result.ceremony);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it('the relay never held a share: its transcript has no signing share, no group secret, only ciphertext for round 2', () => {
    const secrets: Record<string, Uint8Array> = {};
    for (const [i, s] of shares.entries()) secrets[`signing share of signer-${i + 1}`] = s.signingShare;
    const groupSecret = frost.combineSecret([shares[0]!, shares[2]!], { min: 2, max: 3 });
    expect(b64url(ed25519.Point.BASE.multiply(bytesToNumberLE(groupSecret)).toBytes())).toBe(group.group_public_key);
    secrets['group secret key'] = groupSecret;
    for (const i of [1, 3]) secrets[`seal.key of signer-${i}`] = new Uint8Array(readFileSync(join(state, 'signers', String(i), 'seal.key')));
    expect(existsSync(join(state, 'signers', '2', 'seal.key'))).toBe(false); // sealed inside the token
    expect(transcript.exchanges.map((x) => `${x.step}:${x.signer}:${x.status}`).sort()).toEqual(
      ['round1', 'round2', 'round3', 'finalize'].flatMap((s) => [1, 2, 3].map((i) => `${s}:signer-${i}:200`)).sort(),
    );
    expect(findSecrets(transcript, secrets)).toEqual([]);
    // The round-2 packages the relay carried: sealed 32-byte shares (ciphertext ‖ tag), nothing else.
    const envelopes = transcript.exchanges.filter((x) => x.step === 'round3').flatMap((x) => (x.request as { packages: DkgEnvelope[] }).packages);
    expect(envelopes).toHaveLength(6);
    for (const e of envelopes) {
      expect(Object.keys(e).sort()).toEqual(['ceremony', 'ciphertext', 'enc', 'nonce', 'recipient', 'sender', 'transcript', 'version']);
      expect(fromB64url(e.ciphertext)).toHaveLength(48);
    }
    // The logs of the DKG signers hold no secret either.
    expect(
      findSecrets(
        signers.map((s) => s.stderr),
        secrets,
      ),
    ).toEqual([]);
  });

  it(
    '`ztmint dev` on that state dir mints a token that verifies against the JWKS (the DKG group key)',
    async () => {
      dev = spawn(process.execPath, [CLI, 'dev', '--json', '--state', state], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...pkcs11Env } });
      dev.stderr!.on('data', (c: Buffer) => (devOutput += c.toString()));
      const ready = await readyLine(dev, 'ztmint dev', () => devOutput, DEV_STACK_READY_TIMEOUT_MS);
      expect(ready.state).toBe(state);
      const coordinator = ready.coordinator as string;
      const oidc = (await (
        await fetch(`${ready.issuer as string}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ aud: coordinator }),
          signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        })
      ).json()) as { value: string };
      const res = await fetch(`${coordinator}/v1/mint`, {
        method: 'POST',
        headers: { authorization: `Bearer ${oidc.value}`, 'content-type': 'application/json' },
        body: JSON.stringify({ scopes: ['deploy:canary'] }),
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
      const body = (await res.json()) as { token: string };
      expect(res.status).toBe(200);
      const jwks = (await (await fetch(ready.jwks as string, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) })).json()) as { keys: Array<{ x: string }> };
      expect(jwks.keys.map((k) => k.x)).toEqual([group.group_public_key]);
      const { payload } = await jwtVerify(body.token, createLocalJWKSet(jwks as never), { audience: 'https://deploy.example', algorithms: ['EdDSA'] });
      expect(payload.scope).toBe('deploy:canary');
      const [h, p, s] = body.token.split('.');
      expect(ed25519.verify(fromB64url(s!), new TextEncoder().encode(`${h}.${p}`), fromB64url(group.group_public_key))).toBe(true);
      for (const share of shares) share.signingShare.fill(0);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

describe('ztmint dkg with local signers (one command)', () => {
  it(
    'creates the PKI, runs 3 local DKG signers to completion, refuses to overwrite without --force',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ztmint-dkg-local-'));
      try {
        const first = await run(process.execPath, [CLI, 'dkg', '--state', dir, '--signers', '3', '--threshold', '2']);
        expect(first.stdout).toMatch(
          /local CA and 5 certificates[\s\S]*round 1 \(commitments, proofs of knowledge, encryption keys\)\n( {2}✓ signer-\d\n){3}round 2[\s\S]*transcript [0-9a-f]{64}[\s\S]*group key [\w-]{43}[\s\S]*signer-3 sealed its share[\s\S]*wrote .*group\.json/,
        );
        const group = JSON.parse(await readFile(join(dir, 'group.json'), 'utf8')) as GroupInfo;
        const again = await run(process.execPath, [CLI, 'dkg', '--state', dir]).then(
          () => null,
          (e: { code: number; stderr: string }) => e,
        );
        expect(again?.code).toBe(1);
        expect(again?.stderr).toMatch(/group\.json exists: this state already has a key set \(pass --force to replace it\)/);
        const forced = await run(process.execPath, [CLI, 'dkg', '--state', dir, '--force', '--json']);
        const result = JSON.parse(forced.stdout) as { group_public_key: string };
        expect(result.group_public_key).not.toBe(group.group_public_key);
        const check = await run(process.execPath, [CLI, 'signer', 'inspect', '--state', dir, '--index', '3', '--check', '--json']);
        expect(JSON.parse(check.stdout)).toMatchObject({ unseal: 'ok', group_public_key: result.group_public_key });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    2 * PROCESS_TEST_TIMEOUT_MS,
  );
});
