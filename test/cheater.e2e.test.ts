// Cheater detection end to end: signer-2's round-2 answers are tampered with on the wire by an
// mTLS man in the middle (it holds signer-2's certificate and key, demands the coordinator's
// client certificate, and forwards to the real signer-2 with the coordinator's certificate),
// flipping one bit of every signature share. A coordinator (in this process, wired like the real
// one to the dev stack's signers, with signer-2's URL pointing at the proxy) must name signer-2,
// leave it out, and still mint with the other two. Nothing in the product knows about the test.
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_FILE, AuditLog } from '../coordinator/audit.js';
import { SignerClient } from '../coordinator/signer-client.js';
import { frostSign } from '../coordinator/signing.js';
import { ed25519PublicKey, thumbprint, verifyEd25519 } from '../protocol/jwk.js';
import { signerTls, startDevStack, type DevStack } from './helpers/dev-stack.js';
import { honestToken } from './helpers/honest-token.js';
import { inProcessCoordinator } from './helpers/in-process-coordinator.js';

let stack: DevStack;
let proxy: { url: string; tampered: () => number; forwarded: () => number; setTamper(on: boolean): void; close(): Promise<void> };

/** An mTLS proxy in front of `target` that presents `name`'s certificate and can corrupt round-2 shares. */
async function startMitm(state: string, name: string, target: string) {
  const server = await signerTls(state, name); // signer-2's own certificate and key
  const upstream = new Agent({ connect: { ...(await signerTls(state)), servername: name } }); // as the coordinator
  let tamper = true;
  let tampered = 0;
  let forwarded = 0;
  const https: Server = createServer({ ...server, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (req, res) => {
    const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
    if (cn !== 'coordinator') {
      res.writeHead(403).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    // The listener returns nothing: the async proxying answers 502 itself on any error.
    req.on(
      'end',
      () =>
        void (async () => {
          try {
            forwarded++;
            const up = await request(`${target}${req.url}`, {
              method: req.method as 'GET' | 'POST',
              dispatcher: upstream,
              headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
              body: chunks.length ? Buffer.concat(chunks) : undefined,
            });
            let body = Buffer.from(await up.body.arrayBuffer());
            if (tamper && req.url === '/v1/round2' && up.statusCode === 200) {
              const doc = JSON.parse(body.toString('utf8')) as { share: string };
              const share = Buffer.from(doc.share, 'base64url');
              share[0]! ^= 0x01; // still a canonical scalar: only the signature check can tell
              doc.share = share.toString('base64url');
              body = Buffer.from(JSON.stringify(doc));
              tampered++;
            }
            res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') }).end(body);
          } catch {
            res.writeHead(502).end();
          }
        })(),
    );
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  const address = https.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    tampered: () => tampered,
    forwarded: () => forwarded,
    setTamper: (on: boolean) => void (tamper = on),
    close: async () => {
      https.closeAllConnections();
      await new Promise((r) => https.close(r));
      await upstream.close();
    },
  };
}

beforeAll(async () => {
  stack = await startDevStack();
  proxy = await startMitm(stack.state, 'signer-2', stack.signers[1]!.url);
});
afterAll(async () => {
  await proxy?.close();
  await stack?.stop();
});

async function signerClients() {
  const tls = await signerTls(stack.state);
  // 15 s per signer request instead of the coordinator's 2 s: on a loaded machine a signer (or the
  // proxy) can be slower than that, and this test is about a wrong share, not a slow one.
  return stack.signers.map((s) => new SignerClient({ name: `signer-${s.id}`, url: s.id === 2 ? proxy.url : s.url }, tls, { timeoutMs: 15_000 }));
}

async function coordinator() {
  const auditDir = await mkdtemp(join(tmpdir(), 'ztmint-audit-'));
  const audit = await AuditLog.open(auditDir);
  const c = await inProcessCoordinator(stack, await signerClients(), audit);
  const auditRecords = async () =>
    (await readFile(join(auditDir, AUDIT_FILE), 'utf8'))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    ...c,
    auditRecords,
    close: async () => {
      await c.close();
      await audit.close();
    },
  };
}

describe('a signer that returns a wrong share', () => {
  it('is named in the log and left out, and the mint succeeds with the other two', async () => {
    const c = await coordinator();
    try {
      const secrets: string[] = [];
      const tamperedBefore = proxy.tampered();
      // Three mints: each run starts at the next signer, so signer-2 is picked first in two of them.
      for (let i = 0; i < 3; i++) {
        const { oidc, res } = await c.mint();
        expect(res.statusCode, res.body).toBe(200);
        const body = res.json() as { token: string; audit: { index: number } };
        secrets.push(oidc, body.token);
        const [h, p, s] = body.token.split('.');
        const group = JSON.parse(await readFile(join(stack.state, 'group.json'), 'utf8'));
        expect(verifyEd25519(ed25519PublicKey(group.group_public_key), Buffer.from(`${h}.${p}`), Buffer.from(s!, 'base64url'))).toBe(true);
      }
      expect(proxy.tampered() - tamperedBefore).toBeGreaterThanOrEqual(1);

      // The log names the culprit (and never carries a token).
      const named = c.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'signer sent an invalid signature share');
      expect(named.length).toBe(proxy.tampered() - tamperedBefore);
      expect(named.every((l) => l.signer === 'signer-2')).toBe(true);
      for (const secret of secrets) expect(c.logs.join('\n')).not.toContain(secret);

      // Every token was signed by signer-1 and signer-3 only.
      const auditLines = await c.auditRecords();
      expect(auditLines).toHaveLength(3);
      for (const record of auditLines) {
        expect(record.event).toBe('mint');
        expect(record.signers).toEqual(['signer-1', 'signer-3']);
      }
      // Mints where signer-2 was tried name it in the audit record as the culprit.
      const blamed = auditLines.filter((r) => r.culprits);
      expect(blamed.length).toBe(proxy.tampered() - tamperedBefore);
      for (const record of blamed) expect(record).toMatchObject({ excluded: ['signer-2'], culprits: ['signer-2'] });
    } finally {
      await c.close();
    }
  });

  it('frostSign reports it as excluded and as a culprit', async () => {
    const signers = await signerClients();
    try {
      const group = JSON.parse(await readFile(join(stack.state, 'group.json'), 'utf8'));
      const policyHash = ((await (await fetch(`${stack.coordinator}/readyz`)).json()) as { policy: string }).policy;
      const deps = { group, groupKey: ed25519PublicKey(group.group_public_key), signers };
      let sawCulprit = false;
      for (let i = 0; i < 3; i++) {
        const oidc = await stack.idToken();
        const build = () => {
          const { claims, message } = honestToken({ issuer: stack.coordinator, kid: thumbprint(group.group_public_key), oidc, policyHash });
          return { message, built: claims };
        };
        const result = await frostSign(deps, build, { oidc_token: oidc, request: { scopes: ['deploy:canary'] } });
        expect(result.signers).toEqual(['signer-1', 'signer-3']);
        expect(verifyEd25519(deps.groupKey, new TextEncoder().encode(result.message), result.signature)).toBe(true);
        if (result.culprits.length) {
          sawCulprit = true;
          expect(result.culprits).toEqual(['signer-2']);
          expect(result.excluded).toEqual(['signer-2']);
        }
      }
      expect(sawCulprit).toBe(true);
    } finally {
      await Promise.all(signers.map((s) => s.close()));
    }
  });

  it('with the proxy passing answers through untouched, signer-2 signs normally (control)', async () => {
    proxy.setTamper(false);
    const c = await coordinator();
    try {
      const forwardedBefore = proxy.forwarded();
      for (let i = 0; i < 3; i++) {
        const { res } = await c.mint();
        expect(res.statusCode).toBe(200);
      }
      const records = await c.auditRecords();
      expect(records.some((r) => (r.signers as string[]).includes('signer-2'))).toBe(true);
      expect(c.logs.filter((l) => l.includes('invalid signature share'))).toEqual([]);
      expect(proxy.forwarded()).toBeGreaterThan(forwardedBefore);
    } finally {
      proxy.setTamper(true);
      await c.close();
    }
  });
});
