// The dev stack's signed policy: a policy-admin key pair in <state>/policy (made once), the bundle
// of the policy it runs (built and signed in JS, so no OPA CLI is needed) and a revisions file
// listing it. Signers and coordinator get the bundle options, so `ztmint policy …` can roll out
// new revisions against the running stack; edits of the data file are rolled out in stages.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, unwatchFile, watchFile } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildPolicyBundle } from '../policy-engine/bundle.js';
import { policyHash } from '../policy-engine/hash.js';
import { Agent, request } from 'undici';
import { devPolicyPaths, devTlsPaths, type DevPolicyPaths } from './dev-stack-file.js';

/** An EC P-256 policy-admin key pair (ES256, which `opa build --signing-alg ES256` also uses). */
export async function writeAdminKeyPair(privatePath: string, publicPath: string): Promise<void> {
  if (existsSync(privatePath)) throw new Error(`${privatePath} exists: refusing to overwrite a policy admin key`);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await mkdir(dirname(privatePath), { recursive: true, mode: 0o700 });
  await mkdir(dirname(publicPath), { recursive: true });
  await writeFile(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(publicPath, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
}

/** Writes a file so that a polling reader never sees half of it. */
export async function writeFileAtomically(path: string, bytes: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, bytes);
  await rename(`${path}.tmp`, path);
}

/** Signs wasm + data into `<bundleDir>/<revision>.tar.gz`; the revision defaults to the policy hash. */
export async function bundlePolicyFiles(opts: { wasm: string; data: string; revision?: string; signingKey: string; out?: string; bundleDir?: string; keyId?: string }) {
  const wasm = await readFile(opts.wasm);
  const dataBytes = await readFile(opts.data);
  const revision = opts.revision ?? policyHash(wasm, dataBytes);
  const gz = await buildPolicyBundle({
    wasm,
    data: JSON.parse(dataBytes.toString('utf8')),
    revision,
    signingKeyPem: await readFile(opts.signingKey, 'utf8'),
    ...(opts.keyId ? { keyId: opts.keyId } : {}),
  });
  const file = opts.out ?? join(opts.bundleDir ?? '.', `${revision.replace(/[/:]/g, '_')}.tar.gz`);
  await writeFileAtomically(file, gz);
  return { revision, file };
}

export async function prepareDevPolicy(state: string, wasm: string, data: string): Promise<DevPolicyPaths & { revision: string }> {
  const paths = devPolicyPaths(state);
  if (!existsSync(paths.admin_key)) await writeAdminKeyPair(paths.admin_key, paths.admin_public_key);
  const { revision } = await bundlePolicyFiles({ wasm, data, signingKey: paths.admin_key, bundleDir: paths.bundle_dir });
  await writeFileAtomically(paths.revisions_file, `# policy revisions accepted, in order of preference (ztmint policy revisions)\n${revision}\n`);
  return { ...paths, revision };
}

const ROLLOUT_WAIT_MS = 30_000;
/** Mints that took the old revision just before the coordinator switched finish well within this. */
const DRAIN_MS = 5_000;

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ROLLOUT_WAIT_MS;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ROLLOUT_WAIT_MS / 1000} s waiting for ${what}`);
}

export interface DevPolicyRollout {
  state: string;
  wasm: string;
  data: string;
  paths: DevPolicyPaths;
  revision: string;
  signerUrls: string[];
  coordinatorUrl: string;
  log: (line: string) => void;
}

/**
 * Edits of the dev stack's policy data file are rolled out as an operator would: sign a new
 * bundle, let every signer accept both revisions, switch the coordinator once they do, retire the
 * old revision once mints under it have drained. A file that does not build is refused and logged.
 */
export function watchDevPolicyData(opts: DevPolicyRollout): () => void {
  const tls = devTlsPaths(opts.state);
  const agent = new Agent({ connect: { ca: readFileSync(tls.ca, 'utf8'), cert: readFileSync(tls.client_cert, 'utf8'), key: readFileSync(tls.client_key, 'utf8') } });
  const revisions = (list: string[]) => writeFileAtomically(opts.paths.revisions_file, `# policy revisions accepted, in order of preference\n${list.join('\n')}\n`);
  const signerRevisions = async (url: string) => {
    const res = await request(`${url}/v1/info`, { dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
    return ((await res.body.json()) as { policy_revisions?: string[] }).policy_revisions ?? [];
  };
  const coordinatorPolicy = async () => ((await (await fetch(`${opts.coordinatorUrl}/readyz`, { signal: AbortSignal.timeout(10_000) })).json()) as { policy?: string }).policy;
  let current = opts.revision;
  let queue = Promise.resolve();
  const rollOut = async () => {
    let next: string;
    try {
      next = (await bundlePolicyFiles({ wasm: opts.wasm, data: opts.data, signingKey: opts.paths.admin_key, bundleDir: opts.paths.bundle_dir })).revision;
    } catch (err) {
      opts.log(`policy data ${opts.data} refused, revision ${current} stays: ${(err as Error).message}`);
      return;
    }
    if (next === current) return;
    try {
      opts.log(`policy rollout ${current} → ${next}: signers accept both`);
      await revisions([current, next]);
      await until('every signer to accept the new revision', async () => (await Promise.all(opts.signerUrls.map(signerRevisions))).every((r) => r.includes(next)));
      opts.log(`policy rollout ${current} → ${next}: coordinator switches`);
      await revisions([next, current]);
      await until('the coordinator to switch', async () => (await coordinatorPolicy()) === next);
      await new Promise((r) => setTimeout(r, DRAIN_MS));
      await revisions([next]);
      opts.log(`policy rollout ${current} → ${next}: done, ${current} retired`);
      current = next;
    } catch (err) {
      opts.log(`policy rollout ${current} → ${next} stopped: ${(err as Error).message}`);
    }
  };
  const onChange = () => {
    queue = queue.then(rollOut);
  };
  watchFile(opts.data, { interval: 500 }, onChange);
  return () => {
    unwatchFile(opts.data, onChange);
    void agent.close();
  };
}
