// POST /v1/mint: OIDC check → rate limit → policy → FROST quorum → node:crypto check → durable
// audit → token. Every outcome past input validation is audited, allowed or denied (I1, I6).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomBytes } from 'node:crypto';
import { b64url } from '../../protocol/encoding.js';
import { sendProblem } from '../../http/problem-response.js';
import { ProblemError } from '../../protocol/problem.js';
import { buildToken, signingInput } from '../../protocol/token.js';
import type { MintRequest } from '../../protocol/wire.js';
import type { AuditEntry } from '../audit.js';
import type { RouteContext } from '../context.js';
import { oidcFailureReason } from '../metrics.js';
import { tracedHandler } from '../../tracing/fastify.js';
import { inSpan, inSpanSync } from '../../tracing/spans.js';
import openapi from '../openapi.json' with { type: 'json' };
import { frostSign } from '../signing.js';
import { wellFormedPolicyInput } from '../../policy-engine/well-formed.js';

// The request schema is the OpenAPI document's, so the published contract and validation agree.
const mintSchema = openapi.components.schemas.MintRequest;

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

export function mintRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // JSON only: other media types (Fastify also parses text and forms) are 415, not a schema error.
  const jsonOnly = async (request: FastifyRequest, reply: FastifyReply) => {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') return sendProblem(reply, 'unsupported_media_type', 'send Content-Type: application/json');
  };
  app.post<{ Body: MintRequest }>(
    '/v1/mint',
    { schema: { body: mintSchema }, preValidation: jsonOnly },
    tracedHandler('ztmint.mint', async (request, reply) => {
      const timer = ctx.metrics.mintSeconds.startTimer();
      let req = request.body;
      const policy = ctx.policy.current; // this request's policy, even if a reload happens meanwhile
      const base = { request: { scopes: req.scopes, ttl: req.ttl, audience: req.audience }, policy: policy.revision };
      const finish = (outcome: string) => {
        ctx.metrics.mints.inc({ outcome });
        timer();
      };
      const deny = async (err: ProblemError, extra: Omit<AuditEntry, 'event'> = {}) => {
        await ctx.appendAudit({ event: 'deny', ...base, ...extra, code: err.code, reasons: err.reasons ?? [err.message] });
        finish(err.code);
        if (err.retryAfter) reply.header('retry-after', String(err.retryAfter));
        return sendProblem(reply, err.code, err.message, err.reasons);
      };

      const oidcToken = BEARER.exec(request.headers.authorization ?? '')?.[1];
      if (!oidcToken) {
        ctx.metrics.oidcFailures.inc({ reason: 'missing' });
        return deny(new ProblemError('invalid_token', 'send the GitHub OIDC token as "Authorization: Bearer <token>"'));
      }
      let claims: Record<string, unknown>;
      try {
        claims = await inSpan('ztmint.oidc.verify', {}, () => ctx.oidc.verify(oidcToken));
      } catch (err) {
        if (err instanceof ProblemError) {
          ctx.metrics.oidcFailures.inc({ reason: oidcFailureReason(err.code, err.message) });
          return deny(err);
        }
        throw err;
      }
      // Unpaired surrogates become U+FFFD, as in every signer: policy, token and audit see the same.
      ({ claims, request: req } = wellFormedPolicyInput(claims, req));
      base.request = { scopes: req.scopes, ttl: req.ttl, audience: req.audience };
      // The OIDC exp lets the embedded store rebuild its replay set from the audit log.
      const who = { oidc: { iss: claims.iss, sub: claims.sub, jti: claims.jti, exp: claims.exp }, repository: claims.repository };

      let limited;
      try {
        limited = await ctx.rateLimiter.check(claims, ctx.now());
      } catch (err) {
        if (err instanceof ProblemError) return deny(err, who); // the shared counters are unreachable
        throw err;
      }
      if (limited.retryAfter > 0) {
        ctx.metrics.rateLimitHits.inc({ limit: limited.limit ?? 'unknown' });
        return deny(new ProblemError('rate_limited', `too many mints for this ${limited.limit}; retry in ${limited.retryAfter} s`, { retryAfter: limited.retryAfter }), who);
      }

      const decision = inSpanSync('ztmint.policy.evaluate', { 'ztmint.policy': policy.revision }, () => policy.evaluate(claims, req));
      if (!decision.allow) return deny(new ProblemError('policy_denied', 'the policy does not allow this request', { reasons: decision.reasons }), who);

      const granted = { scopes: decision.scopes, ttl: decision.ttl, audience: decision.audience };
      // The key active now signs; a rotation switches the kid at its activation time (docs/keys.md).
      // While its shares change (keys refresh/repair/reshare) the key is held at the gate: the run
      // starts once every signer has switched, with the new key set (coordinator/signing-gate.ts).
      ctx.keys.refresh();
      const leave = await ctx.signingGate.enter(ctx.keys.signing(Math.floor(ctx.now() / 1000)).kid);
      ctx.keys.refresh();
      const key = ctx.keys.signing(Math.floor(ctx.now() / 1000));
      const build = () => {
        const { header, claims: tokenClaims } = buildToken({
          issuer: ctx.issuer(),
          kid: key.kid,
          oidcClaims: claims,
          decision,
          policyHash: policy.revision,
          now: Math.floor(ctx.now() / 1000),
          jti: b64url(randomBytes(16)),
        });
        return { message: signingInput(header, tokenClaims), built: tokenClaims };
      };
      let signed;
      try {
        signed = await inSpan('ztmint.frost.sign', {}, async () =>
          frostSign(
            {
              group: key.group,
              groupKey: key.publicKey,
              signers: await ctx.usableSigners(),
              log: (e, m) => request.log.warn(e, m),
              onFailure: (signer, reason) => ctx.metrics.signerFailure(signer, reason),
            },
            build,
            { oidc_token: oidcToken, request: req },
          ),
        );
      } catch (err) {
        if (err instanceof ProblemError) return deny(err, { ...who, granted });
        throw err;
      } finally {
        leave();
      }
      const tokenClaims = signed.built;
      const jti = tokenClaims.jti;
      const token = `${signed.message}.${b64url(signed.signature)}`;
      const index = await ctx.appendAudit({
        event: 'mint',
        ...base,
        ...who,
        granted,
        jti,
        exp: tokenClaims.exp,
        signers: signed.signers,
        ...(signed.excluded.length ? { excluded: signed.excluded, culprits: signed.culprits } : {}),
        token_sha256: createHash('sha256').update(token).digest('hex'),
      });
      // The answer waits for a quorum-signed checkpoint covering the record (batched with other
      // mints). Should no checkpoint be signed, the token still goes out, without the proof.
      let transparency;
      try {
        transparency = await inSpan('ztmint.tlog.prove', {}, async () => ctx.transparency?.prove(index));
      } catch (err) {
        request.log.warn({ index, error: (err as Error).message }, 'no checkpoint covers the mint record; answered without a transparency proof');
      }
      finish('granted');
      return {
        token,
        token_type: 'Bearer',
        expires_at: new Date(tokenClaims.exp * 1000).toISOString(),
        expires_in: decision.ttl,
        jti,
        scopes: decision.scopes,
        audience: decision.audience,
        audit: { index },
        ...(transparency ? { transparency } : {}),
      };
    }),
  );
}
