// The admin listener: HTTPS on its own port, asking every client for a certificate. TLS does not
// refuse a missing or foreign certificate itself (rejectUnauthorized: false) so that the refusal
// is an HTTP answer (401/403 problem+json) AND an audit record; authorize() decides, before any
// route runs or any body is read.
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { STRICT_AJV, clientErrorHandler, installProblemHandlers, sendProblem } from '../../http/problem-response.js';
import { ProblemError } from '../../protocol/problem.js';
import type { RouteContext } from '../context.js';
import { authorize, clientCertificateName, type AdminAccess } from './authorize.js';
import { adminRoutes, type AdminRouteDeps } from './routes.js';

export interface AdminServerDeps extends AdminRouteDeps {
  ctx: RouteContext;
  access: AdminAccess;
  /** The listener's certificate and key, and the CA client certificates must chain to. */
  tls: { cert: string; key: string; ca: string };
  logger?: boolean | object;
}

export async function buildAdminServer(deps: AdminServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: 16 * 1024,
    ajv: STRICT_AJV,
    clientErrorHandler,
    https: { ...deps.tls, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' as const },
  }) as unknown as FastifyInstance;
  installProblemHandlers(app);
  app.addHook('onRequest', async (request, reply) => {
    try {
      request.principal = authorize(request, request.routeOptions.config?.permission ?? 'admin', deps.access);
    } catch (err) {
      if (!(err instanceof ProblemError)) throw err;
      // Audited before the answer: who knocked (the CN, never the certificate), where, and why not.
      const name = clientCertificateName(request);
      await deps.ctx.appendAudit({
        event: 'admin_refused',
        method: request.method,
        route: request.routeOptions.url ?? request.url.split('?')[0]!.slice(0, 256),
        client: name === undefined ? null : name,
        code: err.code,
        remote: request.ip,
      });
      if (err.code === 'invalid_client') reply.header('www-authenticate', 'Bearer realm="ztmint-admin", error="invalid_client"');
      return sendProblem(reply, err.code, err.message);
    }
  });
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  adminRoutes(app, deps);
  return app;
}
