// Unit tests of the GitHub Action's logic (action/), with a fake @actions/core and a fake fetch.
import * as actionsCore from '@actions/core';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeClaims, formatClaims } from '../action/claims.js';
import {
  InputError,
  parseBoolean,
  parseCoordinatorUrl,
  parseExportEnv,
  parsePem,
  parseRetries,
  parseScopes,
  parseTimeoutSeconds,
  parseTtl,
  pemSecretLines,
  readInputs,
  readTlsInputs,
} from '../action/inputs.js';
import { runPost } from '../action/post-run.js';
import { backoffDelay, parseRetryAfter, RetriesExhausted, withRetries, type Clock } from '../action/retry.js';
import { CLAIMS_GROUP, PERMISSIONS_HINT, redact, run, type Core, type RunDeps } from '../action/run.js';
import { escapeCell, mintSummary } from '../action/summary.js';
import { ZtmintError } from '../errors/ztmint-error.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const OIDC_CLAIMS = {
  iss: 'https://token.actions.githubusercontent.com',
  aud: 'https://ztmint.example.com',
  sub: 'repo:acme/webapp:ref:refs/heads/main',
  repository: 'acme/webapp',
  ref: 'refs/heads/main',
  job_workflow_ref: 'acme/webapp/.github/workflows/deploy.yml@refs/heads/main',
  iat: 1_900_000_000,
  exp: 1_900_000_300,
};
let oidcSerial = 0;
/** A fresh OIDC token (decodable claims, a unique jti and signature) per call. */
const newOidc = () => {
  oidcSerial += 1;
  return `${b64({ alg: 'RS256' })}.${b64({ ...OIDC_CLAIMS, jti: `oidc-jti-${oidcSerial}` })}.OIDC-SIGNATURE-${oidcSerial}`;
};
const OIDC = newOidc();
/** The time the fake clock starts at: 15 minutes before the minted token expires. */
const NOW = Date.parse('2030-01-01T00:00:00Z');
const MINTED_EXP = Date.parse('2030-01-01T00:15:00Z') / 1000;
const MINTED = `${b64({ alg: 'EdDSA', typ: 'JWT', kid: 'k1' })}.${b64({
  jti: 'b6f1c0de-jti',
  iat: MINTED_EXP - 900,
  exp: MINTED_EXP,
  note: 'MINTED-SECRET-PAYLOAD',
})}.MINTED-SIGNATURE-c2ln`;
const ID_ENV = {
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://runner.invalid/idtoken?api-version=2.0',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
};

type Event = { kind: string; args: unknown[] };

/** A fake @actions/core that records every call, in order. */
function fakeCore(inputs: Record<string, string>, idToken: () => Promise<string> = async () => OIDC, state: Record<string, string> = {}) {
  const events: Event[] = [];
  const record =
    (kind: string) =>
    (...args: unknown[]) => {
      events.push({ kind, args });
    };
  const core: Core = {
    getInput: (name) => inputs[name] ?? '',
    getIDToken: async (audience) => {
      events.push({ kind: 'getIDToken', args: [audience] });
      return idToken();
    },
    setSecret: record('setSecret'),
    setOutput: record('setOutput'),
    setFailed: record('setFailed'),
    info: record('info'),
    warning: record('warning'),
    debug: record('debug'),
    saveState: record('saveState'),
    getState: (name) => state[name] ?? '',
    exportVariable: record('exportVariable'),
    startGroup: record('startGroup'),
    endGroup: record('endGroup'),
  };
  const of = (kind: string) => events.filter((e) => e.kind === kind);
  const outputs = () => Object.fromEntries(of('setOutput').map((e) => e.args as [string, string]));
  const saved = () => Object.fromEntries(of('saveState').map((e) => e.args as [string, string]));
  const failure = () => of('setFailed').map((e) => String(e.args[0]))[0];
  return { core, events, of, outputs, saved, failure };
}

/** A clock whose sleep returns at once and moves time forward; random() is fixed. */
function fakeClock(start = NOW, random = 0.5) {
  let now = start;
  const sleeps: number[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    random: () => random,
  };
  return { clock, sleeps, advance: (ms: number) => (now += ms) };
}

type Call = { url: string; init: RequestInit };

/** A fake fetch that records its calls and answers with `respond()`. */
function fakeFetch(respond: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const call = { url: String(input), init: init ?? {} };
    calls.push(call);
    return respond(call);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

function okBody(overrides: Record<string, unknown> = {}) {
  return {
    token: MINTED,
    token_type: 'Bearer',
    expires_at: '2030-01-01T00:15:00Z',
    expires_in: 900,
    jti: 'b6f1c0de-jti',
    scopes: ['read:logs', 'deploy:canary'],
    audience: 'https://deploy.example',
    audit: { index: 42 },
    ...overrides,
  };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

const problem = (status: number, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: `urn:ztmint:error:${code}`, title: code, status, detail: `detail of ${code}`, code, ...extra }), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });

const baseInputs = {
  'coordinator-url': 'https://ztmint.example.com/',
  scopes: 'read:logs, deploy:canary',
};

/** Everything the action wrote anywhere, for "no secret leaked" checks. */
function everythingWritten(events: Event[]): string {
  return events
    .filter((e) => e.kind !== 'setSecret' && e.kind !== 'exportVariable' && !((e.kind === 'setOutput' || e.kind === 'saveState') && e.args[0] === 'token'))
    .map((e) => JSON.stringify(e.args))
    .join('\n');
}

