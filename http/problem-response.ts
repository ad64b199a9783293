// Fastify plumbing shared by coordinator and signers: every error leaves as problem+json with a
// stable code, never a stack trace, and never echoes request data that may hold a secret.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { Socket } from 'node:net';
import { PROBLEM_CONTENT_TYPE, ProblemError, problem, type ProblemCode } from '../protocol/problem.js';

export function sendProblem(reply: FastifyReply, code: ProblemCode, detail: string, reasons?: string[]) {
  const doc = problem(code, detail, reasons);
  return reply.code(doc.status).type(PROBLEM_CONTENT_TYPE).send(doc);
}

function fromFastifyError(err: FastifyError): ProblemError {
  if (err instanceof ProblemError) return err;
  if (err.validation) {
    // Ajv's messages name the field and the rule, not the value: safe to return.
    return new ProblemError('invalid_request', `request body ${err.message.replace(/^body\/?/, '')}`.trim());
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProblemError('payload_too_large', 'request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProblemError('unsupported_media_type', 'send Content-Type: application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ProblemError('invalid_request', 'request body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ProblemError('invalid_request', 'request body is not valid JSON');
  }
  if (err instanceof SyntaxError) return new ProblemError('invalid_request', 'request body is not valid JSON');
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new ProblemError('invalid_request', 'malformed request');
  }
  return new ProblemError('internal_error', 'internal error');
}

export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const p = fromFastifyError(err);
    if (p.code === 'internal_error') request.log.error({ err: { name: err.name, code: err.code } }, 'unhandled error');
    if (p.retryAfter) reply.header('retry-after', String(p.retryAfter));
    return sendProblem(reply, p.code, p.message, p.reasons);
  });
  app.setNotFoundHandler((_request, reply) => sendProblem(reply, 'not_found', 'no such endpoint'));
}

/** Validation as written in the schema: no type coercion, no silently dropped fields. */
export const STRICT_AJV = {
  customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false },
} as const;

/**
 * For requests Node's HTTP parser refuses before Fastify sees them (oversized or malformed
 * headers, unknown methods, smuggling-shaped framing): still a problem document, then close.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const doc = err.code === 'HPE_HEADER_OVERFLOW' ? problem('headers_too_large', 'request headers are too large') : problem('invalid_request', 'malformed HTTP request');
  const body = JSON.stringify(doc);
  socket.end(`HTTP/1.1 ${doc.status} ${doc.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
