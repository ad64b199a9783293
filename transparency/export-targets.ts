// Where `ztmint audit export` writes a log in the C2SP tlog-tiles layout: a directory, or an
// S3-compatible bucket with Object Lock (WORM). Tiles and entry bundles are immutable: each is
// written only if absent (O_EXCL for a file, `If-None-Match: *` for S3), and one already there
// must hold the same bytes (a re-run after a crash) or the export stops. The checkpoint is the one
// file that changes; it is written last. In a bucket with Object Lock every object version,
// checkpoints included, is kept in compliance mode until its retention date: no one, the bucket
// owner and root included, can delete or shorten it before then, so an earlier checkpoint stays
// available to prove a later rewrite.
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { TransparencyError } from './errors.js';
import { equalHashes } from './merkle.js';

export interface ExportTarget {
  /** Human-readable destination, for progress lines. */
  readonly description: string;
  /** The bytes at `path`, or undefined when there is none. */
  get(path: string): Promise<Uint8Array | undefined>;
  /** Writes a file that must never change; an existing one must hold exactly `data`. */
  putImmutable(path: string, data: Uint8Array): Promise<void>;
  /** Replaces the checkpoint (after every tile it covers is written). */
  putCheckpoint(path: string, data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

function differs(path: string, where: string): TransparencyError {
  return new TransparencyError('tlog_inconsistent', `${where} already holds a different ${path}: it is a copy of another log (or was edited); export to an empty destination`);
}

/** A directory: `<dir>/checkpoint`, `<dir>/tile/…`. */
export function directoryTarget(dir: string): ExportTarget {
  const root = resolve(dir);
  const full = (path: string) => {
    const p = join(root, path);
    if (!p.startsWith(root + sep)) throw new TransparencyError('tlog_malformed', `path ${path} leaves the export directory`);
    return p;
  };
  return {
    description: root,
    async get(path) {
      try {
        return new Uint8Array(await readFile(full(path)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async putImmutable(path, data) {
      const p = full(path);
      await mkdir(dirname(p), { recursive: true });
      let file;
      try {
        file = await open(p, 'wx', 0o444);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (!equalHashes(new Uint8Array(await readFile(p)), data)) throw differs(path, root);
        return;
      }
      try {
        await file.writeFile(data);
        await file.datasync();
      } finally {
        await file.close();
      }
    },
    async putCheckpoint(path, data) {
      const p = full(path);
      await writeFile(`${p}.tmp`, data, { mode: 0o644 });
      await rename(`${p}.tmp`, p);
    },
    async close() {},
  };
}

export interface S3TargetOptions {
  /** `s3://bucket[/prefix]` */
  url: string;
  /** An S3-compatible endpoint (MinIO, versitygw, Ceph…); default: AWS for the region. */
  endpoint?: string;
  region?: string;
  /** Object Lock retention in days (compliance mode) for every object written. */
  retainDays: number;
  /** Credentials; default: the AWS SDK's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile, role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Splits `s3://bucket/prefix` into bucket and key prefix (without trailing slash). */
function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (m === null) throw new TransparencyError('tlog_malformed', `not an s3://bucket[/prefix] URL: ${url}`);
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/\/+$/, '') };
}

function errorName(err: unknown): string {
  return (err as { name?: string }).name ?? '';
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/**
 * A bucket with Object Lock enabled. Refuses to start unless the bucket reports Object Lock on,
 * so an export can never silently land in an ordinary, deletable bucket.
 */
export async function s3Target(opts: S3TargetOptions): Promise<ExportTarget> {
  if (!Number.isInteger(opts.retainDays) || opts.retainDays < 1) throw new TransparencyError('tlog_malformed', 'retention must be a whole number of days, at least 1');
  const { bucket, prefix } = parseS3Url(opts.url);
  // Loaded only when an S3 export runs: the SDK is large and no other command needs it.
  const s3 = await import('@aws-sdk/client-s3');
  const client: S3Client = new s3.S3Client({
    region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(opts.endpoint ? { endpoint: opts.endpoint, forcePathStyle: true } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  });
  const key = (path: string) => (prefix ? `${prefix}/${path}` : path);
  const lock = await client.send(new s3.GetObjectLockConfigurationCommand({ Bucket: bucket })).catch((err: unknown) => {
    throw new TransparencyError('tlog_malformed', `cannot read the Object Lock configuration of bucket ${bucket} (${errorName(err) || 'error'}): create it with Object Lock enabled`, { cause: err });
  });
  if (lock.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled') {
    throw new TransparencyError('tlog_malformed', `bucket ${bucket} does not have Object Lock enabled: an export must not be deletable; create the bucket with Object Lock`);
  }
  const retention = () => ({ ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: new Date(Date.now() + opts.retainDays * 86_400_000) });
  const get = async (path: string): Promise<Uint8Array | undefined> => {
    try {
      const res = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key(path) }));
      return res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      if (errorName(err) === 'NoSuchKey' || statusOf(err) === 404) return undefined;
      throw err;
    }
  };
  return {
    description: `s3://${bucket}${prefix ? `/${prefix}` : ''}${opts.endpoint ? ` at ${opts.endpoint}` : ''}`,
    get,
    async putImmutable(path, data) {
      try {
        await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: key(path), Body: data, IfNoneMatch: '*', ...retention() }));
      } catch (err) {
        if (statusOf(err) !== 412 && errorName(err) !== 'PreconditionFailed') throw err;
        const existing = await get(path);
        if (existing === undefined || !equalHashes(existing, data)) throw differs(path, `s3://${bucket}`);
      }
    },
    async putCheckpoint(path, data) {
      // A new version; the earlier checkpoints stay, each locked until its own retention date.
      await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: key(path), Body: data, ContentType: 'text/plain; charset=utf-8', ...retention() }));
    },
    async close() {
      client.destroy();
    },
  };
}
