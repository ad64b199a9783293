// The bundled action against local stand-ins for the coordinator (http, https with a private CA,
// https with mTLS), behind a real CONNECT proxy: retries and backoff, Retry-After, the overall
// timeout, custom CA, client certificates, proxy use, and the post step's revocation.
// Each step runs as its own process, as on the runner (test/helpers/runner.ts).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  checkMasked,
  createTestPki,
  fakeJwt,
  mintBody,
  runStep,
  sendJson,
  sendProblem,
  startConnectProxy,
  startRunnerOidc,
  startStub,
  type Handler,
  type RunnerOidc,
  type StepOptions,
  type StepResult,
  type StubServer,
  type TestPki,
} from './helpers/runner.js';

let oidc: RunnerOidc;
let pki: TestPki;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  oidc = await startRunnerOidc();
  pki = await createTestPki();
});
afterAll(async () => {
  await oidc?.close();
});
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function coordinator(handler: Handler, tls?: Parameters<typeof startStub>[1]): Promise<StubServer> {
  const stub = await startStub(handler, tls);
  cleanup.push(() => stub.close());
  return stub;
}

const mints = (stub: StubServer) => stub.requests.filter((r) => r.url === '/v1/mint');
const revokes = (stub: StubServer) => stub.requests.filter((r) => r.url === '/v1/revoke');

function main(url: string, inputs: Record<string, string> = {}, opts: StepOptions = {}): Promise<StepResult> {
  return runStep('main', {
    ...opts,
    inputs: { 'coordinator-url': url, scopes: 'deploy:canary', ...inputs },
    env: { ...oidc.env, ...opts.env },
  });
}

function post(url: string, state: Record<string, string>, inputs: Record<string, string> = {}, opts: StepOptions = {}) {
  return runStep('post', {
    ...opts,
    inputs: { 'coordinator-url': url, scopes: 'deploy:canary', ...inputs },
    state,
    env: { ...oidc.env, ...opts.env },
  });
}

function commands(stdout: string, kind: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(`::${kind}::`))
    .map((l) =>
      l
        .slice(kind.length + 4)
        .replace(/%0D/g, '\r')
        .replace(/%0A/g, '\n')
        .replace(/%25/g, '%'),
    );
}

/** A coordinator that answers the first responses from `script`, then mints. */
function scripted(script: Array<(res: Parameters<Handler>[1], req: Parameters<Handler>[0]) => void>): Handler {
  return (req, res, n) => {
    const step = script[n - 1];
    if (step) return step(res, req);
    sendJson(res, 200, mintBody(fakeJwt()));
  };
}

const bearer = (r: { headers: Record<string, unknown> }) => String(r.headers.authorization).replace(/^Bearer /, '');

