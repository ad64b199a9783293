// `ztmint token decode|verify|introspect` for a minted token in hand (argument, or `-` for
// stdin). decode only parses; verify checks the signature against the JWKS the coordinator's
// discovery document names, the issuer and the lifetime; introspect asks the coordinator (RFC
// 7662) whether it is still active, i.e. also not revoked. The token itself is never printed.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { ZtmintError } from '../errors/ztmint-error.js';
import { readDevStackFile, stateDirFrom } from './dev-stack-file.js';

const HTTP_TIMEOUT_MS = 30_000;

async function tokenArgument(value: string): Promise<string> {
  const text = value === '-' ? await readStdin() : value;
  const token = text.trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw new ZtmintError('token_malformed', 'not a compact JWS (three base64url parts separated by dots)');
  return token;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface CoordinatorOptions {
  state?: string;
  coordinator?: string;
}

/** The coordinator's public URL: --coordinator, else the running dev stack's. */
function coordinatorUrl(opts: CoordinatorOptions): string {
  if (opts.coordinator) return opts.coordinator.replace(/\/+$/, '');
  return readDevStackFile(stateDirFrom(opts)).coordinator.url;
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  if (!res.ok) throw new ZtmintError('coordinator_refused', `GET ${url}: HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

async function verifyToken(token: string, coordinator: string, now?: Date): Promise<Record<string, unknown>> {
  const discovery = await getJson(`${coordinator}/.well-known/openid-configuration`);
  if (typeof discovery.jwks_uri !== 'string' || typeof discovery.issuer !== 'string')
    throw new ZtmintError('discovery_invalid', `${coordinator}/.well-known/openid-configuration lacks issuer or jwks_uri`);
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri), { timeoutDuration: HTTP_TIMEOUT_MS });
  try {
    const { payload } = await jwtVerify(token, jwks, { algorithms: ['EdDSA'], issuer: discovery.issuer, ...(now ? { currentDate: now } : {}) });
    return payload as Record<string, unknown>;
  } catch (err) {
    throw new ZtmintError('token_invalid', `the token does not verify against ${discovery.jwks_uri}: ${(err as Error).message}`, { cause: err });
  }
}

interface IntrospectOptions extends CoordinatorOptions {
  url?: string;
  tokenFile?: string;
}

async function introspectToken(token: string, opts: IntrospectOptions): Promise<Record<string, unknown>> {
  let bearerFile = opts.tokenFile;
  if (!bearerFile && !opts.coordinator) {
    const file = readDevStackFile(stateDirFrom(opts)).introspection_token_file;
    if (typeof file === 'string') bearerFile = file;
  }
  if (!bearerFile) throw new ZtmintError('introspection_token_missing', "introspection needs client authentication: pass --token-file FILE (a token of the coordinator's --introspection-token-file)");
  const bearer = (await readFile(bearerFile, 'utf8'))
    .split('\n')
    .find((l) => l.trim() && !l.startsWith('#'))!
    .trim();
  const url = (opts.url ?? coordinatorUrl(opts)).replace(/\/+$/, '');
  const res = await fetch(`${url}/v1/introspect`, {
    method: 'POST',
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new ZtmintError('introspection_refused', `POST ${url}/v1/introspect: HTTP ${res.status} ${String(body.code ?? '')}: ${String(body.detail ?? '')}`);
  return body;
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('inspect a minted token (argument, or - to read it from stdin); the token is never printed');
  token
    .command('decode')
    .description('print the header and claims without verifying anything')
    .argument('<token>', 'the token, or - for stdin')
    .action(async (value: string) => {
      const t = await tokenArgument(value);
      console.log(JSON.stringify({ verified: false, header: decodeProtectedHeader(t), claims: decodeJwt(t) }, null, 2));
    });
  token
    .command('verify')
    .description("check signature (JWKS from the coordinator's discovery document), issuer and lifetime; exit 1 if it fails")
    .argument('<token>', 'the token, or - for stdin')
    .option('--coordinator <url>', "the coordinator's public URL (default: the running dev stack's)")
    .option('--state <dir>', 'state directory of a running dev stack (default: $ZTMINT_STATE)')
    .action(async (value: string, opts: CoordinatorOptions) => {
      const claims = await verifyToken(await tokenArgument(value), coordinatorUrl(opts));
      console.log(JSON.stringify({ verified: true, claims }, null, 2));
    });
  token
    .command('introspect')
    .description('ask the coordinator whether the token is active (RFC 7662: valid and not revoked)')
    .argument('<token>', 'the token, or - for stdin')
    .option('--coordinator <url>', "the coordinator's public URL (default: the running dev stack's)")
    .option('--url <url>', 'ask this replica instead of the public URL')
    .option('--token-file <file>', "an introspection token (default: the dev stack's)")
    .option('--state <dir>', 'state directory of a running dev stack (default: $ZTMINT_STATE)')
    .action(async (value: string, opts: IntrospectOptions) => console.log(JSON.stringify(await introspectToken(await tokenArgument(value), opts), null, 2)));
}
