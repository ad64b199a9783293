// A signer started for DKG (`ztmint signer dkg-serve`): it has no share yet, only its mTLS identity
// (`<state>/tls/signer-<i>.pem`, `-key.pem`, `ca.pem`). It serves the DKG endpoints to the relay,
// seals the share it ends up with at `<state>/signers/<i>/share.sealed` under its key provider
// (the `file` provider with `seal.key` beside it unless told otherwise), and is then done: the
// normal signer (`ztmint signer`) serves that share.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GroupInfo, SecretShare } from '../protocol/ciphersuite.js';
import { serviceLogger } from '../logging/service-logger.js';
import { sameBytes, signerName, type Rng } from './dkg.js';
import { buildDkgSignerServer, type DkgFinalResult, type SealedResult } from './dkg-server.js';
import { checkUnseal, describeSealedShare, readSealedShare, sealShare, type ProviderOptions, type SealTarget } from './sealed-share.js';

export interface DkgSignerOptions {
  state: string;
  index: number;
  host: string;
  port: number;
  /** Client certificate CNs allowed to call (default: the coordinator, which runs the relay). */
  allowedClients?: string[];
  /** Key provider for the share (default: file, `seal.key` beside share.sealed). */
  sealTarget?: SealTarget;
  /** Secrets for the provider (PIN…); by default from the environment or a prompt. */
  sealOptions?: ProviderOptions;
  expect?: { threshold?: number; signers?: number };
  /** Replace an existing share.sealed (otherwise the signer refuses to start). */
  replace?: boolean;
  logger?: boolean | object;
  /** Tests only. */
  rng?: Rng;
}

function sharePathFor(state: string, index: number): string {
  return join(state, 'signers', String(index), 'share.sealed');
}

/** Seals `share` and proves it unseals to the same bytes; returns non-secret facts only. */
export async function sealDkgShare(path: string, share: SecretShare, group: GroupInfo, target: SealTarget, opts: ProviderOptions = {}): Promise<SealedResult> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  await sealShare(share, group.group_public_key, target, path, opts);
  await checkUnseal(path, opts, (back) => {
    if (back.identifier !== share.identifier || back.groupPublicKey !== group.group_public_key || !sameBytes(back.signingShare, share.signingShare)) {
      throw new Error(`${path} does not unseal to the share just sealed`);
    }
  });
  return { path, provider: describeSealedShare(await readSealedShare(path)).provider };
}

export async function startDkgSigner(opts: DkgSignerOptions) {
  const name = signerName(opts.index);
  const tlsDir = join(opts.state, 'tls');
  const sharePath = sharePathFor(opts.state, opts.index);
  if (existsSync(sharePath) && !opts.replace) {
    throw new Error(`${sharePath} already exists: this signer already holds a share (pass --replace to replace it with the one this DKG produces)`);
  }
  const target: SealTarget = opts.sealTarget ?? { type: 'file', keyFile: join(opts.state, 'signers', String(opts.index), 'seal.key') };
  const [key, cert, ca] = await Promise.all([readFile(join(tlsDir, `${name}-key.pem`), 'utf8'), readFile(join(tlsDir, `${name}.pem`), 'utf8'), readFile(join(tlsDir, 'ca.pem'), 'utf8')]);
  let resolveDone!: (r: DkgFinalResult) => void;
  const done = new Promise<DkgFinalResult>((r) => (resolveDone = r));
  const app = await buildDkgSignerServer({
    identity: { index: opts.index, certificate: cert, privateKey: key, ca },
    tls: { key, cert, ca },
    allowedClients: opts.allowedClients?.length ? opts.allowedClients : ['coordinator'],
    logger: opts.logger ?? serviceLogger({ signer: name, mode: 'dkg' }),
    expect: opts.expect,
    rng: opts.rng,
    seal: (share, group) => sealDkgShare(sharePath, share, group, target, opts.sealOptions),
    onFinalized: resolveDone,
  });
  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const url = `https://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  return { app, url, name, done };
}