describe('retries', () => {
  it('retries 503 twice, each time with a fresh OIDC token, then succeeds', async () => {
    const issuedBefore = oidc.issued.length;
    const stub = await coordinator(scripted([(res) => sendProblem(res, 503, 'quorum_unavailable'), (res) => sendProblem(res, 503, 'quorum_unavailable')]));
    const m = await main(stub.url);
    expect(m.status, m.stdout + m.stderr).toBe(0);
    expect(mints(stub)).toHaveLength(3);
    const used = mints(stub).map(bearer);
    expect(new Set(used).size).toBe(3);
    expect(used).toEqual(oidc.issued.slice(issuedBefore));
    expect(m.stdout).toMatch(/Attempt 1 of 4 failed: not enough signers .*quorum_unavailable/);
    expect(m.stdout).toMatch(/Attempt 2 of 4 failed: /);
    expect(m.stdout).toMatch(/Retrying in [0-9.]+ s with a fresh OIDC token/);
    expect(m.outputs.token).toBeDefined();
    checkMasked(m, m.outputs.token!);
    for (const t of used) checkMasked(m, t);
    // Full jitter: the waits are below 1 s and 2 s.
    const [a, b, c] = mints(stub).map((r) => r.at);
    expect(b! - a!).toBeLessThan(1000 + 1500);
    expect(c! - b!).toBeLessThan(2000 + 1500);
  });

  it.each([
    [403, 'policy_denied'],
    [400, 'invalid_request'],
    [401, 'invalid_token'],
    [409, 'token_replayed'],
  ])('does not retry a %i (%s) decision', async (status, code) => {
    const stub = await coordinator((_req, res) => sendProblem(res, status, code, { reasons: ['scope deploy:canary is not granted'] }));
    const m = await main(stub.url);
    expect(m.status).toBe(1);
    expect(mints(stub)).toHaveLength(1);
    expect(m.stdout).not.toMatch(/Retrying/);
    expect(commands(m.stdout, 'error')[0]).toContain(`(${code})`);
  });

  it("lists the policy's reasons on a 403", async () => {
    const stub = await coordinator((_req, res) =>
      sendProblem(res, 403, 'policy_denied', {
        detail: 'the policy does not allow this request',
        reasons: ['scope deploy:prod is not granted to acme/webapp@refs/heads/main', 'ttl 7200 exceeds the maximum 1800'],
      }),
    );
    const m = await main(stub.url, { scopes: 'deploy:prod', ttl: '7200' });
    const [error] = commands(m.stdout, 'error');
    expect(error).toContain('Reasons:\n  - scope deploy:prod is not granted to acme/webapp@refs/heads/main\n  - ttl 7200 exceeds the maximum 1800');
  });

  it('retries network errors (connection reset before any answer)', async () => {
    const stub = await coordinator(
      scripted([
        (res) => {
          res.socket?.destroy();
        },
      ]),
    );
    const m = await main(stub.url);
    expect(m.status, m.stdout + m.stderr).toBe(0);
    expect(mints(stub)).toHaveLength(2);
    expect(m.stdout).toMatch(/Attempt 1 of 4 failed: could not reach the coordinator/);
  });

  it('honours Retry-After on 429', async () => {
    const stub = await coordinator(scripted([(res) => sendProblem(res, 429, 'rate_limited', {}, { 'retry-after': '2' })]));
    const m = await main(stub.url);
    expect(m.status, m.stdout + m.stderr).toBe(0);
    const [a, b] = mints(stub).map((r) => r.at);
    expect(b! - a!).toBeGreaterThanOrEqual(1900);
    expect(m.stdout).toContain('Retrying in 2.0 s');
  });

  it('stops at `retries` and says so', async () => {
    const stub = await coordinator((_req, res) => sendProblem(res, 502, 'bad_gateway', {}, { 'retry-after': '0' }));
    const m = await main(stub.url, { retries: '2' });
    expect(m.status).toBe(1);
    expect(mints(stub)).toHaveLength(3);
    expect(commands(m.stdout, 'error')[0]).toMatch(/HTTP 502 \(bad_gateway\)[\s\S]*gave up after 3 attempts; `retries` sets how many/);
  });

  it('does not wait past `timeout-seconds` for a long Retry-After', async () => {
    const stub = await coordinator((_req, res) => sendProblem(res, 503, 'quorum_unavailable', {}, { 'retry-after': '600' }));
    const started = Date.now();
    const m = await main(stub.url, { 'timeout-seconds': '5' });
    // Far below the 600 s asked for (a bound, not a speed check: the machine may be busy).
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(m.status).toBe(1);
    expect(mints(stub)).toHaveLength(1);
    const [error] = commands(m.stdout, 'error');
    expect(error).toContain('the coordinator asks for 600 s');
    expect(error).toContain('the `timeout-seconds` limit of 5 s leaves no time for another');
  });

  it('gives up after `timeout-seconds` when the coordinator does not answer', async () => {
    const stub = await coordinator(() => undefined); // never answers
    const started = Date.now();
    const m = await main(stub.url, { 'timeout-seconds': '2' });
    const took = Date.now() - started;
    expect(m.status).toBe(1);
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(10_000);
    expect(commands(m.stdout, 'error')[0]).toMatch(/did not answer .*\/v1\/mint within 2 s/);
  });
});

