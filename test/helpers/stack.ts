// A ztmint stack whose parts can be killed and restarted: the dev OIDC issuer runs in the test
// process; every signer and the coordinator is its own `ztmint` process on a FIXED loopback port
// (chosen once at start), so a restarted service comes back at the same URL with the same state.
// Each process's stderr goes to <state>/logs/<name>.log; the harness records when each process
// was spawned, became ready, was signalled and exited (Date.now() ms), for fault-window checks.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startDevIssuer, type DevIssuer } from '../../cli/dev-issuer.js';
import { READY_TIMEOUT_MS } from './child-process.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const CLI = join(ROOT, 'bin', 'ztmint.js');
const HOST = '127.0.0.1';

export interface Lifetime {
  spawnedAt: number;
  readyAt?: number;
  /** When the harness sent a terminating signal (SIGKILL/SIGTERM). */
  killedAt?: number;
  exitedAt?: number;
  pid?: number;
  /** Set when the process exited before printing its ready line. */
  failed?: string;
}

export interface StackOptions {
  signers?: number;
  threshold?: number;
  /** Existing state directory (must hold a key set); default: a new one dealt with `ztmint keygen`. */
  state?: string;
  /** Extra coordinator arguments (e.g. rate limits). */
  coordinatorArgs?: string[];
  /** Coordinator replicas (default 1); more than one needs a PostgreSQL `store`. */
  coordinators?: number;
  /** The coordinators' --store (default: the file store in the state directory). */
  store?: string;
  /** Extra arguments for signer `index` (1-based), read at every (re)start. */
  signerArgs?: (index: number) => string[];
  env?: Record<string, string>;
  /** Called with the state directory after keygen, before any service starts (e.g. to mount a filesystem on <state>/audit). */
  beforeStart?: (state: string) => Promise<void> | void;
}

/** `ztmint signer` arguments for signer `index` of a stack whose coordinator is `coordinatorUrl` (issuer and audience). */
export function signerArgs(o: { state: string; index: number; host: string; port: number; coordinatorUrl: string; issuerUrl: string }): string[] {
  return [
    'signer',
    '--state',
    o.state,
    '--index',
    String(o.index),
    '--host',
    o.host,
    '--port',
    String(o.port),
    '--token-issuer',
    o.coordinatorUrl,
    '--oidc-issuer',
    o.issuerUrl,
    '--oidc-audience',
    o.coordinatorUrl,
  ];
}

/** Ports that are free now; held open together so that no two are the same. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, HOST, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    return typeof a === 'object' && a ? a.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** One restartable service process (`ztmint signer …` or `ztmint coordinator …`). */
export class ManagedProcess {
  child?: ChildProcess;
  readonly lifetimes: Lifetime[] = [];
  private log?: WriteStream;

  constructor(
    readonly name: string,
    readonly url: string,
    private readonly args: () => string[],
    private readonly logFile: string,
    private readonly env: Record<string, string>,
  ) {}

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and resolves once it printed its ready line; rejects if it exits first. */
  async start(timeoutMs = READY_TIMEOUT_MS): Promise<Lifetime> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.log ??= createWriteStream(this.logFile, { flags: 'a' });
    const life: Lifetime = { spawnedAt: Date.now() };
    this.lifetimes.push(life);
    this.log.write(`--- ${new Date(life.spawnedAt).toISOString()} start ${this.name}\n`);
    const child = spawn(process.execPath, [CLI, ...this.args()], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ZTMINT_LOG_LEVEL: 'warn', ...this.env },
    });
    this.child = child;
    life.pid = child.pid;
    child.stderr!.pipe(this.log, { end: false });
    let stderrTail = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString()).slice(-2000)));
    child.once('exit', () => (life.exitedAt = Date.now()));
    const lines = createInterface({ input: child.stdout! });
    return new Promise<Lifetime>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${this.name} not ready within ${timeoutMs} ms:\n${stderrTail}`));
      }, timeoutMs);
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          const ready = JSON.parse(line) as { ready?: boolean; url?: string };
          if (!ready.ready) throw new Error('no ready flag');
          if (ready.url !== this.url) throw new Error(`listens at ${ready.url}, expected ${this.url}`);
          life.readyAt = Date.now();
          resolve(life);
        } catch (e) {
          child.kill('SIGKILL');
          reject(new Error(`${this.name}: unexpected ready line (${(e as Error).message}): ${line}`));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (life.readyAt === undefined) {
          life.failed = `exited before ready (${signal ?? `code ${code}`})`;
          // Give the stderr pipe a moment so the message names the cause.
          setTimeout(() => reject(new Error(`${this.name} ${life.failed}:\n${stderrTail}`)), 50);
        }
      });
    });
  }

  /** Sends `signal` and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const life = this.lifetimes.at(-1)!;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    life.killedAt = Date.now();
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      exited,
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${this.name} (pid ${child.pid}) did not exit on ${signal}`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<Lifetime> {
    await this.kill(signal);
    return this.start();
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) the process: alive, but not answering. */
  pause(paused: boolean): void {
    if (this.running) this.child!.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  async close(): Promise<void> {
    if (this.running) {
      this.child!.kill('SIGCONT');
      await this.kill('SIGKILL').catch(() => undefined);
    }
    await new Promise<void>((r) => (this.log ? this.log.end(r) : r()));
    this.log = undefined;
  }
}

