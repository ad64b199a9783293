// The Action against a hostile coordinator (issue 11): a programmable server on loopback that
// puts workflow commands, control characters and malformed values into every field of the
// mint answer, its problem details, its reason phrase and its headers, and tries to unmask the
// secrets through retries. The committed bundle runs as the runner runs it; its output is read
// with the runner's rules (helpers/runner-log.ts). Bodies and slow servers:
// action-hostile-body.e2e.test.ts; the post step's state: action-hostile-post.e2e.test.ts.
import type { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { errorOf, expectClean, HOSTILE, useHostileFixtures } from './helpers/hostile-harness.js';
import { respond } from './helpers/raw-http.js';
import { parseRunnerCommands } from './helpers/runner-log.js';
import { fakeJwt, mintBody } from './helpers/runner.js';

// Each case runs one or more node processes; a busy machine may need a while (runHostile bounds each at 120 s).
vi.setConfig({ testTimeout: 300_000 });

const hostile = useHostileFixtures();
const server = hostile.server;

const json = (socket: Socket, status: number, body: unknown, extra: { reason?: string; headers?: Record<string, string> } = {}) =>
  respond(socket, {
    status,
    ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
    headers: { 'content-type': status < 300 ? 'application/json' : 'application/problem+json', ...extra.headers },
    body: JSON.stringify(body),
  });

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('mint answer: every field hostile', () => {
  const token = fakeJwt();
  const base = mintBody(token);
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['token with a line break', { token: `${token}\n::error::INJECTED` }, /`token` is not a compact JWS/],
    ['token made of commands', { token: HOSTILE }, /`token` is not a compact JWS/],
    ['token of 50 KB', { token: `${token}${'A'.repeat(50_000)}` }, /`token` is not a compact JWS .* at most 16384 characters/],
    ['token with alg none', { token: `${b64({ alg: 'none' })}.${token.split('.')[1]}.${token.split('.')[2]}` }, /"alg": "EdDSA"/],
    ['token_type', { token_type: HOSTILE }, /`token_type` is not "Bearer"/],
    ['jti', { jti: HOSTILE }, /`jti` is not base64url/],
    ['jti of another token', { jti: 'AAAAAAAAAAAAAAAAAAAAAA' }, /`jti` is not the `jti` claim of the token/],
    ['expires_at that Date.parse accepts', { expires_at: 'Jan 1 2030 (\n::error::INJECTED\n)' }, /`expires_at` is not an RFC 3339 timestamp/],
    ['expires_at made of commands', { expires_at: HOSTILE }, /`expires_at` is not an RFC 3339 timestamp/],
    ["expires_at not the token's exp", { expires_at: '2099-01-01T00:00:00Z' }, /`expires_at` is not the `exp` claim/],
    ['expires_in', { expires_in: HOSTILE }, /`expires_in` is not a whole number/],
    ['expires_in not the lifetime', { expires_in: 60 }, /`expires_in` is not the lifetime of the token/],
    ['scopes', { scopes: ['deploy:canary', HOSTILE] }, /`scopes` is not an array of at most 100 scope tokens/],
    ['scopes not an array', { scopes: HOSTILE }, /`scopes` is not an array/],
    ['audience', { audience: HOSTILE }, /`audience` is not a string of at most 1024 printable characters/],
    ['audit.index', { audit: { index: HOSTILE } }, /`audit\.index` is not a whole number/],
  ];

  it.each(cases)('%s: the step fails, names the field, quotes nothing, and writes no command', async (_name, override, message) => {
    const body = { ...base, ...override };
    const s = await server((_req, socket) => json(socket, 200, body));
    const run = await hostile.run('main', s.url, { retries: '0' });
    expect(run.step.status).toBe(1);
    const error = errorOf(run.step);
    expect(error).toMatch(/^coordinator's mint response is malformed: /);
    expect(error).toMatch(message);
    for (const marker of ['INJECTED', 'pwned', 'AT-START', 'ESC']) expect(error).not.toContain(marker);
    expect(run.step.outputs).toEqual({});
    expect(run.step.state).toEqual({});
    expectClean(run, { minted: typeof body.token === 'string' ? body.token : token });
  });

  it('hostile but well-formed scopes and audience are printed escaped and saved as they are', async () => {
    const minted = fakeJwt();
    // `<<` and `=` try the file-command syntax; `##[` and `::` the log's.
    const scopes = ['##[stop-commands]legacy', '::error::AT-START', 'x<<EOF', 'token=stolen', 'deploy:canary'];
    const audience = '::stop-commands::pwned##[error]x';
    const s = await server((_req, socket) => json(socket, 200, mintBody(minted, { scopes, audience })));
    const run = await hostile.run('main', s.url, { scopes: 'deploy:canary' });
    expect(run.step.status).toBe(0);
    expect(run.step.outputs.scopes).toBe(scopes.join(','));
    expect(run.step.outputs.token).toBe(minted);
    expect(Object.keys(run.step.outputs).sort()).toEqual(['audit-index', 'expires-at', 'jti', 'log-index', 'scopes', 'token', 'transparency-proof']);
    expect(run.step.env).toEqual({});
    const line = run.step.stdout.split('\n').find((l) => l.startsWith('Minted token jti='));
    expect(line).toContain('scopes=##\\x5bstop-commands]legacy,::error::AT-START,x<<EOF,token=stolen,deploy:canary');
    expect(line).toContain('audience=::stop-commands::pwned##\\x5berror]x');
    expectClean(run, { minted, mintSucceeded: true });
  });
});

describe('problem details, reasons, codes and status text', () => {
  const cases: Array<[string, number, Record<string, unknown>, string]> = [
    ['policy_denied detail and reasons', 403, { code: 'policy_denied', detail: HOSTILE, reasons: [HOSTILE, `  - ${HOSTILE}`] }, 'Forbidden'],
    ['unknown code and title', 418, { code: HOSTILE, title: HOSTILE, detail: HOSTILE }, `teapot ##[stop-commands]legacy \u001b[31m`],
    ['code in type only', 400, { type: `urn:ztmint:error:${HOSTILE}`, title: HOSTILE }, 'Bad Request'],
    ['invalid_token detail', 401, { code: 'invalid_token', detail: `audience ${HOSTILE}` }, 'Unauthorized'],
  ];

  it.each(cases)('%s: one escaped line per field, no command', async (_name, status, problem, reason) => {
    const s = await server((_req, socket) => json(socket, status, { status, ...problem }, { reason }));
    const run = await hostile.run('main', s.url, { retries: '0' });
    expect(run.step.status).toBe(1);
    expect(errorOf(run.step)).toMatch(new RegExp(`HTTP ${status}|\\(policy_denied\\)|\\(invalid_token\\)|\\(invalid_request\\)`));
    expectClean(run);
  });

  it('a non-problem answer: the reason phrase and content type are escaped, the body is not quoted', async () => {
    const s = await server((_req, socket) =>
      respond(socket, {
        status: 500,
        reason: `Oops ##[stop-commands]legacy \u001b]0;title\u0007 ::error::AT-START`,
        headers: { 'content-type': 'text/html; x="##[error]legacy"' },
        body: `<html>${HOSTILE}</html>`,
      }),
    );
    const run = await hostile.run('main', s.url, { retries: '0' });
    expect(run.step.status).toBe(1);
    const error = errorOf(run.step);
    expect(error).toMatch(/HTTP 500 .*without a problem\+json body/);
    expect(error).not.toContain('INJECTED');
    expectClean(run);
  });

  it('a coordinator that echoes the OIDC token with a control character slipped in shows no run of it', async () => {
    const s = await server((req, socket) => {
      const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const mid = Math.floor(bearer.length / 2);
      json(socket, 401, { code: 'invalid_token', detail: `got ${bearer.slice(0, mid)}\u001b${bearer.slice(mid)}` });
    });
    const run = await hostile.run('main', s.url, { retries: '0' });
    expect(run.step.status).toBe(1);
    expectClean(run);
  });

  it('a redirect is not followed, and its Location is escaped', async () => {
    const s = await server((_req, socket) => respond(socket, { status: 302, reason: 'Found', headers: { location: 'http://127.0.0.1:1/##[stop-commands]legacy ::error::AT-START' } }));
    const run = await hostile.run('main', s.url, { retries: '0' });
    expect(run.step.status).toBe(1);
    expect(errorOf(run.step)).toMatch(/redirect \(HTTP 302 to http:\/\/127\.0\.0\.1:1\/##\\x5bstop-commands\]legacy/);
    expect(s.requests).toHaveLength(1);
    expectClean(run);
  });
});

describe('retries cannot unmask the secrets', () => {
  it('503s whose detail and reason phrase try stop-commands, then a mint: every OIDC token and the minted token stay masked', async () => {
    const minted = fakeJwt();
    const s = await server((_req, socket, n) => {
      if (n <= 2) {
        json(
          socket,
          503,
          { code: 'quorum_unavailable', detail: `busy\r::stop-commands::pwned\n::error::INJECTED ##[stop-commands]legacy` },
          { reason: 'Busy ##[stop-commands]legacy', headers: { 'retry-after': '0' } },
        );
      } else {
        json(socket, 200, mintBody(minted));
      }
    });
    const run = await hostile.run('main', s.url, { retries: '3' });
    expect(run.step.status).toBe(0);
    expect(run.issued).toHaveLength(3);
    expect(s.requests.map((r) => r.headers.authorization)).toEqual(run.issued.map((t) => `Bearer ${t}`));
    expectClean(run, { minted, mintSucceeded: true });

    // No stop-commands reached the runner, and each secret was masked before the first line
    // the server could influence after it was used.
    const commands = parseRunnerCommands(run.step.stdout);
    expect(commands.filter((c) => c.name === 'stop-commands')).toEqual([]);
    const lines = run.step.stdout.split(/\r\n|\r|\n/);
    const maskAt = (secret: string) => lines.indexOf(`::add-mask::${secret}`);
    const retryLines = lines.flatMap((l, i) => (l.startsWith('Attempt ') ? [i] : []));
    expect(retryLines).toHaveLength(2);
    run.issued.slice(0, 2).forEach((t, k) => expect(maskAt(t)).toBeLessThan(retryLines[k]!));
    const mintedLine = lines.findIndex((l) => l.startsWith('Minted token'));
    expect(maskAt(minted)).toBeGreaterThan(-1);
    expect(maskAt(minted)).toBeLessThan(mintedLine);
  });
});
