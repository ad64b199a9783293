// Runs the bundled action (dist/main/index.js, dist/post/index.js) the way the GitHub runner
// does: a separate node process per step, INPUT_* variables, the file commands (GITHUB_OUTPUT,
// GITHUB_ENV, GITHUB_STATE, GITHUB_STEP_SUMMARY; a fresh set per step), STATE_<name> for the
// post step, and the runner's ID-token endpoint. Also: stand-ins for the runner's ID-token
// endpoint and for a coordinator (http or https, optionally mTLS), a CONNECT proxy, a local CA.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLocalPki } from '../../pki/local-pki.js';
import { ROOT } from './dev-stack.js';

const DIST_MAIN = join(ROOT, 'dist', 'main', 'index.js');
const DIST_POST = join(ROOT, 'dist', 'post', 'index.js');

/** Parses a file-command file (`name<<DELIMITER` heredocs, or `name=value`); later entries win. */
function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      if (end < 0) throw new Error(`unterminated heredoc for ${heredoc[1]}`);
      out[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      const at = line.indexOf('=');
      out[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  return out;
}

export interface StepResult {
  status: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  /** What the step wrote to GITHUB_ENV. */
  env: Record<string, string>;
  /** What the step saved with core.saveState (GITHUB_STATE). */
  state: Record<string, string>;
  summary: string;
  /** Every byte the step wrote anywhere a human can see it: stdout, stderr, job summary. */
  visible: string;
  /** The raw file-command files (to check nothing was injected into them). */
  files: { output: string; env: string; state: string };
  /** Wall-clock time of the step, in milliseconds. */
  elapsedMs: number;
  /** Peak resident memory of the step's process in KiB (getrusage), when `measureMemory` was set. */
  peakRssKiB?: number;
}

export interface StepOptions {
  inputs?: Record<string, string>;
  /** Extra environment (wins over the defaults). */
  env?: Record<string, string>;
  /** The main step's state, handed to the post step as STATE_<name>. */
  state?: Record<string, string>;
  timeoutMs?: number;
  /** Record the process's peak RSS (a preload writes process.resourceUsage().maxRSS at exit). */
  measureMemory?: boolean;
}

/** Runs one step of the bundled action as a child process (asynchronously, so in-process stubs keep serving). */
export async function runStep(entry: 'main' | 'post', opts: StepOptions = {}): Promise<StepResult> {
  const dir = await mkdtemp(join(tmpdir(), `ztmint-step-${entry}-`));
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_PATH: join(dir, 'path'),
  };
  for (const f of Object.values(files)) await writeFile(f, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...files,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    RUNNER_TEMP: dir,
    GITHUB_WORKSPACE: dir,
    GITHUB_REPOSITORY: 'acme/webapp',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    ...Object.fromEntries(Object.entries(opts.inputs ?? {}).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    ...Object.fromEntries(Object.entries(opts.state ?? {}).map(([k, v]) => [`STATE_${k}`, v])),
    ...opts.env,
  };
  const rssFile = join(dir, 'peak-rss');
  if (opts.measureMemory) {
    // Preloaded by NODE_OPTIONS, so the step itself still runs as `node dist/<entry>/index.js`.
    const preload = join(dir, 'peak-rss.mjs');
    await writeFile(preload, `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`);
    env.NODE_OPTIONS = `--import=${preload}`;
  }
  const started = Date.now();
  const child = spawn(process.execPath, [entry === 'main' ? DIST_MAIN : DIST_POST], {
    env,
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const status = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} step did not finish in time:\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  const elapsedMs = Date.now() - started;
  const read = (f: string) => readFile(f, 'utf8');
  const summary = await read(files.GITHUB_STEP_SUMMARY);
  const raw = { output: await read(files.GITHUB_OUTPUT), env: await read(files.GITHUB_ENV), state: await read(files.GITHUB_STATE) };
  const result: StepResult = {
    status,
    stdout,
    stderr,
    outputs: parseFileCommands(raw.output),
    env: parseFileCommands(raw.env),
    state: parseFileCommands(raw.state),
    summary,
    visible: `${stdout}\n${stderr}\n${summary}`,
    files: raw,
    elapsedMs,
  };
  if (opts.measureMemory) {
    const peak = Number(await read(rssFile).catch(() => ''));
    if (Number.isFinite(peak) && peak > 0) result.peakRssKiB = peak;
  }
  await rm(dir, { recursive: true, force: true });
  return result;
}

/** The parts of a secret that must never show: itself and, for a JWT, its payload and signature. */
function secretParts(secret: string): string[] {
  const parts = secret.split('.');
  return parts.length === 3 ? [secret, parts[1]!, parts[2]!].filter((p) => p.length >= 8) : [secret];
}

/**
 * Checks that `::add-mask::<secret>` precedes every appearance of the secret (or a piece of it)
 * in stdout, that stderr and the job summary never show it, and that it appears nowhere but in
 * the mask command. Returns the index of the mask line in stdout.
 */
export function checkMasked(step: Pick<StepResult, 'stdout' | 'stderr' | 'summary'>, secret: string): number {
  const lines = step.stdout.split('\n');
  const maskLine = `::add-mask::${secret}`;
  const maskAt = lines.indexOf(maskLine);
  if (maskAt < 0) throw new Error('the secret was never masked (no ::add-mask:: line in stdout)');
  const parts = secretParts(secret);
  lines.forEach((line, i) => {
    if (line === maskLine) return;
    const shown = parts.find((p) => line.includes(p));
    if (shown === undefined) return;
    if (i < maskAt) throw new Error(`stdout line ${i} shows the secret before it is masked`);
    throw new Error(`stdout line ${i} shows the secret (or part of it) outside ::add-mask::`);
  });
  for (const [name, text] of [
    ['stderr', step.stderr],
    ['job summary', step.summary],
  ] as const) {
    if (parts.some((p) => text.includes(p))) throw new Error(`${name} shows the secret (or part of it)`);
  }
  return maskAt;
}

// ---------------------------------------------------------------------------------------------
// Local servers

interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The client certificate's subject CN, for mTLS servers. */
  clientCn?: string;
  /** Date.now() when the request arrived. */
  at: number;
}

export type Handler = (req: RecordedRequest, res: ServerResponse, n: number) => void | Promise<void>;

export interface StubServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

async function listen(server: Server, scheme: 'http' | 'https'): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** An http(s) server that records every request and answers with `handler`. */
export async function startStub(handler: Handler, tls?: { cert: string; key: string; ca?: string; requestCert?: boolean }): Promise<StubServer> {
  const requests: RecordedRequest[] = [];
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const at = Date.now();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const peer = (req.socket as { getPeerCertificate?: () => { subject?: { CN?: string } } }).getPeerCertificate?.();
      const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, at };
      if (peer?.subject?.CN) recorded.clientCn = peer.subject.CN;
      requests.push(recorded);
      Promise.resolve(handler(recorded, res, requests.length)).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  };
  const server: Server = tls
    ? (createHttpsServer(
        { cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}), requestCert: tls.requestCert ?? false, rejectUnauthorized: tls.requestCert ?? false },
        listener,
      ) as unknown as Server)
    : createHttpServer(listener);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const url = await listen(server, tls ? 'https' : 'http');
  return { url, requests, close: () => closeServer(server, sockets) };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function sendProblem(res: ServerResponse, status: number, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
  res.end(JSON.stringify({ type: `urn:ztmint:error:${code}`, title: code, status, detail: `stub says ${code}`, code, ...extra }));
}