export class Stack {
  private constructor(
    readonly state: string,
    readonly ownsState: boolean,
    readonly issuer: DevIssuer,
    readonly coordinatorUrl: string,
    readonly signers: ManagedProcess[],
    readonly coordinator: ManagedProcess,
    readonly threshold: number,
    /** Every coordinator replica; `coordinator` is the first, whose URL is the public one. */
    readonly replicas: ManagedProcess[],
    /** The bearer token POST /v1/introspect accepts (--introspection-token-file). */
    readonly introspectionToken: string,
    readonly store?: string,
  ) {}

  static async start(opts: StackOptions = {}): Promise<Stack> {
    const n = opts.signers ?? 3;
    const t = opts.threshold ?? 2;
    const ownsState = !opts.state;
    const state = opts.state ?? (await mkdtemp(join(tmpdir(), 'ztmint-stack-')));
    if (ownsState) {
      const keygen = spawnSync(process.execPath, [CLI, 'keygen', '--state', state, '--signers', String(n), '--threshold', String(t)], {
        encoding: 'utf8',
      });
      if (keygen.status !== 0) throw new Error(`ztmint keygen failed:\n${keygen.stderr}`);
    }
    await mkdir(join(state, 'logs'), { recursive: true });
    await opts.beforeStart?.(state);
    const introspectionToken = randomBytes(32).toString('base64url');
    const introspectionTokenFile = join(state, 'introspection-token');
    await writeFile(introspectionTokenFile, `${introspectionToken}\n`, { mode: 0o600 });

    const r = opts.coordinators ?? 1;
    const ports = await freePorts(n + r);
    const coordinatorPorts = ports.slice(0, r);
    const signerPorts = ports.slice(r);
    const coordinatorUrl = `http://${HOST}:${coordinatorPorts[0]}`;
    const issuer = await startDevIssuer({ host: HOST, audience: () => coordinatorUrl });
    const env = opts.env ?? {};
    const signers = signerPorts.map((port, i) => {
      const name = `signer-${i + 1}`;
      return new ManagedProcess(
        name,
        `https://${HOST}:${port}`,
        () => [...signerArgs({ state, index: i + 1, host: HOST, port, coordinatorUrl, issuerUrl: issuer.url }), ...(opts.signerArgs?.(i + 1) ?? [])],
        join(state, 'logs', `${name}.log`),
        env,
      );
    });
    const replicas = coordinatorPorts.map((port, i) => {
      const name = r > 1 ? `coordinator-${i + 1}` : 'coordinator';
      return new ManagedProcess(
        name,
        `http://${HOST}:${port}`,
        () => [
          'coordinator',
          '--state',
          state,
          '--host',
          HOST,
          '--port',
          String(port),
          '--oidc-issuer',
          issuer.url,
          '--oidc-audience',
          coordinatorUrl,
          ...signers.flatMap((s) => ['--signer', `${s.name}=${s.url}`]),
          '--introspection-token-file',
          introspectionTokenFile,
          ...(opts.store ? ['--store', opts.store] : []),
          ...(r > 1 ? ['--public-url', coordinatorUrl] : []),
          ...(opts.coordinatorArgs ?? []),
        ],
        join(state, 'logs', `${name}.log`),
        env,
      );
    });
    const coordinator = replicas[0]!;
    const stack = new Stack(state, ownsState, issuer, coordinatorUrl, signers, coordinator, t, replicas, introspectionToken, opts.store);
    try {
      await Promise.all(signers.map((s) => s.start()));
      await Promise.all(replicas.map((c) => c.start()));
    } catch (e) {
      await stack.stop({ keepState: true });
      throw e;
    }
    return stack;
  }

  get auditFile(): string {
    return join(this.state, 'audit', 'audit.jsonl');
  }

  /** A fresh (single-use) OIDC token from the dev issuer; `claims` override the demo workflow's. */
  idToken(claims: Record<string, unknown> = {}): Promise<string> {
    return this.issuer.issue({ aud: this.coordinatorUrl, ...claims });
  }

  async jwks(): Promise<{ keys: Array<Record<string, unknown>> }> {
    const res = await fetch(`${this.coordinatorUrl}/.well-known/jwks.json`);
    if (res.status !== 200) throw new Error(`GET jwks answered ${res.status}`);
    return (await res.json()) as { keys: Array<Record<string, unknown>> };
  }

  /** Audit records, leniently: lines that do not parse are returned in `torn`. */
  async auditRecords(): Promise<{ records: Array<Record<string, unknown>>; torn: string[] }> {
    const text = await readFile(this.auditFile, 'utf8');
    const records: Array<Record<string, unknown>> = [];
    const torn: string[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        records.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        torn.push(line.length > 200 ? `${line.slice(0, 200)}…` : line);
      }
    }
    return { records, torn };
  }

  /** `ztmint audit verify --state <state>` (or `--store <url>`), as an operator would run it. */
  auditVerify(): { status: number | null; output: string } {
    const where = this.store ? ['--store', this.store] : ['--state', this.state];
    const r = spawnSync(process.execPath, [CLI, 'audit', 'verify', ...where], { encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
  }

  /** Signers that are running now. */
  aliveSigners(): number {
    return this.signers.filter((s) => s.running).length;
  }

  async stop(opts: { keepState?: boolean } = {}): Promise<void> {
    await Promise.allSettled([...this.replicas.map((c) => c.close()), ...this.signers.map((s) => s.close())]);
    await this.issuer.close().catch(() => undefined);
    if (this.ownsState && !opts.keepState) await rm(this.state, { recursive: true, force: true });
  }
}
