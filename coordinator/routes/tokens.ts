// Revocation (bearer = the minted token) and RFC 7662 introspection of minted tokens.
import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { sendProblem } from '../../http/problem-response.js';
import type { RouteContext } from '../context.js';
import { checkMinted } from '../minted-token.js';

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

export function tokenRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/revoke', async (request, reply) => {
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (!token) return sendProblem(reply, 'invalid_token', 'send the minted token as "Authorization: Bearer <token>"');
    const checked = await checkMinted(token, ctx.groupKey, ctx.issuer(), ctx.now());
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
      schema: {
        body: {
          type: 'object',
          required: ['token'],
          properties: { token: { type: 'string', maxLength: 16_384 }, token_type_hint: { type: 'string', maxLength: 64 } },
        },
      },
    },
    async (request) => {
      const token = request.body.token as string;
      const checked = await checkMinted(token, ctx.groupKey, ctx.issuer(), ctx.now());
      if (checked.status !== 'valid' || ctx.revocations.has(checked.claims.jti)) return { active: false };
      return { active: true, token_type: 'Bearer', ...checked.claims };
    },
  );
}
