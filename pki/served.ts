// What the running processes serve now, next to what is on disk: after `pki renew` an operator
// sees each signer move to its renewed certificate (they reload within seconds). Asked over a
// fresh TLS connection with the coordinator's client pair, as the coordinator would connect.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:tls';

export interface Served {
  not_after?: string;
  /** SHA-256 of the served certificate (DER), hex. */
  sha256?: string;
  error?: string;
}

export async function servedCertificate(url: string, servername: string, client: { cert: string; key: string; ca: string }, timeoutMs = 5_000): Promise<Served> {
  const [cert, key, ca] = await Promise.all([readFile(client.cert, 'utf8'), readFile(client.key, 'utf8'), readFile(client.ca, 'utf8')]);
  const u = new URL(url);
  return new Promise((resolve) => {
    // Not verified here: an expired or foreign certificate is exactly what this should show.
    const socket = connect({ host: u.hostname, port: Number(u.port), servername, cert, key, ca, rejectUnauthorized: false });
    const done = (served: Served) => {
      socket.destroy();
      resolve(served);
    };
    socket.setTimeout(timeoutMs, () => done({ error: 'timeout' }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.name }));
    socket.once('secureConnect', () => {
      const peer = socket.getPeerX509Certificate();
      done(peer ? { not_after: new Date(peer.validTo).toISOString(), sha256: createHash('sha256').update(peer.raw).digest('hex') } : { error: 'no certificate' });
    });
  });
}