describe('TLS: custom CA and client certificates', () => {
  const serverTls = () => ({ cert: pki.server.cert, key: pki.server.key });

  it("trusts the coordinator's private CA given in `ca-cert`", async () => {
    const stub = await coordinator(scripted([]), serverTls());
    const m = await main(stub.url, { 'ca-cert': pki.ca });
    expect(m.status, m.stdout + m.stderr).toBe(0);
    expect(mints(stub)).toHaveLength(1);
    checkMasked(m, m.outputs.token!);
  });

  it('accepts a PEM stored on one line with literal \\n', async () => {
    const stub = await coordinator(scripted([]), serverTls());
    const m = await main(stub.url, { 'ca-cert': pki.ca.trim().split('\n').join('\\n') });
    expect(m.status, m.stdout + m.stderr).toBe(0);
  });

  it.each([
    ['without `ca-cert`', undefined],
    ['with an unrelated `ca-cert`', 'other'],
  ])('fails %s, says to set `ca-cert`, and does not retry', async (_name, ca) => {
    const stub = await coordinator(scripted([]), serverTls());
    const inputs: Record<string, string> = ca ? { 'ca-cert': pki.otherCa } : {};
    const m = await main(stub.url, inputs);
    expect(m.status).toBe(1);
    expect(mints(stub)).toHaveLength(0);
    expect(m.stdout).not.toMatch(/Retrying/);
    expect(commands(m.stdout, 'error')[0]).toMatch(/could not reach the coordinator at https:\/\/127\.0\.0\.1:\d+\/v1\/mint: .*TLS certificate is not trusted: set the `ca-cert` input/);
  });

  it('says that `ca-cert` must be PEM text, not a path', async () => {
    const m = await main('https://127.0.0.1:9', { 'ca-cert': '/home/runner/ca.pem' });
    expect(m.status).toBe(1);
    expect(commands(m.stdout, 'error')[0]).toMatch(/input `ca-cert` must be a certificate as PEM text .*not a file path/);
  });

  describe('mTLS', () => {
    const mtls = () => ({ ...serverTls(), ca: pki.ca, requestCert: true });

    it('presents `client-cert` / `client-key`, and masks the key', async () => {
      const stub = await coordinator(scripted([]), mtls());
      const m = await main(stub.url, { 'ca-cert': pki.ca, 'client-cert': pki.client.cert, 'client-key': pki.client.key });
      expect(m.status, m.stdout + m.stderr).toBe(0);
      expect(mints(stub)[0]?.clientCn).toBe('deploy-client');
      const keyLines = pki.client.key.split('\n').filter((l) => l && !l.startsWith('-----'));
      for (const line of keyLines) checkMasked(m, line);

      // The post step reads the same inputs and revokes over mTLS too.
      const p = await post(stub.url, m.state, { 'ca-cert': pki.ca, 'client-cert': pki.client.cert, 'client-key': pki.client.key });
      expect(p.status, p.stdout + p.stderr).toBe(0);
      expect(revokes(stub)).toHaveLength(1);
      expect(revokes(stub)[0]?.clientCn).toBe('deploy-client');
    });

    it('says to set client-cert/client-key when the coordinator asks for a certificate', async () => {
      const stub = await coordinator(scripted([]), mtls());
      const m = await main(stub.url, { 'ca-cert': pki.ca, retries: '0' });
      expect(m.status).toBe(1);
      expect(commands(m.stdout, 'error')[0]).toMatch(/set the `client-cert` and `client-key` inputs/);
    });

    it('refuses a key that does not belong to the certificate, without quoting it', async () => {
      const m = await main('https://127.0.0.1:9', { 'client-cert': pki.client.cert, 'client-key': pki.server.key });
      expect(m.status).toBe(1);
      const [error] = commands(m.stdout, 'error');
      expect(error).toMatch(/input `client-key` is not the private key of `client-cert`/);
      for (const line of pki.server.key.split('\n').filter((l) => l && !l.startsWith('-----'))) checkMasked(m, line);
    });

    it('needs both client-cert and client-key', async () => {
      const m = await main('https://127.0.0.1:9', { 'client-cert': pki.client.cert });
      expect(commands(m.stdout, 'error')[0]).toContain('input `client-cert` is set but `client-key` is not');
    });
  });
});

