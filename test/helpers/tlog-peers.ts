// The real third-party peers of the transparency tests, built once per machine by
// scripts/build-tlog-peers.sh: versitygw (S3-compatible, with Object Lock). Each is started in a temporary
// directory on a free loopback port; every wait is bounded; stop() kills what was started.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './child-process.js';
import { freePorts, ROOT } from './stack.js';

const START_TIMEOUT_MS = 60_000;

function buildPeers(): Record<string, string> {
  const out = execFileSync('bash', [join(ROOT, 'scripts/build-tlog-peers.sh')], { encoding: 'utf8', timeout: 1_800_000 });
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(' ', 2) as [string, string]),
  );
}

/** Resolves once `port` accepts TCP connections; rejects after the deadline with `what`'s output. */
async function waitForPort(port: number, what: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}):\n${output()}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not listening on ${port} within ${START_TIMEOUT_MS} ms:\n${output()}`);
}

function started(cmd: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let printed = '';
  child.stdout!.on('data', (c: Buffer) => (printed = (printed + c.toString()).slice(-20_000)));
  child.stderr!.on('data', (c: Buffer) => (printed = (printed + c.toString()).slice(-20_000)));
  return { child, output: () => printed };
}

export interface S3Server {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

/** versitygw over a POSIX directory, with bucket versioning (needed for Object Lock). */
export async function startS3Server(): Promise<S3Server> {
  const bin = buildPeers().versitygw!;
  const dir = await mkdtemp(join(tmpdir(), 'ztmint-s3-'));
  const [port] = await freePorts(1);
  const credentials = { accessKeyId: 'ztmint-test', secretAccessKey: 'ztmint-test-secret-not-used-elsewhere' };
  await mkdir(join(dir, 'versions'));
  await mkdir(join(dir, 'data'));
  const { child, output } = started(bin, ['--port', `127.0.0.1:${port}`, 'posix', '--versioning-dir', join(dir, 'versions'), join(dir, 'data')], {
    ROOT_ACCESS_KEY: credentials.accessKeyId,
    ROOT_SECRET_KEY: credentials.secretAccessKey,
  });
  await waitForPort(port!, 'versitygw', child, output);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentials,
    async stop() {
      await stopChild(child, 'versitygw');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
