// The post step treats its saved state (GITHUB_STATE, handed back as STATE_* variables) as
// untrusted, like the coordinator's answer it came from (issue 11): a token with a line break,
// commands in the jti, an expiry that Date.parse would take, a coordinator URL or export-env
// that is not what the main step writes. None of it is sent, printed raw, or turned into a
// command; a revocation answer as hostile as the mint's is escaped too.
import type { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { expectClean, HOSTILE, useHostileFixtures, warningsOf } from './helpers/hostile-harness.js';
import { respond } from './helpers/raw-http.js';
import { fakeJwt } from './helpers/runner.js';

// Each case runs one or more node processes; a busy machine may need a while (runHostile bounds each at 120 s).
vi.setConfig({ testTimeout: 300_000 });

const hostile = useHostileFixtures();
const server = hostile.server;

const revoked = (_req: unknown, socket: Socket) => respond(socket, { status: 204, reason: 'No Content' });

/** What the main step saves for a token it minted from `url`. */
function goodState(url: string) {
  const token = fakeJwt();
  const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
  return { token, state: { token, 'coordinator-url': url, jti, 'expires-at': new Date(Date.now() + 600_000).toISOString(), revoke: 'true' } };
}

describe('post step: hostile saved state', () => {
  it('a well-formed state revokes (the baseline for the cases below)', async () => {
    const s = await server(revoked);
    const { token, state } = goodState(s.url);
    const run = await hostile.run('post', s.url, {}, { state });
    expect(run.step.status).toBe(0);
    expect(s.requests).toHaveLength(1);
    expect(run.step.stdout).toContain(`Revoked token jti=${state.jti}.`);
    expectClean(run, { minted: token });
  });

  const cases: Array<[string, (state: Record<string, string>, url: string) => void, RegExp]> = [
    ['a token with a line break after a complete JWT', (st) => (st.token = `${st.token}\n::error::INJECTED`), /the saved token is not a compact JWS/],
    ['a token made of commands', (st) => (st.token = HOSTILE), /the saved token is not a compact JWS/],
    ['a jti made of commands', (st) => (st.jti = HOSTILE), /the saved jti is not base64url/],
    ['an expiry that Date.parse accepts', (st) => (st['expires-at'] = 'Jan 1 2030 (\n::error::INJECTED\n)'), /the saved expiry is not an RFC 3339 timestamp/],
    ['a coordinator URL with commands', (st, url) => (st['coordinator-url'] = `${url}/\n::error::INJECTED`), /the saved coordinator URL is not a valid `coordinator-url`/],
    ['a coordinator URL with a query', (st, url) => (st['coordinator-url'] = `${url}/?x=##[stop-commands]legacy`), /the saved coordinator URL is not a valid/],
    ['a revoke flag with commands', (st) => (st.revoke = `true\n::error::INJECTED`), /the saved `revoke` is not true or false/],
    ['an export-env with commands', (st) => (st['export-env'] = `DEPLOY\n::error::INJECTED`), /the saved `export-env` is not an allowed variable name/],
    ['an export-env the runner relies on', (st) => (st['export-env'] = 'NODE_OPTIONS'), /the saved `export-env` is not an allowed variable name/],
  ];

  it.each(cases)('%s: nothing is sent, the warning names the value without quoting it', async (_name, spoil, message) => {
    const s = await server(revoked);
    const { token, state } = goodState(s.url);
    spoil(state, s.url);
    const run = await hostile.run('post', s.url, {}, { state });
    expect(run.step.status).toBe(0);
    expect(s.requests).toEqual([]);
    const [warning] = warningsOf(run.step);
    expect(warning).toMatch(/^not revoking: the main step's saved state is not what it writes/);
    expect(warning).toMatch(message);
    for (const marker of ['INJECTED', 'pwned', 'AT-START', 'legacy']) expect(warning).not.toContain(marker);
    expect(run.step.env).toEqual({});
    // A line of the saved value that is a whole token (the real one) is masked and never shown.
    expectClean(run, { minted: state.token ?? token, also: [token] });
  });
});

describe('post step: hostile revocation answers', () => {
  it.each([
    [
      'a problem whose detail and code are commands',
      (socket: Socket) =>
        respond(socket, {
          status: 400,
          reason: 'Bad ##[stop-commands]legacy \u001b[31m',
          headers: { 'content-type': 'application/problem+json' },
          body: JSON.stringify({ code: HOSTILE, detail: HOSTILE, title: HOSTILE }),
        }),
    ],
    [
      'a non-problem answer with a hostile reason phrase',
      (socket: Socket) => respond(socket, { status: 500, reason: `Oops ${'##[stop-commands]legacy'} ::error::AT-START \u0007`, headers: { 'content-type': 'text/plain' }, body: HOSTILE }),
    ],
    ['a redirect with a hostile Location', (socket: Socket) => respond(socket, { status: 307, reason: 'Temporary Redirect', headers: { location: 'http://127.0.0.1:1/##[stop-commands]legacy' } })],
    [
      'a retried 503 that tries stop-commands',
      (socket: Socket) =>
        respond(socket, {
          status: 503,
          reason: 'Busy ##[stop-commands]legacy',
          headers: { 'content-type': 'application/problem+json', 'retry-after': '0' },
          body: JSON.stringify({ code: 'audit_unavailable', detail: 'busy\r::stop-commands::pwned\n::error::INJECTED' }),
        }),
    ],
  ] as const)('%s: a warning, escaped, and the token stays masked', async (_name, answer) => {
    const s = await server((_req, socket) => answer(socket));
    const { token, state } = goodState(s.url);
    const run = await hostile.run('post', s.url, { retries: '2' }, { state });
    expect(run.step.status).toBe(0);
    expect(s.requests.length).toBeGreaterThanOrEqual(1);
    expect(warningsOf(run.step)[0]).toMatch(/^could not revoke the token jti=/);
    expectClean(run, { minted: token });
  });
});
