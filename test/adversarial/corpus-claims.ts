// Claim abuse: OIDC tokens genuinely signed by the dev issuer (its POST /token takes claim
// overrides) whose claims are wrong, odd or look-alikes; and mint requests whose body asks for
// more than the policy allows or is not what the schema says.
import type { ProblemCode } from '../../protocol/problem.js';
import { CANARY, mintWith } from './corpus-jwt.js';
import type { Env } from './env.js';
import type { AttackCase } from './harness.js';
import { call } from './http.js';

type Case = AttackCase<Env>;

const nowS = () => Math.floor(Date.now() / 1000);

/** A genuine token with `claims` overridden, sent with `body`. */
function claimCase(cls: string, name: string, claims: (env: Env) => Record<string, unknown>, code: ProblemCode, body: unknown = CANARY): Case {
  let token = '';
  return {
    cls,
    name,
    surface: 'mint',
    expect: { kind: 'problem', code },
    get secrets() {
      return token ? [token.split('.')[2]!] : [];
    },
    async run(env) {
      token = await env.idToken(claims(env));
      return mintWith(env, token, body);
    },
  };
}

/** A genuine, policy-allowed identity with a request `body` (raw JSON text when a string). */
function bodyCase(cls: string, name: string, body: unknown, code: ProblemCode | ProblemCode[], opts: Partial<Case> = {}): Case {
  let token = '';
  return {
    cls,
    name,
    surface: 'mint',
    expect: { kind: 'problem', code },
    get secrets() {
      return token ? [token.split('.')[2]!] : [];
    },
    ...opts,
    async run(env) {
      token = await env.idToken();
      return call(`${env.coordinator}/v1/mint`, {
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      });
    },
  };
}

const PROD = { scopes: ['deploy:prod'] };
const PROD_WORKFLOW = 'acme/webapp/.github/workflows/deploy.yml@refs/heads/main';