describe('inputs', () => {
  it('splits scopes on commas and newlines, trims, drops empties and duplicates', () => {
    expect(parseScopes('read:logs, deploy:canary')).toEqual(['read:logs', 'deploy:canary']);
    expect(parseScopes('read:logs\n  deploy:canary \r\n,, \nread:logs\n')).toEqual(['read:logs', 'deploy:canary']);
    expect(parseScopes('deploy:prod')).toEqual(['deploy:prod']);
  });

  it('rejects empty scopes and scopes with spaces or quotes', () => {
    expect(() => parseScopes('')).toThrow(InputError);
    expect(() => parseScopes(' ,\n , ')).toThrow(/input `scopes` is empty/);
    expect(() => parseScopes('deploy canary')).toThrow(/"deploy canary" is not a valid scope/);
    expect(() => parseScopes('a"b')).toThrow(/not a valid scope/);
  });

  it('accepts a positive whole ttl and nothing else', () => {
    expect(parseTtl('')).toBeUndefined();
    expect(parseTtl('  ')).toBeUndefined();
    expect(parseTtl('900')).toBe(900);
    expect(parseTtl(' 60 ')).toBe(60);
    for (const bad of ['0', '-5', '1.5', '1e3', 'abc', '0x10', '99999999999999999999']) {
      expect(() => parseTtl(bad), bad).toThrow(/input `ttl`.*positive whole number/);
    }
  });

  it('normalises the coordinator URL and insists on https outside loopback', () => {
    expect(parseCoordinatorUrl('https://ztmint.example.com/')).toBe('https://ztmint.example.com');
    expect(parseCoordinatorUrl(' https://EX.example:443/base/ ')).toBe('https://ex.example/base');
    expect(parseCoordinatorUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(parseCoordinatorUrl('http://localhost:8080/')).toBe('http://localhost:8080');
    expect(parseCoordinatorUrl('http://[::1]:8080')).toBe('http://[::1]:8080');
    expect(() => parseCoordinatorUrl('')).toThrow(/`coordinator-url` is required/);
    expect(() => parseCoordinatorUrl('ztmint.example.com')).toThrow(/not an absolute URL/);
    expect(() => parseCoordinatorUrl('http://ztmint.example.com')).toThrow(/must use https/);
    expect(() => parseCoordinatorUrl('ftp://ztmint.example.com')).toThrow(/must use https/);
    expect(() => parseCoordinatorUrl('https://ztmint.example.com/?x=1')).toThrow(/query/);
    expect(() => parseCoordinatorUrl('https://u:p@ztmint.example.com')).toThrow(/user name or password/);
  });

  it('defaults oidc-audience to the coordinator URL and leaves optional inputs out', () => {
    const get = (m: Record<string, string>) => (n: string) => m[n] ?? '';
    expect(readInputs(get(baseInputs))).toEqual({
      coordinatorUrl: 'https://ztmint.example.com',
      scopes: ['read:logs', 'deploy:canary'],
      oidcAudience: 'https://ztmint.example.com',
      revoke: true,
      tls: {},
      retries: 3,
      timeoutSeconds: 120,
    });
    expect(
      readInputs(
        get({
          ...baseInputs,
          ttl: '600',
          audience: ' https://deploy.example ',
          'oidc-audience': 'ztmint',
          'export-env': 'DEPLOY_TOKEN',
          revoke: 'false',
          retries: '0',
          'timeout-seconds': '30',
        }),
      ),
    ).toEqual({
      coordinatorUrl: 'https://ztmint.example.com',
      scopes: ['read:logs', 'deploy:canary'],
      ttl: 600,
      audience: 'https://deploy.example',
      oidcAudience: 'ztmint',
      exportEnv: 'DEPLOY_TOKEN',
      revoke: false,
      tls: {},
      retries: 0,
      timeoutSeconds: 30,
    });
  });

  describe('@actions/core v3 input names', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    });

    it('reads INPUT_<NAME uppercased> with hyphens kept', () => {
      process.env['INPUT_COORDINATOR-URL'] = ' https://ztmint.example.com ';
      process.env['INPUT_OIDC-AUDIENCE'] = 'aud';
      process.env.INPUT_SCOPES = 'a,b';
      expect(actionsCore.getInput('coordinator-url')).toBe('https://ztmint.example.com');
      expect(actionsCore.getInput('oidc-audience')).toBe('aud');
      expect(actionsCore.getInput('scopes')).toBe('a,b');
      expect(actionsCore.getInput('ttl')).toBe('');
      expect(readInputs(actionsCore.getInput).coordinatorUrl).toBe('https://ztmint.example.com');
    });
  });
});

