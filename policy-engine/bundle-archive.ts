// The tar.gz container of an OPA bundle, read into memory with bounds (a bundle is small; a gzip
// bomb or a huge file is refused) and written the way `opa build` writes it (absolute member
// names, mtime 0). Names are normalised as OPA does: a leading "/" or "./" is dropped.
import { gunzipSync, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { ZtmintError } from '../errors/ztmint-error.js';

/** Unpacked size limit of one bundle: the policy wasm is ~0.4 MB, its data a few KB. */
const MAX_UNPACKED_BYTES = 64 * 1024 * 1024;
const MAX_FILES = 1_000;

export class BundleError extends ZtmintError {}

/** Bundle member name → content. */
export type BundleFiles = Map<string, Uint8Array>;

function memberName(raw: string): string {
  const name = raw.replace(/^\.?\/+/, '');
  if (!name || name.split('/').some((part) => part === '..' || part === '')) throw new BundleError('bundle_member_name', `bundle member ${JSON.stringify(raw)} has an unsafe name`);
  return name;
}

export async function readBundleArchive(gz: Uint8Array): Promise<BundleFiles> {
  let tar: Buffer;
  try {
    tar = gunzipSync(gz, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (cause) {
    throw new BundleError('bundle_not_gzip', `not a gzip-compressed bundle or larger than ${MAX_UNPACKED_BYTES} bytes unpacked: ${(cause as Error).message}`, { cause });
  }
  const files: BundleFiles = new Map();
  const ex = extract();
  Readable.from([tar]).pipe(ex);
  try {
    for await (const entry of ex) {
      const { type, name: raw } = entry.header;
      if (type === 'directory') {
        entry.resume();
        continue;
      }
      if (type !== 'file' && type !== 'contiguous-file') throw new BundleError('bundle_member_type', `bundle member ${JSON.stringify(raw)} is a ${String(type)}, not a regular file`);
      const name = memberName(raw);
      if (files.has(name)) throw new BundleError('bundle_member_duplicate', `bundle holds ${name} twice`);
      if (files.size >= MAX_FILES) throw new BundleError('bundle_too_many_files', `bundle holds more than ${MAX_FILES} files`);
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      files.set(name, Buffer.concat(chunks));
    }
  } catch (cause) {
    if (cause instanceof BundleError) throw cause;
    throw new BundleError('bundle_not_tar', `not a tar archive: ${(cause as Error).message}`, { cause });
  }
  return files;
}

export async function writeBundleArchive(files: BundleFiles): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of p) chunks.push(chunk as Buffer);
  })();
  for (const [name, bytes] of files) p.entry({ name: `/${name}`, mode: 0o644, mtime: new Date(0) }, Buffer.from(bytes));
  p.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}
