// Certificates are renewed under running services, as cert-manager or certbot do: the
// coordinator's own HTTPS certificate (--tls-cert/--tls-key) and the mTLS certificates between
// coordinator and signers (--mtls-*) are swapped on disk while mints run; the new certificates
// are served without a restart and no request fails, including while the swap is half done
// (new certificate, old key: refused, the old pair stays in force).
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevIssuer, type DevIssuer } from '../cli/dev-issuer.js';
import { writeLocalPki } from '../pki/local-pki.js';
import { CLI, freePorts, ManagedProcess, signerArgs } from './helpers/stack.js';

const HOST = '127.0.0.1';
let work: string;
let issuer: DevIssuer;
let coordinator: ManagedProcess;
let signers: ManagedProcess[] = [];
let coordinatorUrl: string;
let signerPort: number;
let agent: Agent;

/** PEM files of one PKI generation: its CA, the coordinator's HTTPS cert, and the mTLS certs. */
const pem = (generation: string, name: string) => join(work, generation, `${name}.pem`);
const live = (name: string) => join(work, 'live', name);

/** Where each service reads its certificates: files we overwrite in place during the test. */
async function install(generation: string, names: string[]): Promise<void> {
  for (const name of names) {
    await copyFile(pem(generation, name), live(`${name}.pem`));
    await copyFile(pem(generation, `${name}-key`), live(`${name}-key.pem`));
  }
}

function fingerprint(path: string): Promise<string> {
  return readFile(path, 'utf8').then((text) => new X509Certificate(text).fingerprint256);
}

/** The certificate a fresh TLS connection is served (with the coordinator's client certificate, for signers). */
function servedFingerprint(port: number, servername: string, client?: { cert: string; key: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, servername, rejectUnauthorized: false, ...client });
    socket.setTimeout(5_000, () => socket.destroy(new Error('timeout')));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const fp = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.destroy();
      resolve(fp);
    });
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ztmint-tls-'));
  const state = join(work, 'state');
  const keygen = spawnSync(process.execPath, [CLI, 'keygen', '--state', state, '--signers', '2', '--threshold', '2'], { encoding: 'utf8' });
  if (keygen.status !== 0) throw new Error(keygen.stderr);
  // Two generations of certificates from two CAs; both CAs are trusted throughout (a CA bundle,
  // as during a CA rotation), so the swap from generation a to b is a pure renewal.
  const entities = [
    { name: 'https', role: 'server' as const },
    { name: 'coordinator', role: 'client' as const },
    { name: 'signer-1', role: 'server' as const },
    { name: 'signer-2', role: 'server' as const },
  ];
  for (const g of ['a', 'b']) await writeLocalPki(join(work, g), entities);
  await mkdir(join(work, 'live'));
  await install('a', ['https', 'coordinator', 'signer-1', 'signer-2']);
  const bundle = (await readFile(pem('a', 'ca'), 'utf8')) + (await readFile(pem('b', 'ca'), 'utf8'));
  await writeFile(live('ca.pem'), bundle);
  await mkdir(join(state, 'logs'), { recursive: true });

  const [cPort, ...sPorts] = await freePorts(3);
  signerPort = sPorts[0]!;
  coordinatorUrl = `https://${HOST}:${cPort}`;
  issuer = await startDevIssuer({ host: HOST, audience: () => coordinatorUrl });
  const mtls = (name: string) => ['--mtls-cert', live(`${name}.pem`), '--mtls-key', live(`${name}-key.pem`), '--mtls-ca', live('ca.pem')];
  signers = sPorts.map(
    (port, i) =>
      new ManagedProcess(
        `signer-${i + 1}`,
        `https://${HOST}:${port}`,
        () => [...signerArgs({ state, index: i + 1, host: HOST, port, coordinatorUrl, issuerUrl: issuer.url }), ...mtls(`signer-${i + 1}`)],
        join(state, 'logs', `signer-${i + 1}.log`),
        {},
      ),
  );
  // The coordinator is configured through a config file and the environment, as in a container.
  const config = join(work, 'coordinator.yaml');
  await writeFile(
    config,
    [
      `state: ${state}`,
      `host: ${HOST}`,
      `port: ${cPort}`,
      `oidcAudience: ${coordinatorUrl}`,
      `oidcIssuers: [${issuer.url}]`,
      `signers: [${signers.map((s) => `"${s.name}=${s.url}"`).join(', ')}]`,
      `rateRepository: 100000/min,10000`,
      `rateSub: 100000/min,10000`,
      `mtlsCert: ${live('coordinator.pem')}`,
      `mtlsKey: ${live('coordinator-key.pem')}`,
      `mtlsCa: ${live('ca.pem')}`,
    ].join('\n'),
  );
  coordinator = new ManagedProcess('coordinator', coordinatorUrl, () => ['coordinator', '--config', config], join(state, 'logs', 'coordinator.log'), {
    ZTMINT_COORDINATOR_TLS_CERT: live('https.pem'),
    ZTMINT_COORDINATOR_TLS_KEY: live('https-key.pem'),
  });
  await Promise.all(signers.map((s) => s.start(60_000)));
  await coordinator.start(60_000);
  agent = new Agent({ connect: { ca: bundle, servername: 'https' }, connections: 4 });
}, 150_000);

