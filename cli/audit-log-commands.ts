// `ztmint audit verify|prove|verify-proof|monitor`: the transparency log from the outside. `verify`
// checks the audit chain in a store and, with `--expect-checkpoint`, that the store's Merkle log
// still extends a checkpoint kept earlier; with `--from` it checks a copy of the log in the tiles
// layout (the coordinator's /tlog/, or a directory). `prove` prints a record's inclusion proof,
// `verify-proof` checks one offline against the published key, `monitor` remembers the last
// checkpoint it saw and alerts (exit 1) when the log no longer extends it.
import { Option, type Command } from 'commander';
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AUDIT_FILE } from '../coordinator/audit.js';
import { isPostgresUrl } from '../coordinator/store/open-store.js';
import { ZtmintError } from '../errors/ztmint-error.js';
import { fromB64url } from '../protocol/encoding.js';
import { fromBase64Strict, toBase64 } from '../transparency/base64.js';
import { openCheckpoint, type Checkpoint } from '../transparency/checkpoint.js';
import { copySource, isUrl } from '../transparency/copy-source.js';
import { TransparencyError } from '../transparency/errors.js';
import { equalHashes, inclusionProof, leafHash, MemoryHashStore, treeHash, verifyInclusion } from '../transparency/merkle.js';
import { ed25519NoteVerifier, formatVerifierKey, parseNote, parseVerifierKey } from '../transparency/signed-note.js';
import { CHECKPOINT_PATH } from '../transparency/tiles.js';
import { verifyLogCopy } from '../transparency/verify-copy.js';
import { readDevStackFile, stateDirFrom } from './dev-stack-file.js';
import { storeOption, verifyAudit } from './store-options.js';

interface LogOptions {
  state?: string;
  store?: string;
  from?: string;
  key?: string;
}

/** What discovery publishes about the log. */
interface LogInfo {
  url: string;
  origin: string;
  verifier_key: string;
}

async function discover(issuerUrl: string): Promise<LogInfo> {
  const url = new URL('/.well-known/openid-configuration', issuerUrl);
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new ZtmintError('tlog_discovery_failed', `GET ${url.href}: HTTP ${res.status}; pass --key`);
  const doc = (await res.json()) as { transparency_log?: LogInfo };
  if (!doc.transparency_log) throw new ZtmintError('tlog_discovery_failed', `${url.href} names no transparency log: the coordinator runs without one`);
  return doc.transparency_log;
}

/** The copy to read (--from, else the running dev stack's /tlog/) and the key to trust (--key, else discovery). */
async function resolveLog(opts: LogOptions): Promise<{ from: string; vkey: string; keySource: string }> {
  let from = opts.from;
  let issuer: string | undefined;
  if (!from) {
    issuer = readDevStackFile(stateDirFrom(opts)).coordinator.url;
    from = `${issuer}/tlog/`;
  } else if (isUrl(from)) {
    issuer = new URL(from).origin;
  } else if (opts.state || process.env.ZTMINT_STATE) {
    issuer = readDevStackFile(stateDirFrom(opts)).coordinator.url;
  }
  if (opts.key) return { from, vkey: opts.key, keySource: '--key' };
  if (!issuer) throw new ZtmintError('tlog_key_missing', 'no verifier key: pass --key <origin+keyid+key> (discovery: transparency_log.verifier_key)');
  const info = await discover(issuer);
  return { from, vkey: info.verifier_key, keySource: `discovery at ${issuer}` };
}

function verifierFor(vkey: string) {
  const key = parseVerifierKey(vkey);
  return { origin: key.name, verifiers: [ed25519NoteVerifier(key)] };
}

async function readCheckpointFile(file: string, vkey: string): Promise<{ note: string; checkpoint: Checkpoint }> {
  const note = await readFile(file, 'utf8');
  const { origin, verifiers } = verifierFor(vkey);
  return { note, checkpoint: openCheckpoint(note, verifiers, origin).checkpoint };
}

