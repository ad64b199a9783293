// A local OIDC issuer that behaves like GitHub Actions' (token.actions.githubusercontent.com):
// discovery, JWKS, RS256 ID tokens with a push workflow's claims, and the runner's ID-token
// request endpoint (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN), so the real action can run against it.
import Fastify from 'fastify';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { STRICT_AJV, installProblemHandlers, sendProblem } from '../http/problem-response.js';

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

export function demoClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
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

export async function startDevIssuer(opts: { host?: string; port?: number; audience: () => string }): Promise<DevIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const requestToken = randomBytes(24).toString('base64url');
  let url = '';

  const issue = async (overrides: Record<string, unknown> = {}) => {
    const nowS = Math.floor(Date.now() / 1000);
    const { iat, nbf, exp, aud, iss, ...claims } = demoClaims(overrides);
    // `null` removes a claim (tests of missing claims); `iss` may be overridden (tests of issuer pinning).
    for (const [name, value] of Object.entries(claims)) if (value === null) delete claims[name];
    return new SignJWT({ ...claims, iss: (iss as string | undefined) ?? url, aud: (aud as string | string[] | undefined) ?? opts.audience() })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuedAt((iat as number | undefined) ?? nowS)
      .setNotBefore((nbf as number | undefined) ?? nowS - 300)
      .setExpirationTime((exp as number | undefined) ?? nowS + 300)
      .sign(privateKey);
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
  app.post<{ Body: Record<string, unknown> | undefined }>('/token', async (request) => ({
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