/** A fake minted token (three base64url parts with recognisable, unique content), valid for `ttl` s. */
export function fakeJwt(claims: Record<string, unknown> = {}, ttl = 900): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const payload = { jti: randomBytes(16).toString('base64url'), iat: now, nbf: now, exp: now + ttl, ...claims };
  return `${b64({ alg: 'EdDSA', typ: 'JWT', kid: 'stub' })}.${b64(payload)}.${randomBytes(64).toString('base64url')}`;
}

/** A mint response body as the coordinator sends it; jti, expiry and lifetime follow the token's claims. */
export function mintBody(token: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    claims = {};
  }
  const exp = typeof claims.exp === 'number' ? claims.exp : Math.floor(Date.now() / 1000) + 900;
  const iat = typeof claims.iat === 'number' ? claims.iat : exp - 900;
  return {
    token,
    token_type: 'Bearer',
    expires_at: new Date(exp * 1000).toISOString(),
    expires_in: exp - iat,
    jti: typeof claims.jti === 'string' ? claims.jti : randomBytes(16).toString('base64url'),
    scopes: ['deploy:canary'],
    audit: { index: 7 },
    ...overrides,
  };
}

export interface RunnerOidc extends StubServer {
  /** The ACTIONS_ID_TOKEN_REQUEST_* variables for runStep's env. */
  env: Record<string, string>;
  /** Every token handed out, in order. */
  issued: string[];
}