export function claimsCorpus(): Case[] {
  const cases: Case[] = [];
  const claim = (cls: string, name: string, claims: (env: Env) => Record<string, unknown>, code: ProblemCode, body?: unknown) => cases.push(claimCase(cls, name, claims, code, body));

  // --- issuer pinning (iss may be overridden at the dev issuer) -----------------------------
  const issuers: Array<[string, (env: Env) => unknown]> = [
    ["GitHub's real issuer (not trusted here)", () => 'https://token.actions.githubusercontent.com'],
    ['trusted issuer + "/"', (env) => `${env.issuer}/`],
    ['trusted issuer in upper case', (env) => env.issuer.toUpperCase()],
    ['the coordinator itself', (env) => env.coordinator],
    ['trusted issuer + "#"', (env) => `${env.issuer}#`],
    ['trusted issuer with a leading space', (env) => ` ${env.issuer}`],
    ['trusted issuer as an array', (env) => [env.issuer]],
    ['trusted issuer + a path', (env) => `${env.issuer}/../${new URL(env.issuer).host}`],
  ];
  for (const [what, iss] of issuers) claim('claims.issuer', `iss = ${what}`, (env) => ({ iss: iss(env) }), 'invalid_token');

  // --- audience ---------------------------------------------------------------------------
  const audiences: Array<[string, (env: Env) => unknown]> = [
    ['another service', () => 'https://other.example'],
    ['empty string', () => ''],
    ['empty array', () => []],
    ['[another service]', () => ['https://other.example']],
    ['coordinator + "/"', (env) => `${env.coordinator}/`],
    ['[coordinator + "/"]', (env) => [`${env.coordinator}/`]],
    ['coordinator in upper case', (env) => env.coordinator.toUpperCase()],
    ['nested array [[coordinator]]', (env) => [[env.coordinator]]],
    ['object {"0": coordinator}', (env) => ({ 0: env.coordinator })],
    ["the minted tokens' audience", () => 'https://deploy.example'],
    ['number', () => 1],
  ];
  for (const [what, aud] of audiences) claim('claims.audience', `aud = ${what}`, (env) => ({ aud: aud(env) }), 'invalid_token');

  // --- time claims: overflow, floats, negative, far past / future ---------------------------
  const times: Array<[string, () => Record<string, unknown>]> = [
    ['exp = 1e300', () => ({ exp: 1e300 })],
    ['exp = 2^63', () => ({ exp: 2 ** 63 })],
    ['exp = 2^53 (not a safe integer)', () => ({ exp: 2 ** 53 })],
    ['exp a float', () => ({ exp: nowS() + 300.5 })],
    ['exp negative', () => ({ exp: -1 })],
    ['exp = 0', () => ({ exp: 0 })],
    ['exp in the past beyond the skew', () => ({ exp: nowS() - 120 })],
    ['iat = 1e300', () => ({ iat: 1e300 })],
    ['iat a float', () => ({ iat: nowS() - 0.5 })],
    ['iat an hour ahead', () => ({ iat: nowS() + 3600 })],
    ['iat an hour old (max age)', () => ({ iat: nowS() - 3600, nbf: nowS() - 3600 })],
    ['nbf = 1e300', () => ({ nbf: 1e300 })],
    ['nbf a float', () => ({ nbf: nowS() - 10.25 })],
    ['nbf ten minutes ahead', () => ({ nbf: nowS() + 600, exp: nowS() + 900 })],
  ];
  for (const [what, claims] of times) claim('claims.time', what, claims, 'invalid_token');

  // --- required claims missing or of the wrong type ------------------------------------------
  const types: Array<[string, Record<string, unknown>]> = [
    ['sub missing', { sub: null }],
    ['sub a number', { sub: 12345 }],
    ['sub empty', { sub: '' }],
    ['jti missing', { jti: null }],
    ['jti a number', { jti: 42 }],
    ['jti an array', { jti: ['a', 'b'] }],
    ['repository missing', { repository: null }],
    ['repository a number', { repository: 7 }],
    ['repository an array', { repository: ['acme/webapp'] }],
    ['repository empty', { repository: '' }],
    ['ref an object', { ref: { name: 'refs/heads/main' } }],
    ['run_id a number', { run_id: 123 }],
    ['environment a number', { environment: 1 }],
    ['repository_owner missing', { repository_owner: null }],
  ];
  for (const [what, claims] of types) claim('claims.types', what, () => claims, 'invalid_token');

  // --- glob metacharacters in the repository: never a pattern on the token side -------------
  for (const repo of ['acme/[w]ebapp', 'acme/*', 'acme/webap?', 'acme/{webapp}', '*/webapp', 'acme/**', 'acme/webapp/*', 'acme/.*', 'acme/webapp*', '*']) {
    claim('claims.repository-glob', `repository "${repo}"`, () => ({ repository: repo }), 'policy_denied');
  }

  // --- Unicode and ASCII look-alikes in identity claims --------------------------------------
  const lookalikes: Array<[string, Record<string, unknown>]> = [
    ['Cyrillic а in acme', { repository: '\u0430cme/webapp' }],
    ['Cyrillic е in webapp', { repository: 'acme/w\u0435bapp' }],
    ['fullwidth solidus', { repository: 'acme\uff0fwebapp' }],
    ['upper-case owner', { repository: 'ACME/webapp' }],
    ['zero-width space suffix', { repository: 'acme/webapp\u200b' }],
    ['trailing space', { repository: 'acme/webapp ' }],
    ['leading space', { repository: ' acme/webapp' }],
    ['NUL suffix', { repository: 'acme/webapp\u0000' }],
    ['newline suffix', { repository: 'acme/webapp\n' }],
    ['trailing slash', { repository: 'acme/webapp/' }],
    ['Cyrillic а in the ref', { ref: 'refs/heads/m\u0430in' }],
    ['zero-width space in the ref', { ref: 'refs/heads/main\u200b' }],
  ];
  for (const [what, claims] of lookalikes) claim('claims.lookalike', what, () => claims, 'policy_denied');

  // --- ref / environment / workflow / event: one condition of a grant broken each -----------
  for (const ref of ['refs/heads/*', 'refs/heads/main/../main', 'refs/tags/main', 'refs/heads/feature', 'refs/pull/1/merge', 'refs/heads/mai?']) {
    claim('claims.grant-conditions', `ref "${ref}" for deploy:canary`, () => ({ ref }), 'policy_denied');
  }
  const prod = { environment: 'production' };
  for (const environment of ['Production', 'production ', 'prod*', '*', 'staging']) {
    claim('claims.grant-conditions', `environment "${environment}" for deploy:prod`, () => ({ environment }), 'policy_denied', PROD);
  }
  claim(
    'claims.grant-conditions',
    'deploy:prod from a workflow on another branch',
    () => ({ ...prod, job_workflow_ref: 'acme/webapp/.github/workflows/deploy.yml@refs/heads/feature' }),
    'policy_denied',
    PROD,
  );
  claim('claims.grant-conditions', 'deploy:prod with a glob job_workflow_ref', () => ({ ...prod, job_workflow_ref: 'acme/webapp/.github/workflows/*.yml@refs/heads/main' }), 'policy_denied', PROD);
  claim(
    'claims.grant-conditions',
    "deploy:prod from another repository's reusable workflow",
    () => ({ ...prod, job_workflow_ref: 'acme/other/.github/workflows/deploy.yml@refs/heads/main' }),
    'policy_denied',
    PROD,
  );
  claim('claims.grant-conditions', 'deploy:prod from acme/webapp2 with the right workflow', () => ({ ...prod, repository: 'acme/webapp2', job_workflow_ref: PROD_WORKFLOW }), 'policy_denied', PROD);
  claim('claims.grant-conditions', 'pull_request_target event for deploy:canary', () => ({ event_name: 'pull_request_target' }), 'policy_denied');
  claim('claims.grant-conditions', 'pull_request_target event for deploy:prod', () => ({ ...prod, event_name: 'pull_request_target' }), 'policy_denied', PROD);

  // --- request: ttl -----------------------------------------------------------------------
  const ttls: Array<[string, string | Record<string, unknown>, ProblemCode]> = [
    ['negative', { scopes: ['deploy:canary'], ttl: -1 }, 'invalid_request'],
    ['zero', { scopes: ['deploy:canary'], ttl: 0 }, 'invalid_request'],
    ['-0', '{"scopes":["deploy:canary"],"ttl":-0}', 'invalid_request'],
    ['1e300', '{"scopes":["deploy:canary"],"ttl":1e300}', 'invalid_request'],
    ['1e400 (Infinity)', '{"scopes":["deploy:canary"],"ttl":1e400}', 'invalid_request'],
    ['2^63', '{"scopes":["deploy:canary"],"ttl":9223372036854775808}', 'invalid_request'],
    ['a float', { scopes: ['deploy:canary'], ttl: 900.5 }, 'invalid_request'],
    ['a string', { scopes: ['deploy:canary'], ttl: '900' }, 'invalid_request'],
    ['null', { scopes: ['deploy:canary'], ttl: null }, 'invalid_request'],
    ['true', { scopes: ['deploy:canary'], ttl: true }, 'invalid_request'],
    ['an array', { scopes: ['deploy:canary'], ttl: [900] }, 'invalid_request'],
    ['an object', { scopes: ['deploy:canary'], ttl: {} }, 'invalid_request'],
    ['above the schema cap (86401)', { scopes: ['deploy:canary'], ttl: 86_401 }, 'invalid_request'],
    ['a day (policy max 3600)', { scopes: ['deploy:canary'], ttl: 86_400 }, 'policy_denied'],
    ['3601 (policy max 3600)', { scopes: ['deploy:canary'], ttl: 3601 }, 'policy_denied'],
    ['1801 (grant max_ttl 1800)', { scopes: ['deploy:canary'], ttl: 1801 }, 'policy_denied'],
    ['1801 for two scopes of a grant with max_ttl 1800', { scopes: ['read:logs', 'deploy:canary'], ttl: 1801 }, 'policy_denied'],
  ];
  for (const [what, body, code] of ttls) cases.push(bodyCase('request.ttl', `ttl ${what}`, body, code));

  // --- request: scopes --------------------------------------------------------------------
  const scopes: Array<[string, unknown, ProblemCode]> = [
    ['trailing space', ['deploy:canary '], 'invalid_request'],
    ['leading space', [' deploy:canary'], 'invalid_request'],
    ['tab', ['deploy:canary\t'], 'invalid_request'],
    ['newline', ['deploy:canary\n'], 'invalid_request'],
    ['two scopes in one string', ['deploy:canary deploy:prod'], 'invalid_request'],
    ['no-break space', ['deploy:canary\u00a0'], 'invalid_request'],
    ['Cyrillic ԁ look-alike', ['\u0501eploy:canary'], 'invalid_request'],
    ['fullwidth colon', ['deploy\uff1acanary'], 'invalid_request'],
    ['NUL', ['deploy:canary\u0000'], 'invalid_request'],
    ['double quote', ['deploy:canary"'], 'invalid_request'],
    ['backslash', ['deploy:canary\\'], 'invalid_request'],
    ['empty string', [''], 'invalid_request'],
    ['duplicates', ['deploy:canary', 'deploy:canary'], 'invalid_request'],
    ['empty list', [], 'invalid_request'],
    ['33 scopes', Array.from({ length: 33 }, (_, i) => `s:${i}`), 'invalid_request'],
    ['129 characters', ['d'.repeat(129)], 'invalid_request'],
    ['a string, not a list', 'deploy:canary', 'invalid_request'],
    ['null', null, 'invalid_request'],
    ['nested list', [['deploy:canary']], 'invalid_request'],
    ['a number', [1], 'invalid_request'],
    ['wildcard *', ['*'], 'policy_denied'],
    ['wildcard deploy:*', ['deploy:*'], 'policy_denied'],
    ['glob deploy:canar?', ['deploy:canar?'], 'policy_denied'],
    ['glob [d]eploy:canary', ['[d]eploy:canary'], 'policy_denied'],
    ['escalation deploy:prod', ['deploy:prod'], 'policy_denied'],
    ['escalation alongside a granted scope', ['deploy:canary', 'deploy:prod'], 'policy_denied'],
    ['case variant Deploy:canary', ['Deploy:canary'], 'policy_denied'],
    ['undefined scope write:staging', ['write:staging'], 'policy_denied'],
    ['percent-encoded deploy%3Acanary', ['deploy%3Acanary'], 'policy_denied'],
  ];
  for (const [what, value, code] of scopes) cases.push(bodyCase('request.scopes', `scopes: ${what}`, { scopes: value }, code));

  // --- request: audience --------------------------------------------------------------------
  const audiencesReq: Array<[string, unknown, ProblemCode]> = [
    ['trailing slash', 'https://deploy.example/', 'policy_denied'],
    ['upper case host', 'https://DEPLOY.example', 'policy_denied'],
    ['suffix domain', 'https://deploy.example.evil.com', 'policy_denied'],
    ['userinfo trick', 'https://deploy.example@evil.com', 'policy_denied'],
    ['NUL suffix', 'https://deploy.example\u0000', 'policy_denied'],
    ['wildcard', '*', 'policy_denied'],
    ['empty', '', 'invalid_request'],
    ['an array', ['https://deploy.example'], 'invalid_request'],
    ['null', null, 'invalid_request'],
    ['2049 characters', `https://deploy.example/${'a'.repeat(2030)}`, 'invalid_request'],
  ];
  for (const [what, audience, code] of audiencesReq) cases.push(bodyCase('request.audience', `audience ${what}`, { scopes: ['deploy:canary'], audience }, code));

  // --- request: malformed JSON --------------------------------------------------------------
  const malformed: Array<[string, string, ProblemCode]> = [
    ['truncated', '{"scopes":[', 'invalid_request'],
    ['trailing garbage', '{"scopes":["deploy:canary"]}x', 'invalid_request'],
    ['single quotes', "{'scopes':['deploy:canary']}", 'invalid_request'],
    ['NaN', '{"scopes":["deploy:canary"],"ttl":NaN}', 'invalid_request'],
    ['comment', '{"scopes":["deploy:canary"]/* c */}', 'invalid_request'],
    ['trailing comma', '{"scopes":["deploy:canary"],}', 'invalid_request'],
    ['__proto__ pollution', '{"scopes":["deploy:canary"],"__proto__":{"ttl":99999,"allow":true}}', 'invalid_request'],
    ['constructor.prototype pollution', '{"scopes":["deploy:canary"],"constructor":{"prototype":{"allow":true}}}', 'invalid_request'],
    ['duplicate "scopes" (granted, then escalated)', '{"scopes":["deploy:canary"],"scopes":["deploy:prod"]}', 'policy_denied'],
    ['null', 'null', 'invalid_request'],
    ['an array', '[{"scopes":["deploy:canary"]}]', 'invalid_request'],
    ['a string', '"deploy:canary"', 'invalid_request'],
    ['a number', '123', 'invalid_request'],
    ['empty body', '', 'invalid_request'],
    ['4000 nested arrays', '['.repeat(4000) + ']'.repeat(4000), 'invalid_request'],
    ['nested arrays inside scopes', `{"scopes":${'['.repeat(3000)}"deploy:canary"${']'.repeat(3000)}}`, 'invalid_request'],
    ['nested objects in an extra field', `{"scopes":["deploy:canary"],"x":${'{"a":'.repeat(1500)}1${'}'.repeat(1500)}}`, 'invalid_request'],
    ['UTF-16 encoded', Buffer.from('{"scopes":["deploy:canary"]}', 'utf16le') as never, 'invalid_request'],
    ['lone surrogate escape in a scope', '{"scopes":["deploy:canary\\ud800"]}', 'invalid_request'],
    ['extra field', '{"scopes":["deploy:canary"],"allow":true}', 'invalid_request'],
  ];
  for (const [what, body, code] of malformed) cases.push(bodyCase('request.malformed-json', what, body, code));

  return cases;
}
