// The `file` provider (dev only): the content key is a 32-byte file that only its owner may read.
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { SealError, type ContentKey, type FileParams, type FileTarget } from './types.js';

export async function createSealKey(path: string): Promise<void> {
  const key = randomBytes(32);
  try {
    await writeFile(path, key, { mode: 0o600, flag: 'wx' });
  } finally {
    key.fill(0);
  }
}

async function readSealKey(path: string): Promise<Buffer> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new SealError('key_not_found', `seal key ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if ((info.mode & 0o077) !== 0) {
    throw new SealError('config', `seal key ${path} is readable by group or others: run chmod 600 ${path}`);
  }
  const key = await readFile(path);
  if (key.length !== 32) {
    key.fill(0);
    throw new SealError('config', `seal key ${path} must hold 32 bytes`);
  }
  return key;
}

/** Stored key path: relative to the sealed file's folder when the key lives at or below it. */
function storedPath(keyFile: string, sealedPath: string): string {
  const abs = resolve(keyFile);
  const rel = relative(dirname(resolve(sealedPath)), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : abs;
}

export function keyFilePath(params: FileParams, sealedPath: string): string {
  return isAbsolute(params.key_file) ? params.key_file : resolve(dirname(resolve(sealedPath)), params.key_file);
}

export async function fileContentKey(target: FileTarget, sealedPath: string): Promise<ContentKey<FileParams>> {
  try {
    await createSealKey(target.keyFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return { key: await readSealKey(target.keyFile), params: { type: 'file', key_file: storedPath(target.keyFile, sealedPath) } };
}

export async function fileRecoverKey(params: FileParams, sealedPath: string, keyPathOverride?: string): Promise<Buffer> {
  if (typeof params.key_file !== 'string' || !params.key_file) throw new SealError('format', 'file provider: key_file is missing');
  return readSealKey(keyPathOverride ?? keyFilePath(params, sealedPath));
}
