// Public, read-only endpoints: JWKS, discovery, health, readiness, metrics.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';
import openapi from '../openapi.json' with { type: 'json' };
import { logOrigin } from '../../transparency/log-origin.js';
import { TLOG_PREFIX } from './tlog.js';

export function discoveryRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/.well-known/jwks.json', async () => ({ keys: [ctx.jwk] }));
  app.get('/.well-known/openid-configuration', async () => {
    const issuer = ctx.issuer();
    return {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['EdDSA'],
      token_endpoint: `${issuer}/v1/mint`,
      introspection_endpoint: `${issuer}/v1/introspect`,
      revocation_endpoint: `${issuer}/v1/revoke`,
      // The transparency log: C2SP tlog-tiles base URL, checkpoint origin and note verifier key.
      ...(ctx.transparency ? { transparency_log: { url: `${issuer}${TLOG_PREFIX}/`, origin: logOrigin(issuer), verifier_key: ctx.transparency.checkpointer.verifierKey() } } : {}),
    };
  });
  app.get('/openapi.json', async () => ({ ...openapi, servers: [{ url: ctx.issuer() }] }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const probes = await Promise.allSettled((await ctx.usableSigners()).map((s) => s.info()));
    const reachable = probes.filter((p) => p.status === 'fulfilled').length;
    const body = {
      ready: reachable >= ctx.group.threshold,
      policy: ctx.policy.current.hash,
      signers_reachable: reachable,
      threshold: ctx.group.threshold,
    };
    return reply.code(body.ready ? 200 : 503).send(body);
  });
  app.get('/metrics', async (_request, reply) => reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()));
}
