// Request abuse against the coordinator at the HTTP layer: content types, sizes, slow clients,
// headers, methods, paths and Authorization tricks. Exact bytes go over a raw socket where an
// ordinary client would normalise them.
import type { ProblemCode } from '../../protocol/problem.js';
import type { Env } from './env.js';
import type { AttackCase, Expectation } from './harness.js';
import { call, raw, rawRequest } from './http.js';
import { unsigned } from './jwt.js';

type Case = AttackCase<Env>;

const BODY = '{"scopes":["deploy:canary"]}';
const CT = 'Content-Type: application/json';

/** An unsigned (alg none) token with fresh genuine claims: refused wherever it is verified. */
async function forged(env: Env): Promise<string> {
  return unsigned({ alg: 'none', typ: 'JWT' }, (await env.fresh()).claims);
}

async function healthy(env: Env): Promise<string | undefined> {
  const res = await call(`${env.coordinator}/healthz`, { method: 'GET' });
  if (res.status !== 200) return `coordinator not healthy afterwards: ${res.status} ${res.error ?? ''}`;
  const probe = await call(`${env.coordinator}/v1/mint`, { headers: { authorization: `Bearer ${await forged(env)}`, 'content-type': 'application/json' }, body: BODY });
  if (probe.status !== 401) return `coordinator no longer serves mints normally afterwards: ${probe.status}`;
  return undefined;
}

const problem = (code: ProblemCode | ProblemCode[]): Expectation => ({ kind: 'problem', code });

function rawCase(cls: string, name: string, expect: Expectation, make: (env: Env) => Promise<string | Buffer>, opts: Partial<Case> & { raw?: Parameters<typeof raw>[2] } = {}): Case {
  const { raw: rawOpts, ...rest } = opts;
  return {
    cls,
    name,
    surface: 'mint',
    expect,
    ...rest,
    async run(env) {
      return raw(env.coordinator, await make(env), rawOpts);
    },
  };
}

