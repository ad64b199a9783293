// signers/share-log.ts: a signer's own log of released shares. Concurrent appends are all
// durable and in the tree; the log survives a reopen; a torn last entry (a crash inside a write,
// never acknowledged) is cut off; the tiles it serves are a copy verifyLogCopy accepts under the
// signer's note key and no other.
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHARE_LOG_FILE, ShareLog, shareLogSeed, type ShareLogEntry } from '../signers/share-log.js';
import { ed25519NoteVerifier, ed25519SeedSigner } from '../transparency/signed-note.js';
import { verifyLogCopy } from '../transparency/verify-copy.js';

const ORIGIN = 'ztmint/test-kid/signer-1/shares';
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ztmint-share-log-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (jti: string): ShareLogEntry => ({
  v: 1,
  jti,
  message_sha256: 'a'.repeat(64),
  context_sha256: 'b'.repeat(64),
  exp: 2_000_000_000,
  client: 'coordinator',
  time: '2026-12-03T00:00:00.000Z',
});

async function copyOf(log: ShareLog, vkey = log.verifierKey) {
  return verifyLogCopy({
    fetch: async (p) => {
      const data = await log.read(p);
      if (!data) throw new Error(`no ${p}`);
      return data;
    },
    origin: ORIGIN,
    verifiers: [ed25519NoteVerifier(vkey)],
  });
}

describe('ShareLog', () => {
  it('takes 600 concurrent appends, all durable and in order of their indices, and serves a verifiable copy', async () => {
    const seed = randomBytes(32);
    const log = await ShareLog.open(dir, ORIGIN, seed);
    const indices = await Promise.all(Array.from({ length: 600 }, (_, i) => log.append(entry(`jti-${i}`))));
    expect([...indices].sort((a, b) => a - b)).toEqual(Array.from({ length: 600 }, (_, i) => i));
    const copy = await copyOf(log);
    expect(copy.checkpoint.size).toBe(600);
    expect(copy.entries!.map((e) => (JSON.parse(new TextDecoder().decode(e)) as ShareLogEntry).jti).sort()).toEqual(Array.from({ length: 600 }, (_, i) => `jti-${i}`).sort());
    // Another key (another signer's, or a forger's) does not open the checkpoint.
    await expect(copyOf(log, ed25519SeedSigner(ORIGIN, randomBytes(32)).vkey)).rejects.toThrow();
    const before = copy.checkpoint.rootHash;
    await log.close();
    const again = await ShareLog.open(dir, ORIGIN, seed);
    expect((await copyOf(again)).checkpoint.rootHash).toEqual(before);
    await again.close();
  });

  it('cuts off a torn last entry on open and goes on appending after it', async () => {
    const seed = randomBytes(32);
    const log = await ShareLog.open(dir, ORIGIN, seed);
    await log.append(entry('one'));
    await log.append(entry('two'));
    await log.close();
    const good = (await stat(join(dir, SHARE_LOG_FILE))).size;
    await appendFile(join(dir, SHARE_LOG_FILE), Buffer.from([0x01, 0x00, 0x7b])); // says 256 bytes, has 1
    const reopened = await ShareLog.open(dir, ORIGIN, seed);
    expect(reopened.size).toBe(2);
    expect((await stat(join(dir, SHARE_LOG_FILE))).size).toBe(good);
    await reopened.append(entry('three'));
    expect((await copyOf(reopened)).checkpoint.size).toBe(3);
    await reopened.close();
  });

  it('derives a different note key for every share, none equal to the share', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    expect(shareLogSeed(a)).not.toEqual(shareLogSeed(b));
    expect(Buffer.from(shareLogSeed(a))).not.toEqual(a);
    expect(shareLogSeed(a)).toEqual(shareLogSeed(Uint8Array.from(a)));
  });
});
