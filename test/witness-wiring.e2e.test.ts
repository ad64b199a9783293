// External witnesses wired into the coordinator (issue 15 item 5): a REAL litewitness
// (filippo.io/torchwood, built by scripts/build-tlog-peers.sh) is configured on the dev stack's
// coordinator with --witness (here through its environment variable). After mints, the checkpoint
// served at /tlog/checkpoint carries the witness's cosignature, which verifies under the witness
// key, while Go's sumdb/note still opens the note under the log key. A forked log (same origin and
// log key, a different record) presented through the coordinator's witnessing hook is refused by
// the same witness: nothing is stored, the refusal is logged and counted. (A fork under the group
// key itself cannot be produced: the signer quorum refuses to sign one, test/tlog.e2e.test.ts, so
// the fork is signed by a test log key the witness is told about.)
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../coordinator/metrics.js';
import { FileTlog } from '../coordinator/store/file-tlog.js';
import { witnessingHook } from '../coordinator/tlog/witnessing.js';
import { openCheckpoint, signCheckpoint } from '../transparency/checkpoint.js';
import { parseCosignerKey, verifyCosignatures } from '../transparency/cosignature.js';
import { treeHash } from '../transparency/merkle.js';
import { ed25519NoteVerifier, ed25519SeedSigner } from '../transparency/signed-note.js';
import { parseWitnessOption } from '../transparency/witness-client.js';
import { ROOT, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { startWitness, type Witness } from './helpers/witness-peer.js';

const WAIT_MS = 60_000;

let witness: Witness;
let stack: DevStack;
let checker = '';
let log: { origin: string; verifier_key: string };

beforeAll(async () => {
  checker = execFileSync('bash', [join(ROOT, 'scripts/build-tlogcheck.sh')], { encoding: 'utf8', timeout: 600_000 }).trim();
  witness = await startWitness();
  stack = await startDevStack([], { ZTMINT_COORDINATOR_WITNESSES: `${witness.vkey}=${witness.url}` });
  const discovery = (await (await fetch(`${stack.coordinator}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(30_000) })).json()) as {
    transparency_log: typeof log;
  };
  log = discovery.transparency_log;
  witness.addLog(log.origin, log.verifier_key);
}, 1_800_000); // the first run on a machine builds litewitness and tlogcheck
afterAll(async () => {
  await stack?.stop();
  await witness?.stop();
});

/** Polls /tlog/checkpoint (bounded) until its note holds at least `size` leaves and the witness's cosignature. */
async function cosignedCheckpoint(size: number): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  let last = '';
  while (Date.now() < deadline) {
    const res = await fetch(`${stack.coordinator}/tlog/checkpoint`, { signal: AbortSignal.timeout(30_000) });
    last = await res.text();
    if (res.ok) {
      const { checkpoint } = openCheckpoint(last, [ed25519NoteVerifier(log.verifier_key)], log.origin);
      if (checkpoint.size >= size && verifyCosignatures(last, [parseCosignerKey(witness.vkey)]).length) return last;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no checkpoint of ${size} leaves cosigned by the witness within ${WAIT_MS} ms; last served:\n${last}\n${stack.output().slice(-4000)}`);
}

describe('coordinator with an external witness', () => {
  it('serves checkpoints with the witness cosignature, also as the log grows (consistency proofs from the cosigned size)', async () => {
    for (let round = 1; round <= 2; round++) {
      let index = 0;
      for (let i = 0; i < 2; i++) {
        const { status, body } = await stack.mint(await stack.idToken());
        expect(status, JSON.stringify(body)).toBe(200);
        index = (body.transparency as { log_index: number }).log_index;
      }
      const note = await cosignedCheckpoint(index + 1);
      const cosigs = verifyCosignatures(note, [parseCosignerKey(witness.vkey)]);
      expect(cosigs.map((c) => c.name)).toEqual([witness.name]);
      // Go's sumdb/note ignores the cosignature line it does not know and opens the note under the log key.
      const batch = join(stack.state, `witnessed-${round}.json`);
      await writeFile(batch, JSON.stringify({ vkey: log.verifier_key, notes: [Buffer.from(note).toString('base64')] }));
      expect(JSON.parse(execFileSync(checker, ['-open', batch], { encoding: 'utf8', timeout: 60_000 }))).toEqual([true]);
    }
  });

  it('a forked log (same origin and log key, another record) presented through the witnessing hook is refused: nothing stored, logged, counted', async () => {
    const origin = 'ztmint.test/forked';
    const key = ed25519SeedSigner(origin, randomBytes(32));
    witness.addLog(origin, key.vkey);
    const dirs = [await mkdtemp(join(tmpdir(), 'ztmint-honest-')), await mkdtemp(join(tmpdir(), 'ztmint-forked-'))];
    try {
      const metrics = createMetrics();
      const logs: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
      const logFn = (level: 'info' | 'warn', fields: Record<string, unknown>, msg: string) => logs.push({ level, msg, fields });
      const witnesses = [parseWitnessOption(`${witness.vkey}=${witness.url}`)];
      /** A coordinator log state: a file tlog of `records`, its checkpoint signed and saved, handed to a witnessing hook. */
      const present = async (dir: string, records: string[]) => {
        const tlog = new FileTlog(dir, join(dir, 'audit.jsonl'));
        tlog.appendLines(records.map((r) => Buffer.from(r)));
        const checkpoint = { origin, size: records.length, rootHash: await treeHash(tlog, records.length), extensions: [] };
        const note = await signCheckpoint(checkpoint, [key]);
        await tlog.saveCheckpoint(note);
        void witnessingHook({ witnesses, tlog, requests: metrics.witnessRequests, log: logFn })({ note, checkpoint });
        return { tlog, note };
      };
      const count = async (outcome: string) => (await metrics.witnessRequests.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
      const until = async (what: string, ok: () => Promise<boolean>) => {
        const deadline = Date.now() + WAIT_MS;
        while (!(await ok())) {
          if (Date.now() > deadline) throw new Error(`${what} within ${WAIT_MS} ms; logs: ${JSON.stringify(logs)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };

      const records = Array.from({ length: 6 }, (_, i) => `{"record":${i}}`);
      const honest = await present(dirs[0]!, records);
      await until('the honest log cosigned', async () => (await count('cosigned')) === 1);
      expect(verifyCosignatures((await honest.tlog.latestCheckpoint())!, [parseCosignerKey(witness.vkey)]).map((c) => c.name)).toEqual([witness.name]);

      const forked = await present(
        dirs[1]!,
        [...records, '{"record":6}'].map((r, i) => (i === 2 ? '{"record":2,"rewritten":true}' : r)),
      );
      await until('the fork refused', async () => (await count('failed')) === 1);
      expect(await forked.tlog.latestCheckpoint()).toBe(forked.note); // no cosignature stored
      const refusal = logs.find((l) => l.level === 'warn' && l.fields.witness === witness.name);
      expect(refusal?.msg).toMatch(/no cosignature/);
      expect(String(refusal?.fields.reason)).toMatch(/^answered 4\d\d/);
    } finally {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});
