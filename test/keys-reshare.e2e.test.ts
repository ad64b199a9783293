// `ztmint keys reshare --threshold 3 --signers 5` against `ztmint dev --state DIR` (docs/keys.md):
// a 2-of-3 stack restarted with `--signers 5` (signers 4 and 5 join without a share); the reshare
// (the CLI, a child process) runs while two workers mint, none fails; afterwards the coordinator's
// key set is 3-of-5 with the same kid (JWKS unchanged, tokens before and after verify with it),
// with any 3 signers up it mints and with 2 it answers quorum_unavailable; on the unsealed shares
// any 3 sign a valid signature and no 2 do; key_reshared is audited.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identifierFromIndex } from '../protocol/ciphersuite.js';
import { unsealShare } from '../signers/sealed-share.js';
import { killPid } from './helpers/dev-stack.js';
import { iatOf, keySetGroup, mintLoad, restartableStack, signsValid, sleep, verifyingShareOf, ztmint } from './helpers/key-ceremony.js';

let state: string;
let dev: ReturnType<typeof restartableStack>;
const unlimited = '100000/min,10000'; // the load is about keys, not rate limits
const rates = ['--rate-repository', unlimited, '--rate-sub', unlimited];

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ztmint-keys-reshare-'));
  dev = restartableStack(state);
});
afterAll(async () => {
  await dev?.stop();
  await rm(state, { recursive: true, force: true });
});

const combinations = <T>(xs: T[], k: number): T[][] => (k === 0 ? [[]] : xs.flatMap((x, i) => combinations(xs.slice(i + 1), k - 1).map((c) => [x, ...c])));

async function jwks(): Promise<JSONWebKeySet> {
  const res = await fetch(dev.stack.jwks, { signal: AbortSignal.timeout(30_000) });
  return (await res.json()) as JSONWebKeySet;
}

async function mintsOk(times: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < times; i++) {
    const res = await dev.stack.mint(await dev.stack.idToken());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    tokens.push(res.body.token as string);
  }
  return tokens;
}

describe('ztmint keys reshare (live dev stack)', () => {
  it('reshares 2-of-3 as 3-of-5 while two workers mint; then any 3 signers mint and 2 cannot', async () => {
    await dev.start(...rates);
    const before = await jwks();
    const kid = before.keys[0]!.kid!;
    const early = await mintsOk(1);
    await dev.stop();
    await dev.start(...rates, '--signers', '5');
    expect(dev.stack.signers.map((s) => s.id)).toEqual([1, 2, 3, 4, 5]);
    early.push(...(await mintsOk(1)));

    const load = mintLoad(dev.stack, 2);
    let r;
    try {
      await sleep(1500);
      r = await ztmint(['keys', 'reshare', '--state', state, '--threshold', '3', '--signers', '5', '--json']);
      await sleep(1500);
    } finally {
      await load.stop();
    }
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      kind: 'reshare',
      kid,
      threshold: 3,
      signers: 5,
      dealers: ['signer-1', 'signer-2', 'signer-3'],
      recipients: ['signer-1', 'signer-2', 'signer-3', 'signer-4', 'signer-5'],
    });
    console.log(`keys reshare under load: ${load.tokens.length} mints, ${load.retried.length} retried${load.retried.length ? `: ${load.retried.join(' | ')}` : ''}`);
    expect(load.failures).toEqual([]);

    // The coordinator's key set: same kid, 3-of-5, each verifying share the unsealed share's.
    const group = await keySetGroup(state);
    expect(group).toMatchObject({ threshold: 3, signers: 5, identifiers: [1, 2, 3, 4, 5].map(identifierFromIndex) });
    const shares = await Promise.all([1, 2, 3, 4, 5].map((i) => unsealShare(join(state, 'signers', String(i), 'share.sealed'))));
    for (const s of shares) expect(verifyingShareOf(s)).toBe(group.verifying_shares[s.identifier]);
    for (const three of combinations(shares, 3)) expect(signsValid(group, three)).toBe(true);
    for (const two of combinations(shares, 2)) expect(signsValid(group, two)).toBe(false);
    const audited = (await dev.stack.auditRecords()).filter((e) => e.event === 'key_reshared');
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ kid, threshold: 3, signers: 5 });

    // The live stack signs with three signers: here the two that joined and one old member.
    const late = await mintsOk(2);
    await killPid(dev.stack.signers.find((s) => s.id === 1)!.pid);
    await killPid(dev.stack.signers.find((s) => s.id === 2)!.pid);
    late.push(...(await mintsOk(2)));
    const lastMint = (await dev.stack.auditRecords()).filter((e) => e.event === 'mint').at(-1)!;
    expect(lastMint.signers).toEqual(['signer-3', 'signer-4', 'signer-5']);

    // Two signers are not a quorum any more: a retryable quorum_unavailable.
    await killPid(dev.stack.signers.find((s) => s.id === 3)!.pid);
    const refused = await dev.stack.mint(await dev.stack.idToken());
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('quorum_unavailable');

    // One JWKS, one kid, before and after.
    const after = await jwks();
    expect(after).toEqual(before);
    const keySet = createLocalJWKSet(after);
    for (const token of [...early, ...load.tokens, ...late]) {
      expect(decodeProtectedHeader(token).kid).toBe(kid);
      await jwtVerify(token, keySet, { algorithms: ['EdDSA'], currentDate: new Date(iatOf(token) * 1000) });
    }
  }, 600_000);
});
