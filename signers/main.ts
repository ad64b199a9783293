// Signer process entry point: unseal the share, serve mTLS, print one JSON ready line.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { serviceLogger } from '../protocol/service-logger.js';
import { unsealShare } from './sealed-share.js';
import { buildSignerServer } from './server.js';

export interface SignerProcessOptions {
  state: string;
  index: number;
  host: string;
  port: number;
  allowedClients: string[];
}

export async function startSigner(opts: SignerProcessOptions) {
  const dir = join(opts.state, 'signers', String(opts.index));
  const tlsDir = join(opts.state, 'tls');
  const group = JSON.parse(await readFile(join(opts.state, 'group.json'), 'utf8')) as GroupInfo;
  // The sealed file names its key provider; PINs/credentials come from the environment or a prompt.
  const share = await unsealShare(join(dir, 'share.sealed'));
  if (share.groupPublicKey !== group.group_public_key || !(share.identifier in group.verifying_shares)) {
    throw new Error(`share in ${dir} does not belong to the key set in group.json`);
  }
  const name = `signer-${opts.index}`;
  const app = await buildSignerServer({
    share,
    group,
    allowedClients: opts.allowedClients,
    logger: serviceLogger({ signer: name }),
    tls: {
      key: await readFile(join(tlsDir, `${name}-key.pem`), 'utf8'),
      cert: await readFile(join(tlsDir, `${name}.pem`), 'utf8'),
      ca: await readFile(join(tlsDir, 'ca.pem'), 'utf8'),
    },
  });
  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const url = `https://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  return { app, url, identifier: share.identifier };
}
