// Unit tests of the GitHub Action's logic (action/), with a fake @actions/core and a fake fetch.
import * as actionsCore from '@actions/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InputError,
  parseCoordinatorUrl,
  parseScopes,
  parseTtl,
  readInputs,
} from '../action/inputs.js';
import { PERMISSIONS_HINT, redact, run, type Core } from '../action/run.js';

const OIDC = 'eyJhbGciOiJSUzI1NiJ9.OIDC-SECRET-PAYLOAD.c2ln';
const MINTED = 'eyJhbGciOiJFZERTQSJ9.MINTED-SECRET-PAYLOAD.c2ln';
const ID_ENV = {
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://runner.invalid/idtoken?api-version=2.0',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
};

type Event = { kind: string; args: unknown[] };

/** A fake @actions/core that records every call, in order. */
function fakeCore(inputs: Record<string, string>, idToken: () => Promise<string> = async () => OIDC) {
  const events: Event[] = [];
  const record = (kind: string) => (...args: unknown[]) => {
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
  };
  const of = (kind: string) => events.filter((e) => e.kind === kind);
  const outputs = () => Object.fromEntries(of('setOutput').map((e) => e.args as [string, string]));
  const failure = () => of('setFailed').map((e) => String(e.args[0]))[0];
  return { core, events, of, outputs, failure };
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

const problem = (
  status: number,
  code: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) =>
  new Response(
    JSON.stringify({ type: `urn:ztmint:error:${code}`, title: code, status, detail: `detail of ${code}`, code, ...extra }),
    { status, headers: { 'content-type': 'application/problem+json', ...headers } },
  );

const baseInputs = {
  'coordinator-url': 'https://ztmint.example.com/',
  scopes: 'read:logs, deploy:canary',
};

/** Everything the action wrote anywhere, for "no secret leaked" checks. */
function everythingWritten(events: Event[]): string {
  return events
    .filter((e) => e.kind !== 'setSecret' && !(e.kind === 'setOutput' && e.args[0] === 'token'))
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
    });
    expect(
      readInputs(get({ ...baseInputs, ttl: '600', audience: ' https://deploy.example ', 'oidc-audience': 'ztmint' })),
    ).toEqual({
      coordinatorUrl: 'https://ztmint.example.com',
      scopes: ['read:logs', 'deploy:canary'],
      ttl: 600,
      audience: 'https://deploy.example',
      oidcAudience: 'ztmint',
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
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV });

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
    expect(c.outputs()).toEqual({ token: MINTED, 'expires-at': '2030-01-01T00:15:00Z', jti: 'b6f1c0de-jti' });

    const info = c.of('info').map((e) => String(e.args[0])).join('\n');
    expect(info).toContain('b6f1c0de-jti');
    expect(info).toContain('read:logs,deploy:canary');
    expect(info).toContain('2030-01-01T00:15:00Z');
    expect(everythingWritten(c.events)).not.toContain(MINTED);
    expect(everythingWritten(c.events)).not.toContain(OIDC);
  });

  it('sends only scopes when ttl and audience are not given, and honours oidc-audience', async () => {
    const c = fakeCore({ ...baseInputs, 'oidc-audience': 'ztmint-prod' });
    const f = fakeFetch(() => json(okBody()));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV });
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
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV });
    const i = c.events.findIndex((e) => e.kind === 'getIDToken');
    expect(c.events[i + 1]).toEqual({ kind: 'setSecret', args: [OIDC] });
    expect(eventsAtFetch).toBeGreaterThan(i + 1);
  });

  it('calls setSecret(token) before any output or log line', async () => {
    const c = fakeCore(baseInputs);
    const f = fakeFetch(() => json(okBody()));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV });
    const maskAt = c.events.findIndex((e) => e.kind === 'setSecret' && e.args[0] === MINTED);
    expect(maskAt).toBeGreaterThan(-1);
    const before = c.events.slice(0, maskAt).map((e) => e.kind);
    expect(before).toEqual(['getIDToken', 'setSecret']); // only the OIDC token's own masking
    const firstOutput = c.events.findIndex((e) => e.kind === 'setOutput');
    expect(firstOutput).toBeGreaterThan(maskAt);
  });

  it('masks the token even when the rest of the response is malformed, and does not echo it', async () => {
    const c = fakeCore(baseInputs);
    const f = fakeFetch(() => json(okBody({ jti: undefined })));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV });
    expect(c.of('setSecret').map((e) => e.args[0])).toContain(MINTED);
    expect(c.failure()).toMatch(/malformed: `jti` missing/);
    expect(c.of('setOutput')).toEqual([]);
    expect(everythingWritten(c.events)).not.toContain(MINTED);
  });

  it('warns when the coordinator grants fewer scopes than requested', async () => {
    const c = fakeCore(baseInputs);
    const f = fakeFetch(() => json(okBody({ scopes: ['read:logs'] })));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV });
    expect(c.failure()).toBeUndefined();
    expect(String(c.of('warning')[0]?.args[0])).toContain('deploy:canary');
  });

  it.each([
    ['ACTIONS_ID_TOKEN_REQUEST_URL'],
    ['ACTIONS_ID_TOKEN_REQUEST_TOKEN'],
  ])('without %s it fails with the permissions hint', async (missing) => {
    const c = fakeCore(baseInputs);
    const f = fakeFetch(() => json(okBody()));
    const env: Record<string, string | undefined> = { ...ID_ENV, [missing]: undefined };
    await run({ core: c.core, fetch: f.fetch, env });
    expect(c.failure()).toBe(PERMISSIONS_HINT);
    expect(c.failure()).toContain('add `permissions: id-token: write` to the job');
    expect(c.failure()).toContain('fork pull requests never get an OIDC token');
    expect(c.of('getIDToken')).toEqual([]);
    expect(f.calls).toEqual([]);
  });

  it('reports bad inputs before asking for any token', async () => {
    const c = fakeCore({ ...baseInputs, ttl: 'soon' });
    const f = fakeFetch(() => json(okBody()));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV });
    expect(c.failure()).toMatch(/input `ttl`: "soon" is not a positive whole number/);
    expect(c.of('getIDToken')).toEqual([]);
    expect(f.calls).toEqual([]);
  });

  it('reports a failing getIDToken', async () => {
    const c = fakeCore(baseInputs, async () => {
      throw new Error('Failed to get ID Token. Error Code : 403');
    });
    const f = fakeFetch(() => json(okBody()));
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV });
    expect(c.failure()).toMatch(/could not get an OIDC token from the runner .*Error Code : 403/);
    expect(f.calls).toEqual([]);
  });
});

