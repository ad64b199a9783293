// A local OIDC issuer that behaves like GitHub Actions' (token.actions.githubusercontent.com):
// discovery, JWKS, RS256 ID tokens with a push workflow's claims, and the runner's ID-token
// request endpoint (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN), so the real action can run against it.
import Fastify from 'fastify';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { STRICT_AJV, installProblemHandlers, sendProblem } from '../http/problem-response.js';
import { ProblemError } from '../protocol/problem.js';

export interface DevIssuer {
  url: string;
  requestUrl: string;
  requestToken: string;
  /** Mints an ID token with the demo claims, overridden by `claims`. */
  issue(claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

const SHA = 'd6fde92930d4715a2b49857d24b940956b26d2d3';

/** GitHub's `sub` for a workflow run: environment wins over ref, as on github.com. */
function subjectFor(claims: Record<string, unknown>): string {
  const repo = `repo:${String(claims.repository)}`;
  if (typeof claims.environment === 'string' && claims.environment) return `${repo}:environment:${claims.environment}`;
  if (claims.event_name === 'pull_request') return `${repo}:pull_request`;
  return `${repo}:ref:${String(claims.ref)}`;
}

function demoClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const repository = typeof overrides.repository === 'string' ? overrides.repository : 'acme/webapp';
  const ref = typeof overrides.ref === 'string' ? overrides.ref : 'refs/heads/main';
  const workflow = `${repository}/.github/workflows/deploy.yml@${ref}`;
  const claims: Record<string, unknown> = {
    jti: randomUUID(),
    ref,
    sha: SHA,
    repository,
    repository_owner: repository.split('/')[0],
    repository_owner_id: '1000001',
    repository_id: '2000002',
    repository_visibility: 'private',
    run_id: String(3_000_000_000 + Math.floor(Math.random() * 1e6)),
    run_number: '42',
    run_attempt: '1',
    actor: 'octocat',
    actor_id: '583231',
    workflow: 'deploy',
    workflow_ref: workflow,
    workflow_sha: SHA,
    job_workflow_ref: workflow,
    job_workflow_sha: SHA,
    head_ref: '',
    base_ref: '',
    event_name: 'push',
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    ref_protected: 'true',
    runner_environment: 'github-hosted',
    ...overrides,
  };
  if (overrides.sub === undefined) claims.sub = subjectFor(claims);
  return claims;
}

/** Deeper than this, an override is refused: JSON.stringify recurses and would overflow the stack. */
export const MAX_OVERRIDE_DEPTH = 64;

/** Why JSON cannot carry these overrides once parsed, or undefined when it can. */
function unsignable(value: unknown, depth = 0): string | undefined {
  if (typeof value === 'number' && !Number.isFinite(value)) return 'claim overrides hold a number beyond the range of a double';
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_OVERRIDE_DEPTH) return `claim overrides nest deeper than ${MAX_OVERRIDE_DEPTH} levels`;
  for (const child of Object.values(value)) {
    const why = unsignable(child, depth + 1);
    if (why) return why;
  }
  return undefined;
}

/**
 * The claims of an ID token: the demo claims, then the overrides verbatim, whatever their JSON
 * type (`"exp": "never"`, `"aud": {}`, numbers as strings...). `null` removes a claim, including
 * the registered ones (`iss`, `aud`, `iat`, `nbf`, `exp`); an absent one gets its default.
 * Throws ProblemError(invalid_request) for what JSON cannot carry.
 */
function idTokenClaims(overrides: Record<string, unknown>, defaults: Record<string, unknown>): Record<string, unknown> {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new ProblemError('invalid_request', 'claim overrides must be a JSON object');
  }
  const why = unsignable(overrides);
  if (why) throw new ProblemError('invalid_request', why);
  const claims: Record<string, unknown> = { ...defaults, ...demoClaims(overrides) };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (value === null) delete claims[name];
    else claims[name] = value;
  }
  return claims;
}

/** Signs the claims as they are: no jose time helpers, which refuse non-numeric times. */
async function signClaims(claims: Record<string, unknown>, privateKey: CryptoKey, kid: string): Promise<string> {
  let token: string;
  try {
    token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey);
  } catch (err) {
    throw new ProblemError('invalid_request', `these claims cannot be signed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return token;
}

export async function startDevIssuer(opts: { host?: string; port?: number; audience: () => string }): Promise<DevIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const requestToken = randomBytes(24).toString('base64url');
  let url = '';

  const issue = async (overrides: Record<string, unknown> = {}) => {
    const nowS = Math.floor(Date.now() / 1000);
    const defaults = { iss: url, aud: opts.audience(), iat: nowS, nbf: nowS - 300, exp: nowS + 300 };
    return signClaims(idTokenClaims(overrides, defaults), privateKey, kid);
  };

  const app = Fastify({ logger: false, ajv: STRICT_AJV, bodyLimit: 64 * 1024 });
  installProblemHandlers(app);
  app.get('/.well-known/openid-configuration', async () => ({
    issuer: url,
    jwks_uri: `${url}/.well-known/jwks`,
    subject_types_supported: ['public', 'pairwise'],
    response_types_supported: ['id_token'],
    claims_supported: Object.keys(demoClaims()).concat(['aud', 'exp', 'iat', 'iss', 'nbf', 'environment']),
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid'],
  }));
  app.get('/.well-known/jwks', async () => ({ keys: [jwk] }));
  // Any JSON object of overrides is signed as given (this is a tool for making bad tokens);
  // anything that cannot be is a 400 with the reason, never a 500.
  app.post<{ Body: Record<string, unknown> | undefined }>('/token', { schema: { body: { type: 'object' } } }, async (request) => ({
    value: await issue(request.body ?? {}),
  }));
  // The runner's endpoint: GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=X with the request token.
  app.get<{ Querystring: { audience?: string } }>('/id-token', async (request, reply) => {
    const given = Buffer.from(/^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '');
    const expected = Buffer.from(requestToken);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return sendProblem(reply, 'invalid_token', 'bad ACTIONS_ID_TOKEN_REQUEST_TOKEN');
    }
    const audience = request.query.audience;
    return { value: await issue(audience ? { aud: audience } : {}) };
  });

  const host = opts.host ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 0 });
  const address = app.server.address();
  // The address it listens on (a namespace's address in test/netns-isolation.e2e.test.ts).
  url = `http://${host.includes(':') ? `[${host}]` : host}:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    url,
    requestUrl: `${url}/id-token?api-version=2.0`,
    requestToken,
    issue,
    close: () => app.close(),
  };
}