describe('run', () => {
  it('mints: POSTs /v1/mint with the OIDC token and sets the outputs', async () => {
    const c = fakeCore({ ...baseInputs, ttl: '600', audience: 'https://deploy.example' });
    const f = fakeFetch(() => json(okBody()));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV, clock: fakeClock().clock });

    expect(c.failure()).toBeUndefined();
    expect(c.of('getIDToken')[0]?.args).toEqual(['https://ztmint.example.com']);
    expect(f.calls).toHaveLength(1);
    const call = f.calls[0]!;
    expect(call.url).toBe('https://ztmint.example.com/v1/mint');
    expect(call.init.method).toBe('POST');
    const headers = new Headers(call.init.headers);
    expect(headers.get('authorization')).toBe(`Bearer ${OIDC}`);
    expect(headers.get('content-type')).toBe('application/json');
    expect(call.init.redirect).toBe('manual');
    expect(JSON.parse(String(call.init.body))).toEqual({
      scopes: ['read:logs', 'deploy:canary'],
      ttl: 600,
      audience: 'https://deploy.example',
    });
    expect(c.outputs()).toEqual({
      token: MINTED,
      'expires-at': '2030-01-01T00:15:00Z',
      jti: 'b6f1c0de-jti',
      scopes: 'read:logs,deploy:canary',
      'audit-index': '42',
      'log-index': '',
      'transparency-proof': '',
    });
    expect(c.saved()).toEqual({
      'coordinator-url': 'https://ztmint.example.com',
      jti: 'b6f1c0de-jti',
      'expires-at': '2030-01-01T00:15:00Z',
      revoke: 'true',
      token: MINTED,
    });
    expect(c.of('exportVariable')).toEqual([]);

    const info = c
      .of('info')
      .map((e) => String(e.args[0]))
      .join('\n');
    expect(info).toContain('b6f1c0de-jti');
    expect(info).toContain('read:logs,deploy:canary');
    expect(info).toContain('2030-01-01T00:15:00Z');
    expect(everythingWritten(c.events)).not.toContain(MINTED);
    expect(everythingWritten(c.events)).not.toContain(OIDC);
  });

  it('sends only scopes when ttl and audience are not given, and honours oidc-audience', async () => {
    const c = fakeCore({ ...baseInputs, 'oidc-audience': 'ztmint-prod' });
    const f = fakeFetch(() => json(okBody()));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV, clock: fakeClock().clock });
    expect(c.failure()).toBeUndefined();
    expect(JSON.parse(String(f.calls[0]!.init.body))).toEqual({ scopes: ['read:logs', 'deploy:canary'] });
    expect(c.of('getIDToken')[0]?.args).toEqual(['ztmint-prod']);
  });

  it('masks the OIDC token right after getIDToken, before calling the coordinator', async () => {
    const c = fakeCore(baseInputs);
    let eventsAtFetch = -1;
    const f = fakeFetch(() => {
      eventsAtFetch = c.events.length;
      return json(okBody());
    });
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV, clock: fakeClock().clock });
    const i = c.events.findIndex((e) => e.kind === 'getIDToken');
    expect(c.events[i + 1]).toEqual({ kind: 'setSecret', args: [OIDC] });
    expect(eventsAtFetch).toBeGreaterThan(i + 1);
  });

  it('calls setSecret(token) before any output or log line', async () => {
    const c = fakeCore(baseInputs);
    const f = fakeFetch(() => json(okBody()));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV, clock: fakeClock().clock });
    const maskAt = c.events.findIndex((e) => e.kind === 'setSecret' && e.args[0] === MINTED);
    expect(maskAt).toBeGreaterThan(-1);
    const before = c.events.slice(0, maskAt).map((e) => e.kind);
    // Only the OIDC token's own masking and the claims group come first.
    expect(new Set(before)).toEqual(new Set(['getIDToken', 'setSecret', 'startGroup', 'info', 'endGroup']));
    for (const kind of ['setOutput', 'saveState', 'exportVariable', 'warning']) {
      const first = c.events.findIndex((e) => e.kind === kind);
      expect(first === -1 || first > maskAt, kind).toBe(true);
    }
  });

  it('masks the token even when the rest of the response is malformed, and does not echo it', async () => {
    const c = fakeCore(baseInputs);
    const f = fakeFetch(() => json(okBody({ jti: undefined })));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV, clock: fakeClock().clock });
    expect(c.of('setSecret').map((e) => e.args[0])).toContain(MINTED);
    expect(c.failure()).toMatch(/malformed: `jti` missing/);
    expect(c.of('setOutput')).toEqual([]);
    expect(everythingWritten(c.events)).not.toContain(MINTED);
  });

  it('warns when the coordinator grants fewer scopes than requested', async () => {
    const c = fakeCore(baseInputs);
    const f = fakeFetch(() => json(okBody({ scopes: ['read:logs'] })));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV, clock: fakeClock().clock });
    expect(c.failure()).toBeUndefined();
    expect(String(c.of('warning')[0]?.args[0])).toContain('deploy:canary');
  });

  it.each([['ACTIONS_ID_TOKEN_REQUEST_URL'], ['ACTIONS_ID_TOKEN_REQUEST_TOKEN']])('without %s it fails with the permissions hint', async (missing) => {
    const c = fakeCore(baseInputs);
    const f = fakeFetch(() => json(okBody()));
    const env: Record<string, string | undefined> = { ...ID_ENV, [missing]: undefined };
    await run({ core: c.core, fetch: f.fetch, env, clock: fakeClock().clock });
    expect(c.failure()).toBe(PERMISSIONS_HINT);
    expect(c.failure()).toContain('add `permissions: id-token: write` to the job');
    expect(c.failure()).toContain('fork pull requests never get an OIDC token');
    expect(c.of('getIDToken')).toEqual([]);
    expect(f.calls).toEqual([]);
  });

  it('reports bad inputs before asking for any token', async () => {
    const c = fakeCore({ ...baseInputs, ttl: 'soon' });
    const f = fakeFetch(() => json(okBody()));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV, clock: fakeClock().clock });
    expect(c.failure()).toMatch(/input `ttl`: "soon" is not a positive whole number/);
    expect(c.of('getIDToken')).toEqual([]);
    expect(f.calls).toEqual([]);
  });

  it('reports a failing getIDToken', async () => {
    const c = fakeCore(baseInputs, async () => {
      throw new Error('Failed to get ID Token. Error Code : 403');
    });
    const f = fakeFetch(() => json(okBody()));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV, clock: fakeClock().clock });
    expect(c.failure()).toMatch(/could not get an OIDC token from the runner .*Error Code : 403/);
    expect(f.calls).toEqual([]);
  });
});