/** Stands in for the runner's ID-token endpoint: unsigned-looking JWTs, a new jti each time. */
export async function startRunnerOidc(claims: Record<string, unknown> = {}): Promise<RunnerOidc> {
  const requestToken = randomBytes(16).toString('hex');
  const issued: string[] = [];
  const stub = await startStub((req, res) => {
    if (req.headers.authorization !== `Bearer ${requestToken}`) return sendJson(res, 401, { message: 'bad request token' });
    const aud = new URL(req.url, 'http://x').searchParams.get('audience');
    const now = Math.floor(Date.now() / 1000);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const value = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'stub' })}.${b64({
      iss: 'https://token.actions.githubusercontent.com',
      aud,
      sub: 'repo:acme/webapp:ref:refs/heads/main',
      repository: 'acme/webapp',
      ref: 'refs/heads/main',
      job_workflow_ref: 'acme/webapp/.github/workflows/deploy.yml@refs/heads/main',
      jti: randomUUID(),
      iat: now,
      nbf: now,
      exp: now + 300,
      ...claims,
    })}.${randomBytes(32).toString('base64url')}`;
    issued.push(value);
    sendJson(res, 200, { value });
  });
  return {
    ...stub,
    issued,
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${stub.url}/id-token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A CONNECT proxy

export interface ConnectProxy {
  url: string;
  /** Every CONNECT target (`host:port`), in order. */
  connects: string[];
  close(): Promise<void>;
}

/** A forwarding proxy that only speaks CONNECT (as undici's ProxyAgent uses for http and https targets). */
export async function startConnectProxy(opts: { refuse?: number } = {}): Promise<ConnectProxy> {
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer((_req, res) => {
    res.writeHead(405, { 'content-type': 'text/plain' });
    res.end('this proxy only does CONNECT');
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    connects.push(target);
    if (opts.refuse) {
      client.end(`HTTP/1.1 ${opts.refuse} Refused\r\n\r\n`);
      return;
    }
    const at = target.lastIndexOf(':');
    const upstream = netConnect(Number(target.slice(at + 1)), target.slice(0, at).replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const url = await listen(server, 'http');
  return { url, connects, close: () => closeServer(server, sockets) };
}

// ---------------------------------------------------------------------------------------------
// A local CA with a server certificate (for 127.0.0.1 / localhost) and a client certificate

export interface TestPki {
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  /** A second, unrelated CA (for "wrong CA" cases). */
  otherCa: string;
}

export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'ztmint-pki-'));
  const other = await mkdtemp(join(tmpdir(), 'ztmint-pki-other-'));
  try {
    await writeLocalPki(dir, [
      { name: 'coordinator', role: 'server' },
      { name: 'deploy-client', role: 'client' },
    ]);
    await writeLocalPki(other, [{ name: 'unused', role: 'server' }]);
    const r = (d: string, f: string) => readFile(join(d, f), 'utf8');
    return {
      ca: await r(dir, 'ca.pem'),
      server: { cert: await r(dir, 'coordinator.pem'), key: await r(dir, 'coordinator-key.pem') },
      client: { cert: await r(dir, 'deploy-client.pem'), key: await r(dir, 'deploy-client-key.pem') },
      otherCa: await r(other, 'ca.pem'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(other, { recursive: true, force: true });
  }
}