/** The entries of a store's Merkle log = its audit records as stored, in order. */
async function storeEntries(opts: LogOptions): Promise<{ where: string; entries: Uint8Array[]; latest?: string }> {
  if (isPostgresUrl(opts.store)) {
    const pg = (await import('pg')).default;
    const { describePostgresUrl } = await import('../coordinator/store/postgres-store.js');
    const pool = new pg.Pool({ connectionString: opts.store, max: 1, connectionTimeoutMillis: 10_000, application_name: 'ztmint-audit-verify' });
    try {
      const { rows } = await pool.query<{ record: string }>('SELECT record FROM ztmint_audit ORDER BY idx');
      const latest = await pool.query<{ note: string }>('SELECT note FROM ztmint_tlog_checkpoints ORDER BY size DESC LIMIT 1').catch(() => ({ rows: [] as Array<{ note: string }> }));
      return { where: describePostgresUrl(opts.store), entries: rows.map((r) => new Uint8Array(Buffer.from(r.record))), latest: latest.rows[0]?.note };
    } finally {
      await pool.end();
    }
  }
  const dir = join(stateDirFrom(opts), 'audit');
  const text = await readFile(join(dir, AUDIT_FILE), 'utf8');
  const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n');
  lines.pop();
  const latest = await readFile(join(dir, 'checkpoint'), 'utf8').catch(() => undefined);
  return { where: join(dir, AUDIT_FILE), entries: lines.map((l) => new Uint8Array(Buffer.from(l))), ...(latest ? { latest } : {}) };
}

/** The key of a store check: --key, else the group key of --state with the checkpoint's own origin. */
async function storeKey(opts: LogOptions & { expectCheckpoint: string }): Promise<string> {
  if (opts.key) return opts.key;
  if (!opts.state && !process.env.ZTMINT_STATE) throw new ZtmintError('tlog_key_missing', 'no verifier key: pass --key, or --state with the group.json of the key set');
  const group = JSON.parse(await readFile(join(stateDirFrom(opts), 'group.json'), 'utf8')) as { group_public_key: string };
  const origin = parseNote(await readFile(opts.expectCheckpoint, 'utf8')).text.split('\n', 1)[0]!;
  return formatVerifierKey(origin, fromB64url(group.group_public_key));
}

/** The store's Merkle log must extend the expected checkpoint, and its own latest checkpoint must match its records. */
async function verifyStoreLog(opts: LogOptions & { expectCheckpoint: string }): Promise<string> {
  const vkey = await storeKey(opts);
  const expected = (await readCheckpointFile(opts.expectCheckpoint, vkey)).checkpoint;
  const { where, entries, latest } = await storeEntries(opts);
  const tree = new MemoryHashStore();
  for (const e of entries) tree.appendEntry(e);
  if (tree.size < expected.size) {
    throw new TransparencyError('tlog_inconsistent', `${where}: log truncated: ${tree.size} records, the expected checkpoint has ${expected.size}`);
  }
  if (!equalHashes(await treeHash(tree, expected.size), expected.rootHash)) {
    throw new TransparencyError('tlog_inconsistent', `${where}: the first ${expected.size} records do not hash to the expected checkpoint (records deleted, reordered or edited)`);
  }
  let own = '';
  if (latest) {
    const { origin, verifiers } = verifierFor(vkey);
    const cp = openCheckpoint(latest, verifiers, origin).checkpoint;
    if (cp.size > tree.size || !equalHashes(await treeHash(tree, cp.size), cp.rootHash)) {
      throw new TransparencyError('tlog_inconsistent', `${where}: the records do not match the store's own latest checkpoint (size ${cp.size})`);
    }
    own = `, latest signed checkpoint (size ${cp.size}) matches`;
  }
  return `${where}: ${tree.size} records extend the expected checkpoint (size ${expected.size})${own}`;
}

async function auditVerify(opts: LogOptions & { expectCheckpoint?: string }): Promise<string> {
  if (opts.from) {
    const { from, vkey, keySource } = await resolveLog(opts);
    const { origin, verifiers } = verifierFor(vkey);
    const expected = opts.expectCheckpoint ? (await readCheckpointFile(opts.expectCheckpoint, vkey)).checkpoint : undefined;
    const copy = await verifyLogCopy({ fetch: copySource(from), origin, verifiers, ...(expected ? { expected } : {}) });
    return `${from}: ${copy.checkpoint.size} records match the checkpoint signed by ${origin} (key from ${keySource})${expected ? `, extending the expected checkpoint (size ${expected.size})` : ''}`;
  }
  const chain = await verifyAudit(opts);
  if (!opts.expectCheckpoint) return chain;
  return `${chain}\n${await verifyStoreLog({ ...opts, expectCheckpoint: opts.expectCheckpoint })}`;
}