describe('run: coordinator errors', () => {
  async function failWith(response: () => Response, inputs: Record<string, string> = { ...baseInputs, retries: '0' }) {
    const c = fakeCore(inputs);
    const f = fakeFetch(response);
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV, clock: fakeClock().clock });
    const message = c.failure();
    expect(message).toBeDefined();
    expect(message).not.toContain(OIDC);
    expect(message).not.toContain(MINTED);
    expect(c.of('setOutput')).toEqual([]);
    return message!;
  }

  it('policy_denied lists the reasons and says what to do', async () => {
    const message = await failWith(() =>
      problem(403, 'policy_denied', {
        detail: 'the policy does not allow this request',
        reasons: ['scope deploy:prod is not granted to acme/webapp@refs/heads/main', 'ttl 7200 exceeds the maximum 1800'],
      }),
    );
    expect(message).toContain('policy denied the mint (policy_denied): the policy does not allow this request');
    expect(message).toContain('  - scope deploy:prod is not granted to acme/webapp@refs/heads/main');
    expect(message).toContain('  - ttl 7200 exceeds the maximum 1800');
    expect(message).toMatch(/Request only scopes, ttl and audience that the policy grants/);
  });

  it('invalid_token: audience mismatch points at oidc-audience, issuer mismatch at the issuer', async () => {
    const message = await failWith(() => problem(401, 'invalid_token', { detail: 'OIDC token claim "aud" is invalid (check_failed)' }), { ...baseInputs, 'oidc-audience': 'wrong-aud' });
    expect(message).toContain('does not accept the audience of this job\'s OIDC token (invalid_token): OIDC token claim "aud" is invalid (check_failed)');
    expect(message).toContain('asked GitHub for an OIDC token with audience "wrong-aud"');
    expect(message).toContain('Set `oidc-audience` to the audience the coordinator is configured to expect');
    const issuer = await failWith(() => problem(401, 'invalid_token', { detail: 'OIDC token claim "iss" is invalid (check_failed)' }));
    expect(issuer).toContain('The token\'s issuer is "https://token.actions.githubusercontent.com"');
    expect(issuer).toContain('https://<host>/_services/token');
    const other = await failWith(() => problem(401, 'invalid_token', { detail: 'OIDC token has expired' }));
    expect(other).toContain("rejected this job's OIDC token (invalid_token): OIDC token has expired");
  });

  it('quorum_unavailable says to retry later', async () => {
    const message = await failWith(() => problem(503, 'quorum_unavailable'));
    expect(message).toContain('quorum_unavailable');
    expect(message).toMatch(/No token was issued\. Retry later/);
  });

  it('audit_unavailable says no token was issued', async () => {
    const message = await failWith(() => problem(503, 'audit_unavailable'));
    expect(message).toMatch(/audit_unavailable.*\nNo token was issued\. Retry later/);
  });

  it('rate_limited passes Retry-After on', async () => {
    const message = await failWith(() => problem(429, 'rate_limited', {}, { 'retry-after': '30' }));
    expect(message).toMatch(/rate_limited.*\nRetry later \(the coordinator asks for 30 s\): re-run the job/);
  });

  it('invalid_request and token_replayed say what to do', async () => {
    expect(await failWith(() => problem(400, 'invalid_request'))).toMatch(/Check the `scopes`, `ttl` and `audience` inputs/);
    expect(await failWith(() => problem(409, 'token_replayed'))).toMatch(/re-run the job/);
  });

  it('falls back to the code in `type` and to a generic message for unknown codes', async () => {
    const viaType = await failWith(
      () =>
        new Response(JSON.stringify({ type: 'urn:ztmint:error:quorum_unavailable', title: 'x', status: 503 }), {
          status: 503,
          headers: { 'content-type': 'application/problem+json' },
        }),
    );
    expect(viaType).toMatch(/Retry later/);
    const unknown = await failWith(() => problem(418, 'teapot', { title: 'I am a teapot', detail: 'short and stout' }));
    expect(unknown).toBe('the coordinator refused the mint with HTTP 418 (teapot): I am a teapot: short and stout');
  });

  it('redacts the OIDC token if the coordinator echoes it', async () => {
    const message = await failWith(() => problem(401, 'invalid_token', { detail: `bad token ${OIDC}` }));
    expect(message).toContain('bad token ***');
  });

  it('does not quote a non-problem error body', async () => {
    const message = await failWith(() => new Response(`<html>${MINTED}</html>`, { status: 502, statusText: 'Bad Gateway', headers: { 'content-type': 'text/html' } }));
    expect(message).toMatch(/HTTP 502 Bad Gateway without a problem\+json body.*check `coordinator-url`/);
  });

  it('does not quote a 200 body that is not JSON', async () => {
    const message = await failWith(() => new Response(`token=${MINTED}`, { status: 200 }));
    expect(message).toMatch(/body that is not JSON/);
  });

  it('refuses to follow redirects', async () => {
    const message = await failWith(() => new Response(null, { status: 307, headers: { location: 'https://elsewhere.example/v1/mint' } }));
    expect(message).toMatch(/redirect \(HTTP 307 to https:\/\/elsewhere\.example\/v1\/mint\)/);
  });

  it('explains network failures with their cause', async () => {
    const message = await failWith(() => {
      const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
      throw new TypeError('fetch failed', { cause });
    });
    expect(message).toBe(
      'could not reach the coordinator at https://ztmint.example.com/v1/mint: connect ECONNREFUSED 127.0.0.1:9; ' + 'check `coordinator-url` and that the coordinator is reachable from the runner',
    );
    const tls = await failWith(() => {
      throw new TypeError('fetch failed', { cause: new Error('self-signed certificate in certificate chain') });
    });
    expect(tls).toMatch(/set the `ca-cert` input/);
    const proxy = await failWith(() => {
      throw new TypeError('fetch failed', {
        cause: new Error('Request was cancelled.', { cause: new Error('Proxy response (407) !== 200 when HTTP Tunneling') }),
      });
    });
    expect(proxy).toContain('Request was cancelled: Proxy response (407) !== 200 when HTTP Tunneling');
    expect(proxy).toContain('check HTTPS_PROXY / HTTP_PROXY / NO_PROXY');
  });

  it('times out', async () => {
    const c = fakeCore(baseInputs);
    const fetch = ((_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as typeof globalThis.fetch;
    await run({ core: c.core, fetch, env: ID_ENV, clock: fakeClock().clock, attemptTimeoutMs: 20 });
    expect(c.failure()).toMatch(/did not answer https:\/\/ztmint\.example\.com\/v1\/mint within 20 ms; retry later/);
  });
});