describe('run: coordinator errors', () => {
  async function failWith(response: () => Response, inputs: Record<string, string> = baseInputs) {
    const c = fakeCore(inputs);
    const f = fakeFetch(response);
    await run({ core: c.core, fetch: f.fetch, env: ID_ENV });
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

  it('invalid_token points at oidc-audience', async () => {
    const message = await failWith(() => problem(401, 'invalid_token', { detail: 'audience mismatch' }), {
      ...baseInputs,
      'oidc-audience': 'wrong-aud',
    });
    expect(message).toContain('rejected this job\'s OIDC token (invalid_token): audience mismatch');
    expect(message).toContain('`oidc-audience` (now "wrong-aud")');
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
    expect(message).toMatch(/rate_limited.*\nRetry later \(after 30 s\)/);
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
    const message = await failWith(
      () => new Response(`<html>${MINTED}</html>`, { status: 502, statusText: 'Bad Gateway', headers: { 'content-type': 'text/html' } }),
    );
    expect(message).toMatch(/HTTP 502 Bad Gateway without a problem\+json body.*check `coordinator-url`/);
  });

  it('does not quote a 200 body that is not JSON', async () => {
    const message = await failWith(() => new Response(`token=${MINTED}`, { status: 200 }));
    expect(message).toMatch(/body that is not JSON/);
  });

  it('refuses to follow redirects', async () => {
    const message = await failWith(
      () => new Response(null, { status: 307, headers: { location: 'https://elsewhere.example/v1/mint' } }),
    );
    expect(message).toMatch(/redirect \(HTTP 307 to https:\/\/elsewhere\.example\/v1\/mint\)/);
  });

  it('explains network failures with their cause', async () => {
    const message = await failWith(() => {
      const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
      throw new TypeError('fetch failed', { cause });
    });
    expect(message).toBe(
      'could not reach the coordinator at https://ztmint.example.com/v1/mint: connect ECONNREFUSED 127.0.0.1:9; ' +
        'check `coordinator-url` and that the coordinator is reachable from the runner',
    );
    const tls = await failWith(() => {
      throw new TypeError('fetch failed', { cause: new Error('self-signed certificate in certificate chain') });
    });
    expect(tls).toMatch(/NODE_EXTRA_CA_CERTS/);
  });

  it('times out', async () => {
    const c = fakeCore(baseInputs);
    const fetch = ((_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as typeof globalThis.fetch;
    await run({ core: c.core, fetch, env: ID_ENV, timeoutMs: 20 });
    expect(c.failure()).toMatch(/did not answer https:\/\/ztmint\.example\.com\/v1\/mint within 20 ms; retry later/);
  });
});

describe('redact', () => {
  it('replaces every occurrence of every secret', () => {
    expect(redact('a SECRET b SECRET c OTHER', ['SECRET', 'OTHER', ''])).toBe('a *** b *** c ***');
  });
});