/** The proof of the record of `jti` from a verified copy of the log: the shape of a mint answer's `transparency`. */
async function auditProve(opts: LogOptions & { jti: string }) {
  const { from, vkey } = await resolveLog(opts);
  const { origin, verifiers } = verifierFor(vkey);
  const copy = await verifyLogCopy({ fetch: copySource(from), origin, verifiers });
  const index = copy.entries!.findIndex((e) => {
    const record = JSON.parse(Buffer.from(e).toString('utf8')) as { event?: unknown; jti?: unknown };
    return record.event === 'mint' && record.jti === opts.jti;
  });
  if (index < 0) throw new ZtmintError('tlog_record_missing', `no mint of jti ${opts.jti} in the ${copy.checkpoint.size} records of ${from}`);
  const proof = await inclusionProof(copy.store, index, copy.checkpoint.size);
  return { log_index: index, entry: Buffer.from(copy.entries![index]!).toString('utf8'), checkpoint: copy.note, inclusion_proof: proof.map(toBase64) };
}

interface ProofFile {
  log_index: number;
  entry: string;
  checkpoint: string;
  inclusion_proof: string[];
}

/** Offline: the record is in a checkpoint signed by the log key, and it is the mint of this token. */
async function verifyProof(opts: LogOptions & { proof: string; token?: string }): Promise<string> {
  const doc = JSON.parse(await readFile(opts.proof, 'utf8')) as ProofFile & { transparency?: ProofFile; token?: string };
  const proof = doc.transparency ?? doc;
  if (typeof proof.entry !== 'string' || !Array.isArray(proof.inclusion_proof) || !Number.isSafeInteger(proof.log_index)) {
    throw new ZtmintError('tlog_proof_malformed', `${opts.proof} holds no transparency proof {log_index, entry, checkpoint, inclusion_proof}`);
  }
  const token = opts.token ? (await readFile(opts.token === '-' ? '/dev/stdin' : opts.token, 'utf8')).trim() : doc.token;
  const vkey = opts.key ?? (await resolveLog(opts)).vkey;
  const { origin, verifiers } = verifierFor(vkey);
  const { checkpoint } = openCheckpoint(proof.checkpoint, verifiers, origin);
  verifyInclusion(
    proof.log_index,
    checkpoint.size,
    leafHash(new TextEncoder().encode(proof.entry)),
    proof.inclusion_proof.map((h) => fromBase64Strict(h, 'proof hash')),
    checkpoint.rootHash,
  );
  const record = JSON.parse(proof.entry) as { event?: unknown; jti?: unknown; token_sha256?: unknown };
  let what = `record ${proof.log_index} (${String(record.event)})`;
  if (token !== undefined) {
    if (record.token_sha256 !== createHash('sha256').update(token).digest('hex')) {
      throw new TransparencyError('tlog_bad_proof', `record ${proof.log_index} is not the mint of this token (token_sha256 differs)`);
    }
    what = `the mint of token ${String(record.jti)} (record ${proof.log_index})`;
  }
  return `${what} is in the checkpoint of ${origin} at size ${checkpoint.size}, signed by the log key`;
}

interface MonitorOptions extends LogOptions {
  checkpointFile: string;
  interval: string;
  once: boolean;
}