describe('redact', () => {
  it('replaces every occurrence of every secret', () => {
    expect(redact('a SECRET b SECRET c OTHER', ['SECRET', 'OTHER', ''])).toBe('a *** b *** c ***');
  });
});

// ---------------------------------------------------------------------------------------------

const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIQ\nQUJDREVGR0g=\n-----END CERTIFICATE-----';
const PEM_KEY = '-----BEGIN PRIVATE KEY-----\nS0VZLUxJTkUtT05FLVNFQ1JFVA\nS0VZLUxJTkUtVFdPLVNFQ1JFVA\n-----END PRIVATE KEY-----';

describe('inputs: the rest', () => {
  it('export-env takes a variable name, refuses reserved ones', () => {
    expect(parseExportEnv('')).toBeUndefined();
    expect(parseExportEnv(' DEPLOY_TOKEN ')).toBe('DEPLOY_TOKEN');
    expect(parseExportEnv('_x1')).toBe('_x1');
    for (const bad of ['1ABC', 'DEPLOY-TOKEN', 'A B', 'TOKEN=1']) {
      expect(() => parseExportEnv(bad), bad).toThrow(/input `export-env`: .* is not an environment variable name/);
    }
    for (const reserved of ['GITHUB_TOKEN', 'RUNNER_TEMP', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'INPUT_SCOPES', 'STATE_token', 'PATH', 'NODE_OPTIONS', 'https_proxy']) {
      expect(() => parseExportEnv(reserved), reserved).toThrow(/is reserved/);
    }
  });

  it('revoke is a YAML boolean, default true', () => {
    expect(parseBoolean('revoke', '', true)).toBe(true);
    expect(parseBoolean('revoke', 'false', true)).toBe(false);
    expect(parseBoolean('revoke', 'FALSE', true)).toBe(false);
    expect(parseBoolean('revoke', 'True', false)).toBe(true);
    expect(() => parseBoolean('revoke', 'no', true)).toThrow('input `revoke`: "no" is not `true` or `false`');
  });

  it('retries and timeout-seconds are bounded whole numbers with defaults', () => {
    expect(parseRetries('')).toBe(3);
    expect(parseRetries('0')).toBe(0);
    expect(parseRetries('10')).toBe(10);
    expect(() => parseRetries('11')).toThrow(/input `retries`: "11" is not a whole number from 0 to 10/);
    expect(() => parseRetries('-1')).toThrow(/input `retries`/);
    expect(parseTimeoutSeconds('')).toBe(120);
    expect(parseTimeoutSeconds('1')).toBe(1);
    expect(() => parseTimeoutSeconds('0')).toThrow(/input `timeout-seconds`: "0" is not a whole number of seconds from 1 to 3600/);
    expect(() => parseTimeoutSeconds('2m')).toThrow(/input `timeout-seconds`/);
  });

  it('PEM inputs: CRLF and one-line secrets with literal \\n are accepted; paths are not, and keys are never quoted', () => {
    expect(parsePem('ca-cert', PEM_CERT.replace(/\n/g, '\r\n'), 'certificate')).toBe(`${PEM_CERT}\n`);
    expect(parsePem('ca-cert', PEM_CERT.replace(/\n/g, '\\n'), 'certificate')).toBe(`${PEM_CERT}\n`);
    expect(parsePem('ca-cert', '', 'certificate')).toBeUndefined();
    expect(() => parsePem('ca-cert', './ca.pem', 'certificate')).toThrow(
      'input `ca-cert` must be a certificate as PEM text (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----), not a file path; e.g. `ca-cert: ${{ vars.ZTMINT_CA_CERT }}`',
    );
    expect(parsePem('client-key', PEM_KEY.replaceAll('PRIVATE KEY', 'EC PRIVATE KEY'), 'private key')).toContain('EC PRIVATE KEY');
    const broken = PEM_KEY.replace('-----END PRIVATE KEY-----', '');
    let message = '';
    try {
      parsePem('client-key', broken, 'private key');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/input `client-key` must be a private key as PEM text/);
    expect(message).not.toContain('S0VZ');
  });

  it('client-cert and client-key come together', () => {
    const get = (m: Record<string, string>) => (n: string) => m[n] ?? '';
    expect(readTlsInputs(get({ 'ca-cert': PEM_CERT }))).toEqual({ caCert: `${PEM_CERT}\n` });
    expect(readTlsInputs(get({ 'client-cert': PEM_CERT, 'client-key': PEM_KEY }))).toEqual({
      clientCert: `${PEM_CERT}\n`,
      clientKey: `${PEM_KEY}\n`,
    });
    expect(() => readTlsInputs(get({ 'client-cert': PEM_CERT }))).toThrow('input `client-cert` is set but `client-key` is not');
    expect(() => readTlsInputs(get({ 'client-key': PEM_KEY }))).toThrow('input `client-key` is set but `client-cert` is not');
    expect(pemSecretLines(PEM_KEY)).toEqual(['S0VZLUxJTkUtT05FLVNFQ1JFVA', 'S0VZLUxJTkUtVFdPLVNFQ1JFVA']);
  });
});