describe('proxy', () => {
  it('tunnels the https mint through HTTPS_PROXY (CONNECT), with the private CA checked end to end', async () => {
    const stub = await coordinator(scripted([]), { cert: pki.server.cert, key: pki.server.key });
    const proxy = await startConnectProxy();
    cleanup.push(() => proxy.close());
    const m = await main(stub.url, { 'ca-cert': pki.ca }, { env: { HTTPS_PROXY: proxy.url } });
    expect(m.status, m.stdout + m.stderr).toBe(0);
    expect(proxy.connects).toEqual([new URL(stub.url).host]);
    expect(mints(stub)).toHaveLength(1);
  });

  it('uses the lower-case https_proxy too, and says when the proxy refuses', async () => {
    const stub = await coordinator(scripted([]), { cert: pki.server.cert, key: pki.server.key });
    const proxy = await startConnectProxy({ refuse: 403 });
    cleanup.push(() => proxy.close());
    const m = await main(stub.url, { 'ca-cert': pki.ca, retries: '0' }, { env: { https_proxy: proxy.url } });
    expect(m.status).toBe(1);
    expect(proxy.connects).toHaveLength(1);
    expect(mints(stub)).toHaveLength(0);
    expect(commands(m.stdout, 'error')[0]).toMatch(/proxy.*check HTTPS_PROXY \/ HTTP_PROXY \/ NO_PROXY/i);
  });
});

describe('post step', () => {
  async function minted(stub: StubServer, inputs: Record<string, string> = {}) {
    const m = await main(stub.url, inputs);
    expect(m.status, m.stdout + m.stderr).toBe(0);
    return m;
  }

  it('revokes with the minted token as bearer, retrying a 503', async () => {
    const stub = await coordinator((req, res) => {
      if (req.url === '/v1/mint') return sendJson(res, 200, mintBody(fakeJwt()));
      if (revokes(stub).length === 1) return sendProblem(res, 503, 'audit_unavailable', {}, { 'retry-after': '0' });
      res.writeHead(204).end();
    });
    const m = await minted(stub);
    const p = await post(stub.url, m.state);
    expect(p.status, p.stdout + p.stderr).toBe(0);
    expect(revokes(stub).map(bearer)).toEqual([m.outputs.token, m.outputs.token]);
    expect(p.stdout).toMatch(/Revocation attempt 1 of 4 failed/);
    expect(p.stdout).toContain(`Revoked token jti=${m.outputs.jti}`);
    checkMasked(p, m.outputs.token!);
  });

  it('turns a failed revocation into a warning, never a failed job', async () => {
    const stub = await coordinator((req, res) => {
      if (req.url === '/v1/mint') return sendJson(res, 200, mintBody(fakeJwt()));
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
    });
    const m = await minted(stub, { 'export-env': 'ZTMINT_TOKEN' });
    const p = await post(stub.url, m.state);
    expect(p.status).toBe(0);
    expect(commands(p.stdout, 'error')).toEqual([]);
    const [warning] = commands(p.stdout, 'warning');
    expect(warning).toMatch(/could not revoke the token jti=.*no revocation endpoint.*set `revoke: false`/s);
    expect(warning).toContain('The token stays valid until it expires');
    expect(p.env).toEqual({ ZTMINT_TOKEN: '' }); // cleared all the same
    checkMasked(p, m.outputs.token!);
  });

  it('does not call the coordinator for an expired token, nor when nothing was minted', async () => {
    const stub = await coordinator((_req, res) => void res.writeHead(204).end());
    const expired = await post(stub.url, {
      'coordinator-url': stub.url,
      token: fakeJwt(),
      jti: 'old',
      'expires-at': '2000-01-01T00:00:00Z',
      revoke: 'true',
    });
    expect(expired.status).toBe(0);
    expect(expired.stdout).toContain('expired at 2000-01-01T00:00:00Z; nothing to revoke');
    const nothing = await post(stub.url, {});
    expect(nothing.status).toBe(0);
    expect(nothing.stdout).toContain('No token was minted');
    expect(stub.requests).toHaveLength(0);
  });
});
