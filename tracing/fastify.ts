// Server side of W3C trace context for Fastify: each request gets a span whose parent is the
// caller's `traceparent` (so a signer's work shows under the coordinator's round-2 span). The span
// is not made active; handlers that need children use `tracedHandler` instead.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SpanStatusCode, extractTraceContext, inSpan, startSpan } from './spans.js';
import type { Span } from '@opentelemetry/api';

const spans = new WeakMap<FastifyRequest, Span>();

function routeName(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

/** One span per request, named `${prefix} ${METHOD} ${route}`, ended when the answer is sent. */
export function traceRequests(app: FastifyInstance, prefix: string): void {
  app.addHook('onRequest', async (request) => {
    spans.set(
      request,
      startSpan(`${prefix} ${request.method} ${routeName(request)}`, { 'http.request.method': request.method, 'http.route': routeName(request) }, extractTraceContext(request.headers)),
    );
  });
  app.addHook('onResponse', async (request, reply) => {
    const span = spans.get(request);
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

/** Wraps a route handler in an active span (parent: the request's `traceparent`), so its awaits carry it. */
export function tracedHandler<Req extends FastifyRequest, R>(name: string, handler: (request: Req, reply: FastifyReply) => Promise<R>): (request: Req, reply: FastifyReply) => Promise<R> {
  return (request, reply) =>
    inSpan(
      name,
      {},
      async (span) => {
        const result = await handler(request, reply);
        span.setAttribute('http.response.status_code', reply.statusCode);
        return result;
      },
      extractTraceContext(request.headers),
    );
}
