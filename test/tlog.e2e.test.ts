// The transparency log over the real dev stack (issue 15): every mint answer carries its record's
// leaf index, the record, an inclusion proof and a checkpoint signed by the FROST quorum, which Go's
// golang.org/x/mod/sumdb/tlog and /note verify under the verifier key discovery publishes; the
// coordinator serves the log in the C2SP tiles layout; and signers refuse any checkpoint that does
// not extend the last one they signed, so a cheating coordinator gets no signature (I9).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../coordinator/audit.js';
import { SignerClient, SignerRefused } from '../coordinator/signer-client.js';
import { FileAuditSink } from '../coordinator/store/file-audit-sink.js';
import { formatCheckpoint, openCheckpoint } from '../transparency/checkpoint.js';
import { leafHash, verifyInclusion } from '../transparency/merkle.js';
import { ed25519NoteVerifier } from '../transparency/signed-note.js';
import { verifyLogCopy } from '../transparency/verify-copy.js';
import { ROOT, signerTls, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { inProcessCoordinator } from './helpers/in-process-coordinator.js';

interface Proof {
  log_index: number;
  entry: string;
  checkpoint: string;
  inclusion_proof: string[];
}
interface LogInfo {
  url: string;
  origin: string;
  verifier_key: string;
}

let stack: DevStack;
let checker = '';
let info: LogInfo;
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

beforeAll(async () => {
  checker = execFileSync('bash', [join(ROOT, 'scripts/build-tlogcheck.sh')], { encoding: 'utf8', timeout: 600_000 }).trim();
  stack = await startDevStack();
  const discovery = (await (await fetch(`${stack.coordinator}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(30_000) })).json()) as { transparency_log: LogInfo };
  info = discovery.transparency_log;
}, 660_000);
afterAll(async () => {
  await stack?.stop();
});

/** Reads the served log (the TileFetch of verifyLogCopy). */
const served = async (path: string): Promise<Uint8Array> => {
  const res = await fetch(`${info.url}${path}`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
};

async function mintWithProof(): Promise<{ token: string; jti: string; proof: Proof }> {
  const { status, body } = await stack.mint(await stack.idToken());
  expect(status, JSON.stringify(body)).toBe(200);
  return { token: body.token as string, jti: body.jti as string, proof: body.transparency as Proof };
}

async function goCheck(c: Record<string, unknown>): Promise<{ status: number | null; out: string }> {
  const file = join(stack.state, `mint-case-${randomBytes(4).toString('hex')}.json`);
  await writeFile(file, JSON.stringify(c));
  const r = spawnSync(checker, ['-mint', file], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('transparency log on the dev stack', () => {
  it('publishes the log in discovery: tiles base URL, origin and the note verifier key of the group key', async () => {
    expect(info.url).toBe(`${stack.coordinator}/tlog/`);
    expect(info.origin).toBe(`${stack.coordinator.replace(/^https?:\/\//, '')}/tlog`);
    expect(info.verifier_key.startsWith(`${info.origin}+`)).toBe(true);
    const group = JSON.parse(await readFile(join(stack.state, 'group.json'), 'utf8')) as { group_public_key: string };
    expect(Buffer.from(info.verifier_key.split('+').slice(2).join('+'), 'base64').subarray(1).toString('base64url')).toBe(group.group_public_key);
  });

  it('answers every mint with the record, its inclusion proof and a quorum-signed checkpoint that Go verifies', async () => {
    const { token, jti, proof } = await mintWithProof();
    // Ours: the checkpoint opens under the published key; the record is the token's; the proof holds.
    const { checkpoint } = openCheckpoint(proof.checkpoint, [ed25519NoteVerifier(info.verifier_key)], info.origin);
    const entry = new TextEncoder().encode(proof.entry);
    verifyInclusion(proof.log_index, checkpoint.size, leafHash(entry), proof.inclusion_proof.map(b64), checkpoint.rootHash);
    const record = JSON.parse(proof.entry) as Record<string, unknown>;
    expect(record).toMatchObject({ event: 'mint', jti, index: proof.log_index, token_sha256: createHash('sha256').update(token).digest('hex') });
    // The leaf is the audit record exactly as stored.
    const lines = (await readFile(join(stack.state, 'audit', 'audit.jsonl'), 'utf8')).split('\n');
    expect(lines[proof.log_index]).toBe(proof.entry);

    // Go's: note.Open under the verifier key, tlog.CheckRecord, and the same proof from the served tiles.
    const goCase = {
      vkey: info.verifier_key,
      origin: info.origin,
      checkpoint: proof.checkpoint,
      index: proof.log_index,
      entry: Buffer.from(entry).toString('base64'),
      proof: proof.inclusion_proof,
      tilesUrl: info.url,
    };
    const ok = await goCheck(goCase);
    expect(ok.status, ok.out).toBe(0);
    // And Go refuses a tampered record, proof or checkpoint.
    const flipped = Buffer.from(proof.inclusion_proof[0] ?? Buffer.alloc(32).toString('base64'), 'base64');
    flipped[0]! ^= 1;
    const edited = Buffer.from(
      proof.entry.replace(
        jti,
        jti.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
      ),
    );
    for (const bad of [
      { ...goCase, entry: edited.toString('base64') },
      { ...goCase, proof: [flipped.toString('base64'), ...proof.inclusion_proof.slice(1)], tilesUrl: '' },
      { ...goCase, checkpoint: proof.checkpoint.replace(/\n(\d+)\n/, (_m, n: string) => `\n${Number(n) + 1}\n`) },
    ]) {
      expect((await goCheck(bad)).status).toBe(1);
    }
  });

  it('serves tiles and entries that check against the checkpoint and extend an earlier one; concurrent mints share checkpoints', async () => {
    const earlier = openCheckpoint(await served('checkpoint'), [ed25519NoteVerifier(info.verifier_key)], info.origin).checkpoint;
    const mints = await Promise.all(Array.from({ length: 4 }, () => mintWithProof()));
    for (const m of mints) expect(m.proof.log_index).toBeGreaterThanOrEqual(earlier.size);
    const copy = await verifyLogCopy({ fetch: served, origin: info.origin, verifiers: [ed25519NoteVerifier(info.verifier_key)], expected: earlier });
    expect(copy.checkpoint.size).toBeGreaterThanOrEqual(earlier.size + 4);
    const lines = (await readFile(join(stack.state, 'audit', 'audit.jsonl'), 'utf8')).split('\n');
    copy.entries!.forEach((e, i) => expect(Buffer.from(e).toString('utf8')).toBe(lines[i]));
    // An unknown tile or one beyond the log is 404, never made up.
    expect((await fetch(`${info.url}tile/0/001`, { signal: AbortSignal.timeout(30_000) })).status).toBe(404);
    expect((await fetch(`${info.url}tile/0/000.p/300`, { signal: AbortSignal.timeout(30_000) })).status).toBe(404);
  });

  it('a coordinator presenting a checkpoint that forks or truncates the log gets no signature (I9)', async () => {
    const tls = await signerTls(stack.state);
    const clients = stack.signers.map((s) => new SignerClient({ name: `signer-${s.id}`, url: s.url }, tls, { timeoutMs: 15_000, preprocessing: false }));
    try {
      await mintWithProof(); // every signer has signed some checkpoint by now… at least t of them
      const before = await Promise.all(clients.map((c) => c.tlogState()));
      const largest = Math.max(...before.map((s) => s.size));
      expect(largest).toBeGreaterThanOrEqual(2);

      // A cheating coordinator with its own, forged log, longer than what the signers signed: its
      // checkpoint is a fork, and no signer contributes to it.
      const sink = await FileAuditSink.open(await mkdtemp(join(tmpdir(), 'ztmint-cheater-')));
      const forged = new AuditLog(sink);
      for (let i = 0; i < largest + 3; i++) await forged.append({ event: 'mint', forged: i });
      const cheater = await inProcessCoordinator(stack, clients, forged, { tlog: sink.tlog });
      try {
        const { res } = await cheater.mint();
        expect(res.statusCode, res.body).toBe(200);
        expect((res.json() as Record<string, unknown>).transparency).toBeUndefined();
        expect(cheater.logs.join('\n')).toMatch(/checkpoint_refused/);
      } finally {
        await cheater.app.close();
        await forged.close();
      }
      const after = await Promise.all(clients.map((c) => c.tlogState()));
      expect(after).toEqual(before);

      // Straight at one signer: truncation, a fork of the same size, a proof from the wrong size,
      // another log, and a message of one kind with the other kind's round-2 data.
      const [target, helper] = clients.filter((_, i) => before[i]!.size >= 2) as [SignerClient, SignerClient | undefined];
      const state = await target.tlogState();
      const attempt = async (message: string, extra: Record<string, unknown>) => {
        const other = helper ?? clients.find((c) => c !== target)!;
        const [a, b] = await Promise.all([target.round1(randomBytes(16).toString('base64url')), other.round1(randomBytes(16).toString('base64url'))]);
        return target.round2({ session: a.session, message, commitments: [a.commitments, b.commitments], ...extra }).then(
          () => 'signed',
          (err: unknown) => (err instanceof SignerRefused ? err.code : String(err)),
        );
      };
      const text = (size: number, origin = info.origin) => formatCheckpoint({ origin, size, rootHash: randomBytes(32), extensions: [] });
      const from = (old: number) => ({ checkpoint: { old_size: old, proof: [] } });
      expect(await attempt(text(state.size - 1), from(state.size))).toBe('checkpoint_refused');
      expect(await attempt(text(state.size), from(state.size))).toBe('checkpoint_refused');
      expect(await attempt(text(state.size + 1), from(state.size + 1))).toBe('checkpoint_refused');
      expect(await attempt(text(state.size + 1, 'other.example/tlog'), from(state.size))).toBe('checkpoint_refused');
      expect(await attempt(text(state.size + 1), { ...from(state.size), context: { oidc_token: 'x.y.z', request: { scopes: ['deploy:canary'] } } })).toBe('invalid_request');
      expect(await attempt('eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJ4In0', from(state.size))).toBe('invalid_request');
      expect(await attempt(`cosignature/v1\ntime 1\n${text(state.size + 1)}`, from(state.size))).toBe('context_mismatch');
      expect(await target.tlogState()).toEqual(state);

      // The honest coordinator goes on proving its mints.
      const { proof } = await mintWithProof();
      expect(proof.log_index).toBeGreaterThan(0);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
