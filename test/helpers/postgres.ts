// A real PostgreSQL server for tests, from the Debian package (scripts/ci-postgres.sh installs it):
// initdb into a temporary directory, pg_ctl start on a free loopback port (socket in the same
// directory), bounded waits, stopped and removed afterwards. initdb refuses to run as root, so as
// root the server runs as the `postgres` user (runuser). Trust authentication on loopback only.
// With `tls`, the server also speaks TLS with a certificate from a fresh local CA (127.0.0.1 in its
// SAN), so clients can be tested with sslmode=verify-full.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { writeLocalPki } from '../../pki/local-pki.js';
import { freePorts } from './stack.js';

export interface PostgresServer {
  /** postgres://ztmint@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  dir: string;
  /** A new, empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops (fast: open sessions are cut) and starts again on the same port; `downMs` in between. */
  restart(downMs?: number): Promise<void>;
  stop(): void;
  /** The server's log, for a failing test's message. */
  log(): string;
  /** With `tls`: the CA certificate that issued the server's (for sslrootcert). */
  caFile?: string;
}

/** The newest installed server's bin directory (ZTMINT_PG_BIN overrides). */
export function postgresBin(): string | undefined {
  if (process.env.ZTMINT_PG_BIN) return process.env.ZTMINT_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, 'bin') : undefined;
}

function runAs(user: { uid: number; gid: number; name: string } | undefined, command: string, args: string[], cwd: string, timeoutMs: number): string {
  const [cmd, argv] = user ? ['runuser', ['-u', user.name, '--', command, ...args]] : [command, args];
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C.UTF-8' } });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.error?.message ?? `code ${r.status}`}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** As runAs, without blocking the event loop (servers in this process keep answering meanwhile). */
function runAsAsync(user: { name: string } | undefined, command: string, args: string[], cwd: string, timeoutMs: number): Promise<void> {
  const [cmd, argv] = user ? ['runuser', ['-u', user.name, '--', command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `code ${code}`}):\n${out}`))));
  });
}

function serviceUser(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = process.env.ZTMINT_PG_USER ?? 'postgres';
  const id = (flag: string) => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  if (!Number.isInteger(uid) || uid === 0) throw new Error(`running as root: need an unprivileged user "${name}" for PostgreSQL (scripts/ci-postgres.sh creates it)`);
  return { uid, gid: id('-g'), name };
}

export async function startPostgres(opts: { tls?: boolean } = {}): Promise<PostgresServer> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: run scripts/ci-postgres.sh');
  const user = serviceUser();
  const dir = mkdtempSync(join(tmpdir(), 'ztmint-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const [port] = await freePorts(1);
  runAs(user, join(bin, 'initdb'), ['-D', data, '-U', 'ztmint', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], dir, 120_000);
  let serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  let caFile: string | undefined;
  if (opts.tls) {
    const tls = join(dir, 'tls');
    await writeLocalPki(tls, [{ name: 'postgres', role: 'server' }], 1);
    // The server refuses a key readable by others or owned by another user.
    if (user) for (const f of ['', 'ca.pem', 'postgres.pem', 'postgres-key.pem']) chownSync(join(tls, f), user.uid, user.gid);
    serverOptions += ` -c ssl=on -c ssl_cert_file=${join(tls, 'postgres.pem')} -c ssl_key_file=${join(tls, 'postgres-key.pem')}`;
    caFile = join(tls, 'ca.pem');
  }
  const start = () => runAs(user, join(bin, 'pg_ctl'), ['-D', data, '-l', logFile, '-o', serverOptions, '-w', '-t', '90', 'start'], dir, 120_000);
  const stopArgs = ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop'];
  const stop = () => runAs(user, join(bin, 'pg_ctl'), stopArgs, dir, 90_000);
  start();
  const url = `postgres://ztmint@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    port: port!,
    dir,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://ztmint@127.0.0.1:${port}/${name}`;
    },
    async restart(downMs = 0) {
      await runAsAsync(user, join(bin, 'pg_ctl'), stopArgs, dir, 90_000);
      await new Promise((r) => setTimeout(r, downMs));
      await runAsAsync(user, join(bin, 'pg_ctl'), ['-D', data, '-l', logFile, '-o', serverOptions, '-w', '-t', '90', 'start'], dir, 120_000);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    caFile,
  };
}