export function httpCorpus(): Case[] {
  const cases: Case[] = [];
  const auth = async (env: Env) => `Authorization: Bearer ${await forged(env)}`;
  const validAuth = async (env: Env) => `Authorization: Bearer ${await env.idToken()}`;

  // --- content types (a valid, allowed identity: only the media type is wrong) ----------------
  const types: Array<[string, string | null, Expectation, string?]> = [
    ['text/plain', 'text/plain', problem('unsupported_media_type')],
    ['form-urlencoded', 'application/x-www-form-urlencoded', problem('unsupported_media_type')],
    ['application/xml', 'application/xml', problem('unsupported_media_type')],
    ['multipart/form-data', 'multipart/form-data; boundary=x', problem('unsupported_media_type')],
    ['no Content-Type', null, problem('unsupported_media_type')],
    ['application/problem+json', 'application/problem+json', problem('unsupported_media_type')],
    ['a list of types', 'application/json, text/plain', problem('unsupported_media_type')],
    ['application/jsonx', 'application/jsonx', problem('unsupported_media_type')],
    ['application/vnd.api+json', 'application/vnd.api+json', problem('unsupported_media_type')],
    ['text/json', 'text/json', problem('unsupported_media_type')],
  ];
  for (const [what, type, expect, knownBug] of types) {
    cases.push(
      rawCase(
        'request.content-type',
        `Content-Type ${what}`,
        expect,
        async (env) => rawRequest('POST', '/v1/mint', [await validAuth(env), ...(type === null ? [] : [`Content-Type: ${type}`])], BODY),
        knownBug ? { knownBug } : {},
      ),
    );
  }

  // --- sizes --------------------------------------------------------------------------------
  const MiB = 1 << 20;
  const big = (n: number) => `{"scopes":["deploy:canary"],"x":"${'a'.repeat(n)}"}`;
  cases.push(rawCase('request.size', '16 KiB + 1 body', problem('payload_too_large'), async (env) => rawRequest('POST', '/v1/mint', [await auth(env), CT], big(16 * 1024 - 29))));
  cases.push(rawCase('request.size', '1 MiB body', problem('payload_too_large'), async (env) => rawRequest('POST', '/v1/mint', [await auth(env), CT], big(MiB))));
  cases.push(
    rawCase('request.size', '1 MiB chunked body', problem('payload_too_large'), async (env) =>
      rawRequest('POST', '/v1/mint', [await auth(env), CT, 'Transfer-Encoding: chunked'], `${MiB.toString(16)}\r\n${'a'.repeat(MiB)}\r\n0\r\n\r\n`),
    ),
  );
  cases.push(
    rawCase('request.size', '4 MiB in 1 KiB chunks', problem('payload_too_large'), async (env) => {
      const chunk = `400\r\n${'a'.repeat(1024)}\r\n`;
      return rawRequest('POST', '/v1/mint', [await auth(env), CT, 'Transfer-Encoding: chunked'], `${chunk.repeat(4096)}0\r\n\r\n`);
    }),
  );
  cases.push(
    rawCase(
      'request.size',
      'Content-Length of 100 MB with a tiny body',
      problem('payload_too_large'),
      async (env) => rawRequest('POST', '/v1/mint', [await auth(env), CT, 'Content-Length: 100000000'], BODY),
      { raw: { timeoutMs: 5_000 } },
    ),
  );
  cases.push(
    rawCase('request.size', '64 KiB of nested objects', problem('payload_too_large'), async (env) =>
      rawRequest('POST', '/v1/mint', [await auth(env), CT], '{"a":'.repeat(13_000) + '1' + '}'.repeat(13_000)),
    ),
  );

  // --- slow clients (bounded: each at most ~1.5 s) -----------------------------------------
  cases.push(
    rawCase(
      'request.slow-client',
      'body trickled byte by byte (forged token)',
      problem('invalid_token'),
      async (env) => rawRequest('POST', '/v1/mint', [await auth(env), CT, `Content-Length: ${BODY.length}`], ''),
      {
        raw: { trickle: BODY, trickleEveryMs: 40, timeoutMs: 8_000 },
      },
    ),
  );
  cases.push(
    rawCase(
      'request.slow-client',
      'body trickled byte by byte (policy-denied request)',
      problem('policy_denied'),
      async (env) => rawRequest('POST', '/v1/mint', [await validAuth(env), CT, 'Content-Length: 26'], ''),
      {
        raw: { trickle: '{"scopes":["deploy:prod"]}', trickleEveryMs: 40, timeoutMs: 8_000 },
      },
    ),
  );
  cases.push(
    rawCase('request.slow-client', 'headers never finished (slowloris), client gives up', { kind: 'no_response' }, async () => 'POST /v1/mint HTTP/1.1\r\nHost: 127.0.0.1\r\n', {
      raw: { trickle: `X-Slow: ${'a'.repeat(100)}`, trickleEveryMs: 50, abortAfterMs: 1_500 },
      post: healthy,
    }),
  );
  cases.push(
    rawCase(
      'request.slow-client',
      'body shorter than its Content-Length, client gives up',
      { kind: 'no_response' },
      async (env) => rawRequest('POST', '/v1/mint', [await auth(env), CT, 'Content-Length: 100'], '{"scopes":'),
      {
        raw: { abortAfterMs: 1_000 },
        post: healthy,
      },
    ),
  );
  cases.push(
    rawCase('request.slow-client', 'trickled body announcing 1 MiB', problem('payload_too_large'), async (env) => rawRequest('POST', '/v1/mint', [await auth(env), CT, `Content-Length: ${MiB}`], ''), {
      raw: { trickle: '{"scopes":', trickleEveryMs: 40, timeoutMs: 5_000 },
    }),
  );

  // --- headers --------------------------------------------------------------------------------
  cases.push(
    rawCase('request.headers', '500 extra headers', problem('invalid_token'), async (env) =>
      rawRequest('POST', '/v1/mint', [await auth(env), CT, ...Array.from({ length: 500 }, (_, i) => `X-H${i}: v`)], BODY),
    ),
  );
  cases.push(rawCase('request.headers', 'one 14 KiB header', problem('invalid_token'), async (env) => rawRequest('POST', '/v1/mint', [await auth(env), CT, `X-Big: ${'a'.repeat(14 * 1024)}`], BODY)));
  cases.push(
    rawCase('request.headers', '14 KiB Authorization header', problem('invalid_token'), async () => rawRequest('POST', '/v1/mint', [`Authorization: Bearer ${'a'.repeat(14 * 1024)}`, CT], BODY)),
  );
  cases.push(rawCase('request.headers', 'one 17 KiB header', { kind: 'problem_4xx' }, async (env) => rawRequest('POST', '/v1/mint', [await auth(env), CT, `X-Big: ${'a'.repeat(17 * 1024)}`], BODY)));
  cases.push(
    rawCase('request.headers', '3000 headers', { kind: 'problem_4xx' }, async (env) =>
      rawRequest('POST', '/v1/mint', [await auth(env), CT, ...Array.from({ length: 3000 }, (_, i) => `X-${i}: v`)], BODY),
    ),
  );
  cases.push(rawCase('request.headers', 'NUL byte in a header value', { kind: 'problem_4xx' }, async (env) => rawRequest('POST', '/v1/mint', [await auth(env), CT, 'X-Nul: a\u0000b'], BODY)));
  cases.push(rawCase('request.headers', 'obs-fold continuation line', { kind: 'problem_4xx' }, async (env) => rawRequest('POST', '/v1/mint', [await auth(env), CT, 'X-Fold: a', ' b'], BODY)));
  cases.push(
    rawCase('request.headers', 'Transfer-Encoding and Content-Length together (smuggling)', { kind: 'problem_4xx' }, async (env) =>
      rawRequest('POST', '/v1/mint', [await auth(env), CT, 'Transfer-Encoding: chunked', 'Content-Length: 5'], `${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`),
    ),
  );

  // --- methods ------------------------------------------------------------------------------
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
    cases.push(rawCase('request.method', `${method} /v1/mint`, problem('not_found'), async (env) => rawRequest(method, '/v1/mint', [await auth(env), CT], BODY)));
  }
  cases.push(rawCase('request.method', 'HEAD /v1/mint', { kind: 'status', status: 404, problemType: true }, async (env) => rawRequest('HEAD', '/v1/mint', [await auth(env)])));
  cases.push(
    rawCase('request.method', 'GET /v1/mint with X-HTTP-Method-Override: POST', problem('not_found'), async (env) =>
      rawRequest('GET', '/v1/mint', [await validAuth(env), 'X-HTTP-Method-Override: POST', CT], BODY),
    ),
  );
  cases.push(rawCase('request.method', 'GET /v1/revoke', problem('not_found'), async (env) => rawRequest('GET', '/v1/revoke', [await auth(env)])));
  cases.push(rawCase('request.method', 'GET /v1/introspect?token=', problem('not_found'), async (env) => rawRequest('GET', `/v1/introspect?token=${await forged(env)}`, [])));
  cases.push(rawCase('request.method', 'unknown method FOO', { kind: 'problem_4xx' }, async (env) => rawRequest('FOO', '/v1/mint', [await auth(env), CT], BODY)));

  // --- paths (forged token: a route that reaches /v1/mint answers 401, others 404) -----------
  const notFound = [
    '/v1//mint',
    '/v1/mint/',
    '/v1/%2e/mint',
    '/v1/./mint',
    '/v1/../v1/mint',
    '//v1/mint',
    '/V1/MINT',
    '/v1/mint;x',
    '/v1/mint%00',
    '/v1/mint%2f',
    '/v1%2fmint',
    '/v1/mint/..',
    '/v1/mint%20',
    '/v1/mint\\',
  ];
  for (const path of notFound) {
    cases.push(rawCase('request.path', `POST ${path}`, problem('not_found'), async (env) => rawRequest('POST', path, [await auth(env), CT], BODY)));
  }
  for (const path of ['/v1/%6dint', 'http://evil.example/v1/mint', '/v1/mint?scopes=deploy:prod&ttl=86400']) {
    cases.push(rawCase('request.path', `POST ${path} (routes to /v1/mint)`, problem('invalid_token'), async (env) => rawRequest('POST', path, [await auth(env), CT], BODY)));
  }

  // --- Authorization header tricks ------------------------------------------------------------
  const authCases: Array<[string, (env: Env) => Promise<string[]>]> = [
    ['two Authorization headers (forged first, valid second)', async (env) => [await auth(env), await validAuth(env)]],
    ['lower-case scheme "bearer"', async (env) => [`Authorization: bearer ${await forged(env)}`]],
    ['upper-case scheme "BEARER"', async (env) => [`Authorization: BEARER ${await forged(env)}`]],
    ['two spaces after Bearer', async (env) => [`Authorization: Bearer  ${await forged(env)}`]],
    ['tab after Bearer', async (env) => [`Authorization: Bearer\t${await forged(env)}`]],
    ['scheme only', async () => ['Authorization: Bearer']],
    ['Basic credentials', async () => [`Authorization: Basic ${Buffer.from('acme:webapp').toString('base64')}`]],
    ['a list: valid, then forged', async (env) => [`Authorization: Bearer ${await env.idToken()}, Bearer ${await forged(env)}`]],
    ['"Bearer Bearer <valid>"', async (env) => [`Authorization: Bearer Bearer ${await env.idToken()}`]],
    ['quoted token', async (env) => [`Authorization: Bearer "${await env.idToken()}"`]],
    ['token followed by ";"', async (env) => [`Authorization: Bearer ${await env.idToken()};`]],
    ['Cyrillic е in "Bearer" (UTF-8 bytes)', async (env) => [Buffer.from(`Authorization: B\u0435arer ${await env.idToken()}`, 'utf8').toString('latin1')]],
    ['token in Proxy-Authorization only', async (env) => [`Proxy-Authorization: Bearer ${await env.idToken()}`]],
    ['token in a cookie only', async (env) => [`Cookie: token=${await env.idToken()}; access_token=${await env.idToken()}`]],
    ['token in X-Forwarded-Authorization only', async (env) => [`X-Forwarded-Authorization: Bearer ${await env.idToken()}`]],
  ];
  for (const [what, headers] of authCases) {
    cases.push(rawCase('request.authorization', what, problem(['invalid_token', 'invalid_request']), async (env) => rawRequest('POST', '/v1/mint', [...(await headers(env)), CT], BODY)));
  }
  cases.push(
    rawCase('request.authorization', 'token in the query string only', problem('invalid_token'), async (env) => rawRequest('POST', `/v1/mint?access_token=${await env.idToken()}`, [CT], BODY)),
  );

  return cases;
}
