// The transparency log from the outside, through the `ztmint` CLI (issue 15, items 3, 4 and 7):
// `audit verify --from` checks the served log, `audit prove` and `audit verify-proof` prove a mint
// offline, `audit monitor` alerts when the log no longer extends the last checkpoint it saw, and
// `audit verify --expect-checkpoint` detects a deleted, reordered or edited record or a truncated
// log in the file store and in PostgreSQL, even when the hash chain was rewritten to match.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainRecords, GENESIS_HASH, type AuditEntry } from '../coordinator/audit-chain.js';
import { openEmbeddedStore } from '../coordinator/store/embedded-store.js';
import { openPostgresStore } from '../coordinator/store/postgres-store.js';
import { signCheckpoint } from '../transparency/checkpoint.js';
import { copySource } from '../transparency/copy-source.js';
import { MemoryHashStore, treeHash } from '../transparency/merkle.js';
import { ed25519SeedSigner } from '../transparency/signed-note.js';
import { CHECKPOINT_PATH, exportTiles, readTreeFromTiles } from '../transparency/tiles.js';
import { CLI, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';

function ztmint(...args: string[]): { status: number | null; out: string; stdout: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ZTMINT_STATE: '' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

describe('audit commands against a running dev stack', () => {
  let stack: DevStack;
  let work: string;
  beforeAll(async () => {
    stack = await startDevStack();
    work = await mkdtemp(join(tmpdir(), 'ztmint-audit-cli-'));
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('verify --from, prove, verify-proof and monitor; the monitor alerts on a truncated copy', async () => {
    const mint = async () => {
      const { status, body } = await stack.mint(await stack.idToken());
      expect(status).toBe(200);
      return body;
    };
    const first = await mint();
    const cp1 = join(work, 'cp1');
    await writeFile(cp1, (first.transparency as { checkpoint: string }).checkpoint);
    const second = await mint();
    const url = `${stack.coordinator}/tlog/`;

    let r = ztmint('audit', 'verify', '--state', stack.state, '--from', url, '--expect-checkpoint', cp1);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/records match the checkpoint .*extending the expected checkpoint/);
    r = ztmint('audit', 'verify', '--state', stack.state, '--expect-checkpoint', cp1);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/chain intact[\s\S]*extend the expected checkpoint/);

    // prove → verify-proof, offline with the key from discovery; the mint answer itself works too.
    r = ztmint('audit', 'prove', '--state', stack.state, '--jti', second.jti as string);
    expect(r.status, r.out).toBe(0);
    const proofFile = join(work, 'proof.json');
    await writeFile(proofFile, r.stdout);
    const tokenFile = join(work, 'token');
    await writeFile(tokenFile, second.token as string);
    const discovery = (await (await fetch(`${stack.coordinator}/.well-known/openid-configuration`)).json()) as { transparency_log: { verifier_key: string } };
    const key = discovery.transparency_log.verifier_key;
    r = ztmint('audit', 'verify-proof', '--proof', proofFile, '--token', tokenFile, '--key', key);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(`the mint of token ${second.jti as string}`);
    const answerFile = join(work, 'answer.json');
    await writeFile(answerFile, JSON.stringify(second));
    expect(ztmint('audit', 'verify-proof', '--proof', answerFile, '--key', key).status).toBe(0);
    await writeFile(tokenFile, first.token as string); // another token: not this record
    r = ztmint('audit', 'verify-proof', '--proof', proofFile, '--token', tokenFile, '--key', key);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/not the mint of this token/);

    // The monitor keeps the last checkpoint it saw and accepts a log that extends it.
    const seen = join(work, 'monitor.json');
    r = ztmint('audit', 'monitor', '--state', stack.state, '--checkpoint-file', seen, '--once');
    expect(r.status, r.out).toBe(0);
    await mint();
    r = ztmint('audit', 'monitor', '--state', stack.state, '--checkpoint-file', seen, '--once');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/ok .* extends size/);

    // A copy served at the size of the first checkpoint (validly signed, but shorter than what the
    // monitor saw): truncation, ALERT, exit 1.
    const live = copySource(url);
    const served = await readTreeFromTiles(live, { size: await sizeOf(cp1), rootHash: await rootOf(cp1) }, { entries: true });
    const dir = join(work, 'truncated');
    const tree = new MemoryHashStore();
    for (const e of served.entries!) tree.appendEntry(e);
    await exportTiles({
      reader: tree,
      readEntries: async (start, count) => served.entries!.slice(start, start + count),
      oldSize: 0,
      newSize: tree.size,
      put: async (path, data) => {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), data);
      },
    });
    await writeFile(join(dir, CHECKPOINT_PATH), await readFile(cp1));
    r = ztmint('audit', 'monitor', '--from', dir, '--key', key, '--checkpoint-file', seen, '--once');
    expect(r.status, r.out).toBe(1);
    expect(r.out).toMatch(/ALERT .*truncated/);
  });
});

async function sizeOf(noteFile: string): Promise<number> {
  return Number((await readFile(noteFile, 'utf8')).split('\n')[1]);
}
async function rootOf(noteFile: string): Promise<Uint8Array> {
  return new Uint8Array(Buffer.from((await readFile(noteFile, 'utf8')).split('\n')[2]!, 'base64'));
}

