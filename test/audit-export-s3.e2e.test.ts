// `ztmint audit export --to s3://…` against a REAL S3-compatible server (versitygw, built from its
// Go module by scripts/build-tlog-peers.sh) with Object Lock in compliance mode: the export lands
// as a copy `verifyLogCopy` accepts, every object is locked, and the server itself refuses to
// delete a locked object version or to let the exporter overwrite a tile, before retention ends.
// The log exported is a signer share log (signers/share-log.ts) served over HTTP in the tiles
// layout, read by the CLI with --from/--key as it reads any log.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, GetObjectRetentionCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShareLog } from '../signers/share-log.js';
import { ed25519NoteVerifier } from '../transparency/signed-note.js';
import { verifyLogCopy } from '../transparency/verify-copy.js';
import { CLI } from './helpers/dev-stack.js';
import { startS3Server, type S3Server } from './helpers/tlog-peers.js';

const ORIGIN = 'ztmint.test/export-log';
let s3server: S3Server;
let s3: S3Client;
let logDir: string;
let log: ShareLog;
let http: Server;
let logUrl: string;

async function appendEntries(n: number) {
  for (let i = 0; i < n; i++) {
    await log.append({
      v: 1,
      jti: randomBytes(16).toString('base64url'),
      message_sha256: '0'.repeat(64),
      context_sha256: '1'.repeat(64),
      exp: 2_000_000_000,
      client: 'coordinator',
      time: new Date().toISOString(),
    });
  }
}

beforeAll(async () => {
  s3server = await startS3Server();
  s3 = new S3Client({ endpoint: s3server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3server.credentials });
  logDir = await mkdtemp(join(tmpdir(), 'ztmint-export-log-'));
  log = await ShareLog.open(logDir, ORIGIN, randomBytes(32));
  await appendEntries(300); // one full level-0 tile and a partial one
  http = createServer((req, res) => {
    void log.read((req.url ?? '/').slice(1)).then((data) => (data ? res.writeHead(200).end(Buffer.from(data)) : res.writeHead(404).end()));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  logUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
}, 1_800_000); // the first run on a machine builds versitygw
afterAll(async () => {
  await new Promise((r) => http?.close(r));
  await log?.close();
  s3?.destroy();
  await s3server?.stop();
  if (logDir) await rm(logDir, { recursive: true, force: true });
});

/** The CLI as a child, asynchronously: the log it reads is served by this process. */
async function exportTo(to: string, ...extra: string[]) {
  const r = await run(process.execPath, [CLI, 'audit', 'export', '--from', logUrl, '--key', log.verifierKey, '--to', to, '--s3-endpoint', s3server.endpoint, '--retain-days', '1', ...extra], {
    timeout: 120_000,
    env: { ...process.env, AWS_ACCESS_KEY_ID: s3server.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3server.credentials.secretAccessKey, AWS_REGION: 'us-east-1' },
  });
  return r;
}

function run(cmd: string, args: string[], opts: { timeout: number; env: NodeJS.ProcessEnv }): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { ...opts, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, out: `${stdout}${stderr}` });
    });
  });
}

async function getObject(bucket: string, key: string): Promise<Uint8Array> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body!.transformToByteArray();
}

describe('audit export to an S3 bucket with Object Lock (versitygw)', () => {
  const bucket = `ztmint-worm-${Date.now()}`;

  it('writes a copy that verifies, every object locked in compliance mode', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    const r = await exportTo(`s3://${bucket}/log`);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('entries 0..300');
    const copy = await verifyLogCopy({ fetch: (p) => getObject(bucket, `log/${p}`), origin: ORIGIN, verifiers: [ed25519NoteVerifier(log.verifierKey)] });
    expect(copy.checkpoint.size).toBe(300);
    for (const key of ['log/tile/0/000', 'log/tile/entries/000', 'log/tile/0/001.p/44', 'log/tile/1/000.p/1', 'log/checkpoint']) {
      const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key }));
      expect(retention.Retention?.Mode, key).toBe('COMPLIANCE');
      expect(retention.Retention!.RetainUntilDate!.getTime()).toBeGreaterThan(Date.now());
    }
  });

  it('the server refuses to delete a locked version, and to let a tile be overwritten as the exporter writes', async () => {
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'log/tile/0/000' }));
    const original = versions.Versions!.find((v) => v.Key === 'log/tile/0/000')!;
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'log/tile/0/000', VersionId: original.VersionId })).catch((e: Error) => e);
    expect(deleted).toBeInstanceOf(Error);
    expect((deleted as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(403);
    const bypass = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'log/tile/0/000', VersionId: original.VersionId, BypassGovernanceRetention: true })).catch((e: Error) => e);
    expect(bypass).toBeInstanceOf(Error); // compliance mode: no bypass, not even for the owner
    const overwrite = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'log/tile/0/000', Body: 'forged', IfNoneMatch: '*' })).catch((e: Error) => e);
    expect((overwrite as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(412);
    // A plain PUT only adds a version above the locked one, which stays readable by its id.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'log/tile/0/000', Body: 'forged' }));
    const kept = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'log/tile/0/000', VersionId: original.VersionId }));
    expect((await kept.Body!.transformToByteArray()).length).toBe(256 * 32);
    // …and a reader of the bucket notices the forged current version instead of trusting it.
    const forged = await verifyLogCopy({ fetch: (p) => getObject(bucket, `log/${p}`), origin: ORIGIN, verifiers: [ed25519NoteVerifier(log.verifierKey)] }).catch((e: Error) => e);
    expect(forged).toBeInstanceOf(Error);
    expect((forged as Error).message).toMatch(/tile|hash|entries/);
  });

  it('exports incrementally: only the new tiles, and a new checkpoint version above the old one', async () => {
    const fresh = `${bucket}-2`;
    await s3.send(new CreateBucketCommand({ Bucket: fresh, ObjectLockEnabledForBucket: true }));
    expect((await exportTo(`s3://${fresh}`)).status).toBe(0);
    await appendEntries(10);
    const r = await exportTo(`s3://${fresh}`);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/entries 300\.\.310/);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: fresh, Prefix: 'checkpoint' }));
    expect(versions.Versions!.filter((v) => v.Key === 'checkpoint')).toHaveLength(2);
    const copy = await verifyLogCopy({ fetch: (p) => getObject(fresh, p), origin: ORIGIN, verifiers: [ed25519NoteVerifier(log.verifierKey)] });
    expect(copy.checkpoint.size).toBe(310);
  });

  it('refuses a bucket without Object Lock, saying how to create one', async () => {
    const plain = `${bucket}-plain`;
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
    const r = await exportTo(`s3://${plain}`);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/Object Lock/);
  });
});
