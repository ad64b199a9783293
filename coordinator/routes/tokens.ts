// Revocation (bearer = the minted token) and RFC 7662 introspection of minted tokens (bearer = an
// introspection token: introspection-auth.ts).
import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { sendProblem } from '../../http/problem-response.js';
import type { RouteContext } from '../context.js';
import { requireIntrospectionToken } from '../introspection-auth.js';
import { checkMinted } from '../minted-token.js';

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

export function tokenRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/revoke', async (request, reply) => {
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (!token) return sendProblem(reply, 'invalid_token', 'send the minted token as "Authorization: Bearer <token>"');
    const checked = await checkMinted(token, (kid) => ctx.keys.byKid(kid, Math.floor(ctx.now() / 1000))?.publicKey, ctx.issuer(), ctx.now());
    if (checked.status === 'invalid') return sendProblem(reply, 'invalid_token', 'not a token minted by this coordinator');
    // An expired token is inactive already; revoking it again is harmless.
    if (checked.status === 'valid' && (await ctx.revocations.add(checked.claims.jti, checked.claims.exp))) {
      await ctx.appendAudit({
        event: 'revoke',
        jti: checked.claims.jti,
        exp: checked.claims.exp,
        repository: checked.claims.repository,
        token_sha256: createHash('sha256').update(token).digest('hex'),
      });
    }
    return reply.code(204).send();
  });

  app.post<{ Body: { token?: unknown } }>(
    '/v1/introspect',
    {
      schema: { body: INTROSPECT_BODY },
      // Before the body is read: an unauthenticated caller learns nothing, not even schema errors.
      onRequest: requireIntrospectionToken(() => ctx.introspectionTokens ?? []),
    },
    async (request) => introspect(ctx, request.body.token as string),
  );
}

/** RFC 7662: active only if we minted it, it is within its lifetime, and no revocation (jti or rule) covers it. */
export async function introspect(ctx: Pick<RouteContext, 'keys' | 'issuer' | 'now' | 'revocations'>, token: string): Promise<Record<string, unknown>> {
  const checked = await checkMinted(token, (kid) => ctx.keys.byKid(kid, Math.floor(ctx.now() / 1000))?.publicKey, ctx.issuer(), ctx.now());
  if (checked.status !== 'valid' || ctx.revocations.covers(checked.claims)) return { active: false };
  return { active: true, token_type: 'Bearer', ...checked.claims };
}

/** The introspection request body (form or JSON), shared with the admin listener's route. */
export const INTROSPECT_BODY = {
  type: 'object',
  required: ['token'],
  properties: { token: { type: 'string', maxLength: 16_384 }, token_type_hint: { type: 'string', maxLength: 64 } },
} as const;
