// A signed OPA policy bundle: verified (./bundle-signature.ts), then read as OPA reads it. The
// `.manifest` names the revision (the token's `pol` claim) and the wasm module of the entrypoint
// ztmint/mint/decision (default `/policy.wasm`); each `<path>/data.json` is the data document at
// <path> (`opa build` writes one `/data.json` holding {"ztmint": …}). Other signed files (the Rego
// sources `opa build` includes) are covered by the signature and otherwise ignored.
import { createHash } from 'node:crypto';
import { BundleError, readBundleArchive, writeBundleArchive, type BundleFiles } from './bundle-archive.js';
import { SIGNATURES_FILE, signBundle, verifyBundle, type AdminKey } from './bundle-signature.js';
import { policyHash } from './hash.js';
import { DECISION_ENTRYPOINT, loadPolicyModule, type LoadedPolicy } from './evaluate.js';

/** A revision is written into tokens, logs and a line-based file: printable, no spaces, bounded. */
export const REVISION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@+/-]{0,127}$/;
const MANIFEST = '.manifest';
const DEFAULT_WASM = 'policy.wasm';

export interface VerifiedBundle {
  policy: LoadedPolicy;
  /** SHA-256 of the bundle file as given (to tell two bundles of one revision apart). */
  sha256: string;
  signedBy: string;
  keyId?: string;
}

interface Manifest {
  revision?: unknown;
  wasm?: Array<{ entrypoint?: unknown; module?: unknown }>;
}

function parseJson(name: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new BundleError('bundle_json_invalid', `bundle file ${name} is not valid JSON`);
  }
}

/** Places each data.json at its directory's path, as OPA does. */
function dataDocument(files: BundleFiles): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [name, bytes] of files) {
    if (name !== 'data.json' && !name.endsWith('/data.json')) continue;
    const value = parseJson(name, bytes);
    const path = name.split('/').slice(0, -1);
    let node = root;
    for (const key of path) {
      const next = node[key];
      if (next === undefined) node = (node[key] = {}) as Record<string, unknown>;
      else if (next && typeof next === 'object' && !Array.isArray(next)) node = next as Record<string, unknown>;
      else throw new BundleError('bundle_data_conflict', `bundle data at ${name} collides with other data`);
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      if (path.length === 0) throw new BundleError('bundle_data_invalid', 'the root data.json must hold an object');
      const parent = path.slice(0, -1).reduce<Record<string, unknown>>((n, k) => n[k] as Record<string, unknown>, root);
      parent[path[path.length - 1]!] = value;
    } else Object.assign(node, value);
  }
  return root;
}

/** Verifies and loads a bundle (tar.gz bytes); throws a BundleError saying what is wrong. */
export async function readPolicyBundle(gz: Uint8Array, adminKeys: AdminKey[]): Promise<VerifiedBundle> {
  const files = await readBundleArchive(gz);
  const { signedBy, keyId } = await verifyBundle(files, adminKeys);
  for (const name of files.keys()) {
    if (/(^|\/)data\.ya?ml$/.test(name)) throw new BundleError('bundle_data_yaml', `bundle file ${name}: give policy data as data.json`);
  }
  const manifestBytes = files.get(MANIFEST);
  if (!manifestBytes) throw new BundleError('bundle_manifest_missing', 'bundle has no .manifest: build it with a revision (ztmint policy bundle --revision, or opa build --revision)');
  const manifest = parseJson(MANIFEST, manifestBytes) as Manifest;
  const revision = manifest?.revision;
  if (typeof revision !== 'string' || !REVISION_PATTERN.test(revision)) {
    throw new BundleError('bundle_revision_invalid', `bundle .manifest revision must match ${String(REVISION_PATTERN)} (letters, digits and ._:@+/-, at most 128)`);
  }
  const resolver = Array.isArray(manifest.wasm) ? manifest.wasm.find((w) => w?.entrypoint === DECISION_ENTRYPOINT) : undefined;
  const wasmName = typeof resolver?.module === 'string' ? resolver.module.replace(/^\/+/, '') : DEFAULT_WASM;
  const wasm = files.get(wasmName);
  if (!wasm) throw new BundleError('bundle_wasm_missing', `bundle has no ${wasmName} for entrypoint ${DECISION_ENTRYPOINT}: build it with opa build -t wasm -e ${DECISION_ENTRYPOINT}`);
  const dataBytes = files.get('data.json') ?? new Uint8Array();
  let policy: LoadedPolicy;
  try {
    policy = await loadPolicyModule(wasm, dataDocument(files), policyHash(wasm, dataBytes), revision);
  } catch (cause) {
    if (cause instanceof BundleError) throw cause;
    throw new BundleError('bundle_wasm_invalid', `bundle ${wasmName} does not load: ${(cause as Error).message}`, { cause });
  }
  return { policy, sha256: createHash('sha256').update(gz).digest('hex'), signedBy, ...(keyId ? { keyId } : {}) };
}

/** Builds and signs a bundle in JS (no OPA needed): /policy.wasm, /data.json = {"ztmint": data}, /.manifest. */
export async function buildPolicyBundle(opts: { wasm: Uint8Array; data: unknown; revision: string; signingKeyPem: string; keyId?: string }): Promise<Buffer> {
  if (!REVISION_PATTERN.test(opts.revision)) throw new BundleError('bundle_revision_invalid', `revision must match ${String(REVISION_PATTERN)}`);
  const files: BundleFiles = new Map();
  files.set('data.json', Buffer.from(JSON.stringify({ ztmint: opts.data })));
  files.set(DEFAULT_WASM, opts.wasm);
  const manifest = { revision: opts.revision, roots: [''], wasm: [{ entrypoint: DECISION_ENTRYPOINT, module: `/${DEFAULT_WASM}` }] };
  files.set(MANIFEST, Buffer.from(JSON.stringify(manifest)));
  files.set(SIGNATURES_FILE, Buffer.from(await signBundle(files, opts.signingKeyPem, opts.keyId)));
  return writeBundleArchive(files);
}
