// Public, read-only endpoints: JWKS, discovery, health, readiness, metrics.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';
import { signerDisagreements } from '../signer-agreement.js';
import openapi from '../openapi.json' with { type: 'json' };
import { logOrigin } from '../../transparency/log-origin.js';
import { TLOG_PREFIX } from './tlog.js';

export function discoveryRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // Every published key: the next one before it signs anything, the previous one until its tokens expired.
  app.get('/.well-known/jwks.json', async () => {
    ctx.keys.refresh();
    return { keys: ctx.keys.published(Math.floor(ctx.now() / 1000)).map((k) => k.jwk) };
  });
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
  // Ready when t usable signers answer AND agree with this coordinator's configuration: a signer
  // that disagrees (group key, policy revision, issuer, trusted OIDC issuers) refuses every mint.
  app.get('/readyz', async (_request, reply) => {
    // The key signing now (docs/keys.md): after a rotation's activation the signers report it too.
    const signingGroup = ctx.keys.signing(Math.floor(ctx.now() / 1000)).group;
    const usable = await ctx.usableSigners();
    const expected = {
      groupPublicKey: signingGroup.group_public_key,
      policyRevision: ctx.policy.current.revision,
      tokenIssuer: ctx.issuer(),
      oidcIssuers: ctx.oidc.trustedIssuers(),
    };
    const [probes, store] = await Promise.all([Promise.allSettled(usable.map((s) => s.info())), ctx.storeHealth?.()]);
    const signers = probes.map((probe, i) => {
      const name = usable[i]!.name;
      if (probe.status === 'rejected') return { name, reachable: false, agrees: false, disagreements: [], error: (probe.reason as Error).message };
      const disagreements = signerDisagreements(probe.value, expected);
      // A share-less signer (lost share, joiner, left out by a reshare) agrees on everything but signs nothing.
      const shareless = probe.value.key_share && probe.value.key_share.state !== 'held' ? { share: probe.value.key_share.state } : undefined;
      return { name, reachable: true, agrees: disagreements.length === 0 && !shareless, disagreements, ...shareless };
    });
    const agreeing = signers.filter((s) => s.agrees).length;
    const body = {
      ready: agreeing >= signingGroup.threshold,
      policy: ctx.policy.current.revision,
      policy_revisions: ctx.policy.acceptedRevisions(),
      signers_reachable: signers.filter((s) => s.reachable).length,
      signers_agreeing: agreeing,
      threshold: signingGroup.threshold,
      disagreeing: signers.flatMap((s) => s.disagreements.map((d) => ({ signer: s.name, ...d }))),
      signers,
      ...(store ? { store } : {}),
      warnings: ctx.insecure ?? [],
    };
    return reply.code(body.ready ? 200 : 503).send(body);
  });
  app.get('/metrics', async (_request, reply) => reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()));
}