describe('retry', () => {
  it('backs off exponentially with full jitter, capped', () => {
    expect(backoffDelay(1, () => 0)).toBe(0);
    expect(backoffDelay(1, () => 0.999)).toBe(999);
    expect(backoffDelay(2, () => 0.999)).toBe(1998);
    expect(backoffDelay(3, () => 0.5)).toBe(2000);
    expect(backoffDelay(20, () => 0.999)).toBe(29_970); // cap 30 s
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('retries only retryable errors, up to `retries`, within the deadline', async () => {
    const retryable = Object.assign(new Error('503'), { retryable: true });
    const { clock, sleeps } = fakeClock(0, 0.5);
    let n = 0;
    await expect(
      withRetries(
        async () => {
          n++;
          throw retryable;
        },
        { retries: 2, deadline: 60_000, clock },
      ),
    ).rejects.toMatchObject({
      reason: 'retries',
      attempts: 3,
      last: retryable,
    });
    expect(n).toBe(3);
    expect(sleeps).toEqual([500, 1000]);

    n = 0;
    await expect(
      withRetries(
        async () => {
          n++;
          throw new Error('403');
        },
        { retries: 5, deadline: 60_000, clock },
      ),
    ).rejects.toMatchObject({ reason: 'final', attempts: 1 });
    expect(n).toBe(1);

    const slow = Object.assign(new Error('429'), { retryable: true, retryAfterMs: 90_000 });
    const t = fakeClock(0);
    await expect(
      withRetries(
        async () => {
          throw slow;
        },
        { retries: 5, deadline: 60_000, clock: t.clock },
      ),
    ).rejects.toMatchObject({ reason: 'deadline', attempts: 1 });
    expect(t.sleeps).toEqual([]);

    const r = fakeClock(0);
    let m = 0;
    const value = await withRetries(
      async () => {
        m++;
        if (m < 3) throw Object.assign(new Error('429'), { retryable: true, retryAfterMs: 2000 });
        return 'ok';
      },
      { retries: 5, deadline: 60_000, clock: r.clock },
    );
    expect(value).toBe('ok');
    expect(r.sleeps).toEqual([2000, 2000]);
    const stopped = new RetriesExhausted('final', { last: new Error('x'), attempts: 1 });
    expect(stopped.message).toBe('x');
    expect(stopped.code).toBe('not_retryable');
    expect(stopped).toBeInstanceOf(ZtmintError);
  });
});

describe('run: retries, state, env, claims, summary', () => {
  function deps(c: ReturnType<typeof fakeCore>, f: ReturnType<typeof fakeFetch>, extra: Partial<RunDeps> = {}): RunDeps {
    return { core: c.core, fetch: f.fetch, env: ID_ENV, clock: fakeClock().clock, ...extra };
  }

  it('asks for a fresh OIDC token for every attempt (503, 503, then 200)', async () => {
    const c = fakeCore(baseInputs, async () => newOidc());
    let n = 0;
    const f = fakeFetch(() => (++n < 3 ? problem(503, 'quorum_unavailable') : json(okBody())));
    await run(deps(c, f));
    expect(c.failure()).toBeUndefined();
    expect(f.calls).toHaveLength(3);
    const bearers = f.calls.map((call) => new Headers(call.init.headers).get('authorization'));
    expect(new Set(bearers).size).toBe(3);
    expect(c.of('getIDToken')).toHaveLength(3);
    // The claims group is shown once.
    expect(c.of('startGroup')).toEqual([{ kind: 'startGroup', args: [CLAIMS_GROUP] }]);
    const infos = c.of('info').map((e) => String(e.args[0]));
    expect(infos.filter((i) => i.startsWith('Attempt '))).toHaveLength(2);
    expect(infos.join('\n')).toContain('Attempt 2 of 4 failed: not enough signers are reachable');
  });

  it('never retries a configuration mismatch, even behind a proxy that turns it into a 503', async () => {
    for (const code of ['policy_mismatch', 'issuer_mismatch', 'group_mismatch', 'oidc_issuer_mismatch']) {
      for (const status of [500, 503]) {
        const c = fakeCore(baseInputs);
        const f = fakeFetch(() => problem(status, code, { detail: 'signer-1 refused' }));
        await run(deps(c, f));
        expect(f.calls, `${code} ${status}`).toHaveLength(1);
        expect(c.failure()).toContain(`(${code}): signer-1 refused`);
        expect(c.failure()).toMatch(/retrying cannot help/);
      }
    }
  });

  it('does not retry a 403, and the message lists the reasons', async () => {
    const c = fakeCore(baseInputs);
    const f = fakeFetch(() => problem(403, 'policy_denied', { reasons: ['scope deploy:prod is not granted'] }));
    await run(deps(c, f));
    expect(f.calls).toHaveLength(1);
    expect(c.failure()).toContain('Reasons:\n  - scope deploy:prod is not granted');
  });

  it('gives up when the runner has no OIDC token to give, without retrying', async () => {
    const c = fakeCore(baseInputs, async () => {
      throw new Error('Error message: Failed to get ID Token. \n \n        Error Code : 500');
    });
    const f = fakeFetch(() => json(okBody()));
    await run(deps(c, f));
    expect(c.failure()).toBe('could not get an OIDC token from the runner (audience "https://ztmint.example.com"): Error message: Failed to get ID Token. Error Code : 500');
    expect(f.calls).toEqual([]);
  });

  it('with revoke: false, saves no token as state; export-env exports after masking', async () => {
    const c = fakeCore({ ...baseInputs, revoke: 'false', 'export-env': 'DEPLOY_TOKEN' });
    const f = fakeFetch(() => json(okBody()));
    await run(deps(c, f));
    expect(c.failure()).toBeUndefined();
    expect(c.saved()).toEqual({
      'coordinator-url': 'https://ztmint.example.com',
      jti: 'b6f1c0de-jti',
      'expires-at': '2030-01-01T00:15:00Z',
      revoke: 'false',
      'export-env': 'DEPLOY_TOKEN',
    });
    expect(c.of('exportVariable')).toEqual([{ kind: 'exportVariable', args: ['DEPLOY_TOKEN', MINTED] }]);
    const maskAt = c.events.findIndex((e) => e.kind === 'setSecret' && e.args[0] === MINTED);
    expect(c.events.findIndex((e) => e.kind === 'exportVariable')).toBeGreaterThan(maskAt);
  });

  it('masks the client key (line by line) before anything else, and never shows it', async () => {
    const c = fakeCore({ ...baseInputs, 'client-cert': PEM_CERT, 'client-key': PEM_KEY });
    const f = fakeFetch(() => json(okBody()));
    await run(deps(c, f, { createHttpClient: () => ({ fetch: f.fetch, close: async () => undefined }), fetch: undefined }));
    expect(c.failure()).toBeUndefined();
    expect(c.events.slice(0, 2)).toEqual([
      { kind: 'setSecret', args: ['S0VZLUxJTkUtT05FLVNFQ1JFVA'] },
      { kind: 'setSecret', args: ['S0VZLUxJTkUtVFdPLVNFQ1JFVA'] },
    ]);
    expect(everythingWritten(c.events)).not.toContain('S0VZ');
  });

  it('shows the decoded OIDC claims in a collapsed group, never the token or its signature', async () => {
    const c = fakeCore(baseInputs);
    const f = fakeFetch(() => json(okBody()));
    await run(deps(c, f));
    const start = c.events.findIndex((e) => e.kind === 'startGroup');
    const end = c.events.findIndex((e) => e.kind === 'endGroup');
    const lines = c.events.slice(start + 1, end).map((e) => String(e.args[0]));
    expect(lines.slice(0, 4)).toEqual([
      'sub: repo:acme/webapp:ref:refs/heads/main',
      'repository: acme/webapp',
      'ref: refs/heads/main',
      'job_workflow_ref: acme/webapp/.github/workflows/deploy.yml@refs/heads/main',
    ]);
    expect(lines).toContain('exp: 1900000300 (2030-03-17T17:51:40.000Z)');
    const [, payload, signature] = OIDC.split('.');
    for (const line of lines) {
      expect(line).not.toContain(signature);
      expect(line).not.toContain(payload);
    }
  });

  it('writes a job summary with the facts and no secret; a summary failure is only a warning', async () => {
    const c = fakeCore({ ...baseInputs, audience: 'https://deploy.example', 'export-env': 'DEPLOY_TOKEN' });
    const f = fakeFetch(() => json(okBody()));
    const written: string[] = [];
    await run(deps(c, f, { env: { ...ID_ENV, GITHUB_SERVER_URL: 'https://ghes.acme.internal' }, appendSummary: async (md) => void written.push(md) }));
    expect(c.failure()).toBeUndefined();
    const md = written.join('');
    expect(md).toContain('| Repository | <a href="https://ghes.acme.internal/acme/webapp">acme/webapp</a> |');
    expect(md).toContain('| Granted scopes | read:logs, deploy:canary |');
    expect(md).toContain('| Audience | https://deploy.example |');
    expect(md).toContain('| Expires at | 2030-01-01T00:15:00Z');
    expect(md).toContain('| Token ID (jti) | b6f1c0de-jti |');
    expect(md).toContain('| Audit index | 42 |');
    expect(md).not.toContain(MINTED);
    expect(md).not.toContain(OIDC);

    const c2 = fakeCore(baseInputs);
    await run(
      deps(
        c2,
        fakeFetch(() => json(okBody())),
        {
          appendSummary: async () => {
            throw new Error('Unable to access summary file');
          },
        },
      ),
    );
    expect(c2.failure()).toBeUndefined();
    expect(String(c2.of('warning')[0]?.args[0])).toContain('could not write the job summary');
  });

  it('explains a failed mint in the job summary: problem code, status, what happened and what to do, no secret', async () => {
    const c = fakeCore(baseInputs);
    const f = fakeFetch(() => problem(403, 'policy_denied', { reasons: ['scope deploy:prod is not granted'] }));
    const written: string[] = [];
    await run(deps(c, f, { appendSummary: async (md) => void written.push(md) }));
    expect(c.failure()).toBeDefined();
    const md = written.join('');
    expect(md).toContain('### ztmint: no deploy token minted');
    expect(md).toContain('| Repository | acme/webapp |');
    expect(md).toContain('| Problem code | <code>policy&#95;denied</code> |');
    expect(md).toContain('| HTTP status | 403 |');
    expect(md).toContain('**What happened:** the coordinator&#39;s policy denied the mint (policy&#95;denied)');
    expect(md).toContain('> - scope deploy:prod is not granted');
    expect(md).toMatch(/> Request only scopes, ttl and audience that the policy grants/);
    expect(md).not.toContain(OIDC);

    // A failure before any coordinator answer (no OIDC permission) is explained too.
    const c2 = fakeCore(baseInputs);
    const written2: string[] = [];
    await run(
      deps(
        c2,
        fakeFetch(() => json(okBody())),
        { env: {}, appendSummary: async (md2) => void written2.push(md2) },
      ),
    );
    expect(written2.join('')).toContain('id-token: write');
    expect(written2.join('')).not.toContain('Problem code');
  });
});

describe('post step', () => {
  const STATE = {
    token: MINTED,
    'coordinator-url': 'https://ztmint.example.com',
    jti: 'b6f1c0de-jti',
    'expires-at': '2099-01-01T00:00:00Z',
    revoke: 'true',
  };

  it('masks the token, revokes it with the token as bearer, and logs the jti', async () => {
    const c = fakeCore({}, undefined, STATE);
    const f = fakeFetch(() => new Response(null, { status: 204 }));
    await runPost({ core: c.core, fetch: f.fetch, clock: fakeClock().clock });
    expect(c.events[0]).toEqual({ kind: 'setSecret', args: [MINTED] });
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]!.url).toBe('https://ztmint.example.com/v1/revoke');
    expect(f.calls[0]!.init.method).toBe('POST');
    expect(new Headers(f.calls[0]!.init.headers).get('authorization')).toBe(`Bearer ${MINTED}`);
    expect(f.calls[0]!.init.redirect).toBe('manual');
    expect(c.of('info').map((e) => e.args[0])).toContain('Revoked token jti=b6f1c0de-jti.');
    expect(c.of('warning')).toEqual([]);
    expect(c.of('setFailed')).toEqual([]);
  });

  it('clears the exported variable whatever happens, and warns (not fails) when revocation fails', async () => {
    const c = fakeCore({ retries: '1' }, undefined, { ...STATE, 'export-env': 'DEPLOY_TOKEN' });
    const f = fakeFetch(() => problem(503, 'audit_unavailable', { detail: `echo ${MINTED}` }));
    await runPost({ core: c.core, fetch: f.fetch, clock: fakeClock().clock });
    expect(c.of('exportVariable')).toEqual([{ kind: 'exportVariable', args: ['DEPLOY_TOKEN', ''] }]);
    expect(f.calls).toHaveLength(2);
    expect(c.of('setFailed')).toEqual([]);
    const warning = String(c.of('warning')[0]?.args[0]);
    expect(warning).toMatch(/^could not revoke the token jti=b6f1c0de-jti: the coordinator refused to revoke the token with HTTP 503 \(audit_unavailable\): echo \*\*\*/);
    expect(warning).toContain('The token stays valid until it expires (2099-01-01T00:00:00Z).');
    expect(everythingWritten(c.events)).not.toContain(MINTED);
  });

  it('does not revoke with revoke: false, an expired token, or nothing minted', async () => {
    for (const state of [{ ...STATE, revoke: 'false', token: '' }, { ...STATE, 'expires-at': '2001-01-01T00:00:00Z' }, {}]) {
      const c = fakeCore({}, undefined, state);
      const f = fakeFetch(() => new Response(null, { status: 204 }));
      await runPost({ core: c.core, fetch: f.fetch, clock: fakeClock(Date.now()).clock });
      expect(f.calls).toEqual([]);
      expect(c.of('warning')).toEqual([]);
      expect(c.of('setFailed')).toEqual([]);
    }
  });

  it('warns about bad connection inputs instead of failing', async () => {
    const c = fakeCore({ 'ca-cert': 'ca.pem' }, undefined, STATE);
    const f = fakeFetch(() => new Response(null, { status: 204 }));
    await runPost({ core: c.core, fetch: f.fetch, clock: fakeClock().clock });
    expect(f.calls).toEqual([]);
    expect(String(c.of('warning')[0]?.args[0])).toMatch(/could not revoke the token jti=b6f1c0de-jti: input `ca-cert` must be a certificate as PEM text/);
    expect(c.of('setFailed')).toEqual([]);
  });
});