// Tampering with the stored records, with the hash chain rewritten so that only the Merkle log
// against the earlier checkpoint can tell.
const ORIGIN = 'test.example/tlog';
const KEY = ed25519SeedSigner(ORIGIN, new Uint8Array(32).fill(7));
type Tamper = [name: string, change: (entries: AuditEntry[]) => AuditEntry[], expected: RegExp];
const TAMPERS: Tamper[] = [
  // A deleted record with one added at the end, so the log keeps its length; a plain deletion is a truncation.
  ['delete a record', (e) => [...e.filter((_, i) => i !== 5), { event: 'mint', jti: 'filler' }], /do not hash to the expected checkpoint/],
  ['delete a record, shorter log', (e) => e.filter((_, i) => i !== 5), /truncated: 19 records/],
  ['reorder two records', (e) => e.map((x, i) => (i === 3 ? e[4]! : i === 4 ? e[3]! : x)), /do not hash to the expected checkpoint/],
  ['edit a record', (e) => e.map((x, i) => (i === 7 ? { ...x, repository: 'evil/repo' } : x)), /do not hash to the expected checkpoint/],
  ['truncate the log', (e) => e.slice(0, 15), /truncated: 15 records/],
];

/** The entry of a stored record, keeping its time (so a rewritten chain differs only where tampered). */
function strip(line: string): AuditEntry {
  const { index: _i, prev: _p, hash: _h, ...entry } = JSON.parse(line) as AuditEntry & Record<string, unknown>;
  return entry as AuditEntry;
}
/** Chains the entries again from the start, each with its own time (new ones: a fixed time). */
function rechain(entries: AuditEntry[]): string[] {
  let prev = GENESIS_HASH;
  return entries.map((entry, i) => {
    const { time, ...rest } = entry as AuditEntry & { time?: string };
    const { records, head } = chainRecords([rest as AuditEntry], i, prev, time ?? '2026-01-01T00:00:00.000Z');
    prev = head;
    return JSON.stringify(records[0]);
  });
}
async function checkpointOf(lines: string[], file: string): Promise<void> {
  const tree = new MemoryHashStore();
  for (const l of lines) tree.appendEntry(Buffer.from(l));
  await writeFile(file, await signCheckpoint({ origin: ORIGIN, size: tree.size, rootHash: await treeHash(tree, tree.size), extensions: [] }, [KEY]));
}
const entriesFor = (n: number): AuditEntry[] => Array.from({ length: n }, (_, i) => ({ event: 'mint', jti: `jti-${i}`, repository: 'acme/webapp' }));

describe('audit verify --expect-checkpoint detects tampering in the store', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  }, 180_000);
  afterAll(() => server?.stop());

  it('file store: deletion, reordering, editing and truncation are refused; the intact log passes', async () => {
    const state = await mkdtemp(join(tmpdir(), 'ztmint-tamper-'));
    const store = await openEmbeddedStore({ state });
    for (const e of entriesFor(20)) await store.audit.append(e);
    await store.close();
    const path = join(state, 'audit', 'audit.jsonl');
    const original = (await readFile(path, 'utf8')).trim().split('\n');
    const cp = join(state, 'earlier-checkpoint');
    await checkpointOf(original, cp);
    expect(rechain(original.map(strip))).toEqual(original); // the rewriting itself changes nothing
    let r = ztmint('audit', 'verify', '--state', state, '--expect-checkpoint', cp, '--key', KEY.vkey);
    expect(r.status, r.out).toBe(0);
    for (const [name, change, expected] of TAMPERS) {
      await writeFile(path, rechain(change(original.map(strip))).join('\n') + '\n');
      expect(ztmint('audit', 'verify', '--state', state).status, `${name}: the chain alone still passes`).toBe(0);
      r = ztmint('audit', 'verify', '--state', state, '--expect-checkpoint', cp, '--key', KEY.vkey);
      expect(r.status, `${name}: ${r.out}`).toBe(1);
      expect(r.out, name).toMatch(expected);
    }
    // More records after the checkpoint are fine: the log extends it.
    await writeFile(path, rechain([...original.map(strip), ...entriesFor(3)]).join('\n') + '\n');
    expect(ztmint('audit', 'verify', '--state', state, '--expect-checkpoint', cp, '--key', KEY.vkey).status).toBe(0);
  });

  it('PostgreSQL: deletion, reordering, editing and truncation are refused; the intact log passes', async () => {
    const url = await server.createDatabase('tamper');
    const store = await openPostgresStore({ state: '/nonexistent', url });
    for (const e of entriesFor(20)) await store.audit.append(e);
    await store.close();
    const pool = new pg.Pool({ connectionString: url });
    try {
      const original = (await pool.query<{ record: string }>('SELECT record FROM ztmint_audit ORDER BY idx')).rows.map((r) => r.record);
      const cp = join(await mkdtemp(join(tmpdir(), 'ztmint-tamper-')), 'earlier-checkpoint');
      await checkpointOf(original, cp);
      const replace = async (lines: string[]) => {
        await pool.query('DELETE FROM ztmint_audit');
        for (const line of lines) {
          const r = JSON.parse(line) as { index: number; prev: string; hash: string };
          await pool.query('INSERT INTO ztmint_audit (idx, prev, hash, record) VALUES ($1, $2, $3, $4)', [r.index, r.prev, r.hash, line]);
        }
      };
      let r = ztmint('audit', 'verify', '--store', url, '--expect-checkpoint', cp, '--key', KEY.vkey);
      expect(r.status, r.out).toBe(0);
      for (const [name, change, expected] of TAMPERS) {
        await replace(rechain(change(original.map(strip))));
        expect(ztmint('audit', 'verify', '--store', url).status, `${name}: the chain alone still passes`).toBe(0);
        r = ztmint('audit', 'verify', '--store', url, '--expect-checkpoint', cp, '--key', KEY.vkey);
        expect(r.status, `${name}: ${r.out}`).toBe(1);
        expect(r.out, name).toMatch(expected);
      }
    } finally {
      await pool.end();
    }
  });
});
