// The mint service: OIDC check → policy → FROST quorum → node:crypto check → durable audit → token.
import Fastify, { type FastifyInstance } from 'fastify';
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import type { GroupInfo } from '../protocol/ciphersuite.js';
import { b64url } from '../protocol/encoding.js';
import { STRICT_AJV, installProblemHandlers, sendProblem } from '../protocol/http-problem.js';
import { ed25519PublicKey, groupJwk } from '../protocol/jwk.js';
import { ProblemError } from '../protocol/problem.js';
import { buildToken, signingInput } from '../protocol/token.js';
import type { MintRequest } from '../protocol/wire.js';
import type { AuditEntry, AuditLog } from './audit.js';
import type { Metrics } from './metrics.js';
import type { OidcVerifier } from './oidc.js';
import type { LoadedPolicy } from './policy.js';
import type { SignerClient } from './signer-client.js';
import { frostSign } from './signing.js';

export interface CoordinatorDeps {
  /** This coordinator's issuer URL (the `iss` of minted tokens), known once it listens. */
  issuer: () => string;
  group: GroupInfo;
  oidc: OidcVerifier;
  policy: LoadedPolicy;
  signers: SignerClient[];
  audit: AuditLog;
  metrics: Metrics;
  logger?: boolean | object;
  now?: () => number;
}

const SCOPE_TOKEN = '^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,128}$'; // RFC 6749 §3.3 scope-token
const mintSchema = {
  type: 'object',
  required: ['scopes'],
  additionalProperties: false,
  properties: {
    scopes: { type: 'array', minItems: 1, maxItems: 32, uniqueItems: true, items: { type: 'string', pattern: SCOPE_TOKEN } },
    ttl: { type: 'integer', minimum: 1, maximum: 86_400 },
    audience: { type: 'string', minLength: 1, maxLength: 2048 },
  },
} as const;

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header ?? '');
  return match?.[1];
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export async function buildCoordinatorServer(deps: CoordinatorDeps): Promise<FastifyInstance> {
  const now = deps.now ?? (() => Date.now());
  const jwk = groupJwk(deps.group.group_public_key);
  const groupKey: KeyObject = ed25519PublicKey(deps.group.group_public_key);
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: 16 * 1024,
    ajv: STRICT_AJV,
  });
  installProblemHandlers(app);

  const audit = async (entry: AuditEntry): Promise<number> => {
    try {
      return await deps.audit.append(entry);
    } catch (err) {
      app.log.error({ err: { code: (err as NodeJS.ErrnoException).code } }, 'audit append failed');
      throw new ProblemError('audit_unavailable', 'the audit log cannot be written; no token was issued');
    }
  };

  app.get('/.well-known/jwks.json', async () => ({ keys: [jwk] }));
  app.get('/.well-known/openid-configuration', async () => ({
    issuer: deps.issuer(),
    jwks_uri: `${deps.issuer()}/.well-known/jwks.json`,
    id_token_signing_alg_values_supported: ['EdDSA'],
    introspection_endpoint: `${deps.issuer()}/v1/introspect`,
    revocation_endpoint: `${deps.issuer()}/v1/revoke`,
  }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const probes = await Promise.allSettled(deps.signers.map((s) => s.info()));
    const reachable = probes.filter((p) => p.status === 'fulfilled').length;
    const body = { ready: reachable >= deps.group.threshold, policy: deps.policy.hash, signers_reachable: reachable, threshold: deps.group.threshold };
    return reply.code(body.ready ? 200 : 503).send(body);
  });
  app.get('/metrics', async (_request, reply) => reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()));

  app.post<{ Body: MintRequest }>('/v1/mint', { schema: { body: mintSchema } }, async (request, reply) => {
    const timer = deps.metrics.mintSeconds.startTimer();
    const req = request.body;
    const base: Omit<AuditEntry, 'event'> = {
      request: { scopes: req.scopes, ttl: req.ttl, audience: req.audience },
      policy: deps.policy.hash,
    };
    const deny = async (err: ProblemError, extra: Record<string, unknown> = {}) => {
      await audit({ event: 'deny', ...base, ...extra, code: err.code, reasons: err.reasons ?? [err.message] });
      deps.metrics.mints.inc({ outcome: err.code });
      timer();
      return sendProblem(reply, err.code, err.message, err.reasons);
    };

    const oidcToken = bearer(request.headers.authorization);
    if (!oidcToken) {
      return deny(new ProblemError('invalid_token', 'send the GitHub OIDC token as "Authorization: Bearer <token>"'));
    }
    let claims: Record<string, unknown>;
    try {
      claims = await deps.oidc.verify(oidcToken);
    } catch (err) {
      if (err instanceof ProblemError) return deny(err);
      throw err;
    }
    const who = { oidc: { iss: claims.iss, sub: claims.sub, jti: claims.jti }, repository: claims.repository };

    const decision = deps.policy.evaluate(claims, req);
    if (!decision.allow) {
      return deny(new ProblemError('policy_denied', 'the policy does not allow this request', decision.reasons), who);
    }

    const nowS = Math.floor(now() / 1000);
    const jti = b64url(randomBytes(16));
    const { header, claims: tokenClaims } = buildToken({
      issuer: deps.issuer(),
      kid: jwk.kid,
      oidcClaims: claims,
      decision,
      policyHash: deps.policy.hash,
      now: nowS,
      jti,
    });
    const message = signingInput(header, tokenClaims);
    const granted = { scopes: decision.scopes, ttl: decision.ttl, audience: decision.audience };
    let signed;
    try {
      signed = await frostSign(
        { group: deps.group, groupKey, signers: deps.signers, log: (e, m) => request.log.warn(e, m) },
        message,
        { oidc_token: oidcToken, request: req },
      );
    } catch (err) {
      if (err instanceof ProblemError) return deny(err, { ...who, granted });
      throw err;
    }
    const token = `${message}.${b64url(signed.signature)}`;
    const index = await audit({
      event: 'mint',
      ...base,
      ...who,
      granted,
      jti,
      signers: signed.signers,
      token_sha256: sha256Hex(token),
    });
    deps.metrics.mints.inc({ outcome: 'granted' });
    timer();
    return {
      token,
      token_type: 'Bearer',
      expires_at: new Date(tokenClaims.exp * 1000).toISOString(),
      expires_in: decision.ttl,
      jti,
      scopes: decision.scopes,
      audience: decision.audience,
      audit: { index },
    };
  });

  return app;
}