afterAll(async () => {
  await Promise.allSettled([coordinator?.close(), ...signers.map((s) => s.close())]);
  await issuer?.close();
  await agent?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function mint(): Promise<number> {
  const oidc = await issuer.issue({ aud: coordinatorUrl });
  const res = await undiciFetch(`${coordinatorUrl}/v1/mint`, {
    method: 'POST',
    headers: { authorization: `Bearer ${oidc}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scopes: ['deploy:canary'] }),
    dispatcher: agent,
  });
  await res.arrayBuffer();
  return res.status;
}

describe('certificates renewed on disk are served without a restart', () => {
  it('swaps the HTTPS and mTLS certificates while minting; every mint succeeds and the new certificates are served', async () => {
    const client = { cert: await readFile(live('coordinator.pem'), 'utf8'), key: await readFile(live('coordinator-key.pem'), 'utf8') };
    expect(await servedFingerprint(Number(new URL(coordinatorUrl).port), 'https')).toBe(await fingerprint(pem('a', 'https')));
    expect(await servedFingerprint(signerPort, 'signer-1', client)).toBe(await fingerprint(pem('a', 'signer-1')));
    expect(await mint()).toBe(200);

    const statuses: number[] = [];
    let minting = true;
    const loop = (async () => {
      while (minting) statuses.push(await mint().catch(() => -1));
    })();
    try {
      // Half a swap first: the new certificate beside the old key. Unusable, so it is refused
      // and the old pair stays in force (mints keep succeeding through the poll below).
      await copyFile(pem('b', 'https'), live('https.pem'));
      await new Promise((r) => setTimeout(r, 2_500));
      expect(await servedFingerprint(Number(new URL(coordinatorUrl).port), 'https')).toBe(await fingerprint(pem('a', 'https')));
      // Then the rest of the renewal: HTTPS key, signers' and coordinator's mTLS pairs.
      await copyFile(pem('b', 'https-key'), live('https-key.pem'));
      await install('b', ['signer-1', 'signer-2', 'coordinator']);
      const wanted = await fingerprint(pem('b', 'https'));
      await until('the coordinator serves the renewed HTTPS certificate', async () => (await servedFingerprint(Number(new URL(coordinatorUrl).port), 'https')) === wanted);
      const wantedSigner = await fingerprint(pem('b', 'signer-1'));
      await until('signer-1 serves its renewed mTLS certificate', async () => (await servedFingerprint(signerPort, 'signer-1', client)) === wantedSigner);
      // Keep minting a little on the renewed certificates.
      const seen = statuses.length;
      await until('mints continue after the renewal', async () => statuses.length >= seen + 5);
    } finally {
      minting = false;
      await loop;
    }
    expect(statuses.length).toBeGreaterThan(5);
    expect(
      statuses.filter((s) => s !== 200),
      `statuses ${JSON.stringify(statuses)}`,
    ).toEqual([]);
    // A fresh connection after the renewal mints too (new HTTPS cert, new mTLS certs on both sides).
    await agent.close();
    agent = new Agent({ connect: { ca: await readFile(live('ca.pem'), 'utf8'), servername: 'https' } });
    expect(await mint()).toBe(200);
    const log = await readFile(join(work, 'state', 'logs', 'coordinator.log'), 'utf8');
    expect(log).toContain('TLS credentials not reloaded');
    expect(log).toContain('TLS credentials reloaded');
    expect(log).not.toContain('PRIVATE KEY');
  }, 150_000);
});