/** One look: the log must extend the last checkpoint seen (kept with its key in --checkpoint-file). */
async function monitorOnce(opts: MonitorOptions): Promise<string> {
  const file = resolve(opts.checkpointFile);
  let kept: { vkey: string; note: string } | undefined;
  try {
    kept = JSON.parse(await readFile(file, 'utf8')) as { vkey: string; note: string };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const { from, vkey } = await resolveLog(kept && !opts.key ? { ...opts, key: kept.vkey } : opts);
  if (kept && kept.vkey !== vkey) throw new TransparencyError('tlog_inconsistent', `the log key changed: ${kept.vkey} before, ${vkey} now`);
  const { origin, verifiers } = verifierFor(vkey);
  const fetch = copySource(from);
  try {
    await fetch(CHECKPOINT_PATH);
  } catch (err) {
    // Unreachable is not inconsistent: said, and tried again at the next look.
    return `WARN ${from} unreachable: ${(err as Error).message}`;
  }
  const expected = kept ? openCheckpoint(kept.note, verifiers, origin).checkpoint : undefined;
  const copy = await verifyLogCopy({ fetch, origin, verifiers, ...(expected ? { expected } : {}) });
  await writeFile(`${file}.tmp`, JSON.stringify({ vkey, note: copy.note }) + '\n');
  await rename(`${file}.tmp`, file);
  return `ok ${origin} size ${copy.checkpoint.size}${expected ? ` extends size ${expected.size}` : ' (first checkpoint seen, kept)'}`;
}

async function monitor(opts: MonitorOptions): Promise<void> {
  const intervalS = Number(opts.interval);
  if (!Number.isFinite(intervalS) || intervalS < 1) throw new ZtmintError('invalid_interval', '--interval must be at least 1 second');
  for (;;) {
    try {
      console.log(`${new Date().toISOString()} ${await monitorOnce(opts)}`);
    } catch (err) {
      console.error(`${new Date().toISOString()} ALERT ${(err as Error).message}: the log does not extend the last checkpoint seen (${opts.checkpointFile}); keep that file as evidence`);
      process.exit(1);
    }
    if (opts.once) return;
    await new Promise((r) => setTimeout(r, intervalS * 1000));
  }
}

function logOptions(command: Command): Command {
  return command
    .option('--state <dir>', 'state directory of a running `ztmint dev` (its coordinator is the default --from)')
    .option('--from <url|dir>', "a copy of the log in the tiles layout: the coordinator's /tlog/ URL or a directory")
    .option('--key <vkey>', "the log's note verifier key origin+keyid+key (default: discovery's transparency_log.verifier_key)");
}

export function registerAuditLogCommands(program: Command): void {
  const audit = program.commands.find((c) => c.name() === 'audit') ?? program.command('audit').description('audit log operations');
  logOptions(
    audit
      .command('verify')
      .description(
        'check the audit log: the hash chain in the store (--state, --store) and, with --expect-checkpoint, that its Merkle log extends that earlier checkpoint; or a copy of the transparency log (--from), checked against its signed checkpoint and an earlier one',
      ),
  )
    .addOption(storeOption())
    .option('--expect-checkpoint <file>', 'an earlier checkpoint (signed note) the log must extend: deletion, reordering, editing and truncation fail')
    .action(async (opts: LogOptions & { expectCheckpoint?: string }) => console.log(await auditVerify(opts)));
  logOptions(audit.command('prove').description("print the inclusion proof of a mint's record (JSON, as the mint answer's transparency member) from a verified copy of the log"))
    .requiredOption('--jti <jti>', 'the minted token id')
    .action(async (opts: LogOptions & { jti: string }) => console.log(JSON.stringify(await auditProve(opts), null, 2)));
  logOptions(audit.command('verify-proof').description("check a transparency proof offline: the checkpoint is signed by the log key, the record is in it, and it is the token's mint"))
    .requiredOption('--proof <file>', 'the proof (JSON: a mint answer, its transparency member, or `audit prove` output)')
    .option('--token <file>', "the token (a file, or - for stdin); default: the mint answer's token when --proof is one")
    .action(async (opts: LogOptions & { proof: string; token?: string }) => console.log(await verifyProof(opts)));
  logOptions(audit.command('monitor').description('watch the log: every --interval, check it extends the last checkpoint seen; on a fork or truncation print ALERT and exit 1'))
    .requiredOption('--checkpoint-file <file>', 'where the last checkpoint seen and the key are kept between looks and runs')
    .addOption(new Option('--interval <seconds>', 'seconds between looks').default('60'))
    .option('--once', 'look once and exit', false)
    .action((opts: MonitorOptions) => monitor(opts));
}
