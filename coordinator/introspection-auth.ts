// Client authentication of POST /v1/introspect on the public listener (RFC 7662 §2.1: the
// endpoint must require some authorization, so that it cannot be used to scan for tokens): a
// bearer token from --introspection-token-file. Only SHA-256 digests are kept, and a presented
// token is compared digest against digest in constant time, so neither its length nor a prefix
// leaks through timing. Resource servers with a client certificate use the admin listener instead.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZtmintError } from '../errors/ztmint-error.js';
import { sendProblem } from '../http/problem-response.js';

const BEARER = /^Bearer ([\x21-\x7e]{1,1024})$/;
/** Shorter tokens are refused at start: they could be guessed. */
const MIN_TOKEN_CHARS = 32;

const digest = (token: string) => createHash('sha256').update(token).digest();

/** The digests of the file's tokens (one per line; blank lines and `#` comments skipped). */
export async function readIntrospectionTokens(file: string): Promise<Buffer[]> {
  const lines = (await readFile(file, 'utf8')).split('\n').map((l) => l.trim());
  const tokens = lines.filter((l) => l && !l.startsWith('#'));
  if (tokens.length === 0)
    throw new ZtmintError('introspection_token_invalid', `${file} holds no token: write one random token (≥ ${MIN_TOKEN_CHARS} characters) per line, e.g. \`openssl rand -hex 32\``);
  if (tokens.some((t) => t.length < MIN_TOKEN_CHARS || /\s/.test(t))) {
    throw new ZtmintError('introspection_token_invalid', `${file}: every token must be at least ${MIN_TOKEN_CHARS} characters without white space (e.g. \`openssl rand -hex 32\`)`);
  }
  return tokens.map(digest);
}

/** Fastify preHandler: 401 `invalid_client` with WWW-Authenticate unless the bearer token is one of `digests`. */
export function requireIntrospectionToken(digests: () => readonly Buffer[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    const presented = token === undefined ? undefined : digest(token);
    let ok = false;
    for (const d of digests()) if (presented && timingSafeEqual(d, presented)) ok = true;
    if (ok) return;
    reply.header('www-authenticate', `Bearer realm="ztmint-introspection"${token === undefined ? '' : ', error="invalid_token"'}`);
    return sendProblem(
      reply,
      'invalid_client',
      digests().length === 0
        ? 'introspection needs client authentication and this coordinator has no introspection token (--introspection-token-file): use the admin port with a client certificate, or ask the operators for a token'
        : 'send an introspection token of this coordinator as "Authorization: Bearer <token>" (RFC 7662 §2.1)',
    );
  };
}
