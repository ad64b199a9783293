// The admin API's routes (docs/admin.md): revoke by jti, by repository or everything issued
// before a time (RFC 7009 semantics: an unknown or expired jti is not an error); read, search and
// follow the audit log; introspect. Every revocation is audited before the answer.
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../protocol/problem.js';
import type { AuditRecord } from '../audit.js';
import type { RouteContext } from '../context.js';
import { MAX_TOKEN_TTL_S, type RevocationRule } from '../revocation-rules.js';
import { INTROSPECT_BODY, introspect } from '../routes/tokens.js';
import { AUDIT_FILTER_KEYS, scanAudit, type AuditFilter } from './audit-query.js';
import type { AdminPermission, AdminPrincipal } from './authorize.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the admin listener's authorize() checks for this route (default `admin`). */
    permission?: AdminPermission;
  }
  interface FastifyRequest {
    /** The caller, set by the admin listener's onRequest hook. */
    principal?: AdminPrincipal;
  }
}

export interface AdminRouteDeps {
  ctx: RouteContext;
  readAudit(from: number, limit: number): Promise<AuditRecord[]>;
  /** How often a waiting tail looks for new records (default 100 ms: well within a second). */
  pollMs?: number;
}

const RFC3339 = { type: 'string', minLength: 10, maxLength: 40, pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$' } as const;
const TEXT = { type: 'string', minLength: 1, maxLength: 512 } as const;
/** Longest wait of one tail request; the CLI asks again. */
const MAX_WAIT_S = 25;
const MAX_LIMIT = 1_000;

interface RevokeBody {
  jti?: string;
  repository?: string;
  before?: string;
  all_before?: string;
}

interface AuditQuery extends AuditFilter {
  from?: string;
  limit?: string;
  wait?: string;
}

/** Seconds since the epoch of an RFC 3339 time that is not in the future. */
function pastSeconds(value: string, name: string, nowMs: number): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new ProblemError('invalid_request', `${name} is not an RFC 3339 time`);
  if (ms > nowMs + 1_000) throw new ProblemError('invalid_request', `${name} is in the future: a rule would make tokens inactive as they are minted; give a time up to now`);
  return Math.ceil(ms / 1000);
}

export function adminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  const { ctx } = deps;
  const pollMs = deps.pollMs ?? 100;

  app.post<{ Body: RevokeBody }>(
    '/admin/v1/revoke',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { jti: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }, repository: TEXT, before: RFC3339, all_before: RFC3339 },
        },
      },
    },
    async (request) => {
      const body = request.body;
      const by = { admin: request.principal?.name };
      const nowMs = ctx.now();
      const kinds = [body.jti !== undefined, body.repository !== undefined, body.all_before !== undefined].filter(Boolean).length;
      if (kinds !== 1 || (body.before !== undefined && body.repository === undefined)) {
        throw new ProblemError('invalid_request', 'give exactly one of {jti}, {repository, before?} or {all_before}');
      }
      if (body.jti !== undefined) {
        // We may not know the token (RFC 7009 §2.2: not an error): keep it as long as any token can live.
        const exp = Math.floor(nowMs / 1000) + MAX_TOKEN_TTL_S;
        const added = await ctx.revocations.add(body.jti, exp);
        const index = await ctx.appendAudit({ event: 'revoke', jti: body.jti, exp, by, new: added });
        return { revoked: { jti: body.jti }, new: added, audit: { index } };
      }
      const rule: RevocationRule =
        body.repository !== undefined
          ? { repository: body.repository, before: body.before !== undefined ? pastSeconds(body.before, 'before', nowMs) : Math.ceil(nowMs / 1000) }
          : { before: pastSeconds(body.all_before!, 'all_before', nowMs) };
      const added = await ctx.revocations.addRule(rule);
      const index = await ctx.appendAudit({ event: 'revoke', rule, ...(rule.repository !== undefined ? { repository: rule.repository } : {}), by, new: added });
      return { revoked: { rule: { ...rule, before: new Date(rule.before * 1000).toISOString() } }, new: added, audit: { index } };
    },
  );

  app.get<{ Querystring: AuditQuery }>(
    '/admin/v1/audit',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            since: RFC3339,
            until: RFC3339,
            event: TEXT,
            repository: TEXT,
            subject: TEXT,
            jti: TEXT,
            code: TEXT,
            // A query string holds text (STRICT_AJV does not coerce): numbers are checked by pattern.
            from: { type: 'string', pattern: '^\\d{1,15}$' },
            limit: { type: 'string', pattern: '^\\d{1,4}$' },
            wait: { type: 'string', pattern: '^\\d{1,2}(\\.\\d{1,3})?$' },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const filter: AuditFilter = {};
      for (const key of AUDIT_FILTER_KEYS) if (q[key] !== undefined) filter[key] = q[key];
      const limit = Number(q.limit ?? 100);
      const wait = Number(q.wait ?? 0);
      if (limit < 1 || limit > MAX_LIMIT || wait > MAX_WAIT_S) throw new ProblemError('invalid_request', `limit is 1…${MAX_LIMIT} and wait at most ${MAX_WAIT_S} s`);
      let page = await scanAudit(deps.readAudit, filter, Number(q.from ?? 0), limit);
      // Long poll (`ztmint audit tail`): answer as soon as a matching record is durable.
      const deadline = Date.now() + wait * 1000;
      let gone = false;
      request.raw.once('close', () => (gone = true));
      while (page.records.length === 0 && Date.now() < deadline && !gone) {
        await new Promise((r) => setTimeout(r, pollMs));
        page = await scanAudit(deps.readAudit, filter, page.next, limit);
      }
      return page;
    },
  );

  // Where the log ends now: `ztmint audit tail` starts here. (A filter no record can match scans to the end.)
  app.get('/admin/v1/audit/head', async () => ({ next: (await scanAudit(deps.readAudit, { event: '' }, 0, 1)).next }));

  app.get<{ Params: { index: string } }>('/admin/v1/audit/:index', async (request) => {
    const index = /^\d{1,15}$/.test(request.params.index) ? Number(request.params.index) : -1;
    if (index < 0) throw new ProblemError('invalid_request', 'the record index is a non-negative integer');
    const [record] = await deps.readAudit(index, 1);
    if (!record || record.index !== index) throw new ProblemError('not_found', `no audit record ${index}`);
    return record;
  });

  // Introspection for resource servers that authenticate with a client certificate (RFC 7662 §2.1).
  app.post<{ Body: { token: string } }>('/v1/introspect', { schema: { body: INTROSPECT_BODY }, config: { permission: 'introspect' } }, async (request) => introspect(ctx, request.body.token));
}