describe('claims and summary helpers', () => {
  it('decodes only well-formed JWT payloads', () => {
    expect(decodeClaims(OIDC)).toMatchObject({ repository: 'acme/webapp' });
    expect(decodeClaims('not-a-jwt')).toBeUndefined();
    expect(decodeClaims('a.b.c')).toBeUndefined();
    expect(decodeClaims(`x.${b64([1, 2])}.y`)).toBeUndefined();
    expect(formatClaims({ z: 1, aud: ['a', 'b'], sub: 's' })).toEqual(['sub: s', 'aud: ["a","b"]', 'z: 1']);
  });

  it('escapes Markdown and HTML in summary cells', () => {
    expect(escapeCell('a|b<script>`x`*_')).toBe('a&#124;b&#60;script&#62;&#96;x&#96;&#42;&#95;');
    const md = mintSummary({
      coordinatorUrl: 'https://c.example',
      minted: { expiresAt: 'e', expiresIn: 1, jti: 'j', scopes: ['s|x'], auditIndex: 1 },
      revoke: false,
      repository: 'evil/<img>',
      serverUrl: 'javascript:alert(1)',
    });
    expect(md).toContain('| Repository | evil/&#60;img&#62; |');
    expect(md).toContain('| Granted scopes | s&#124;x |');
    expect(md).toContain('none (<code>revoke: false</code>)');
  });
});
