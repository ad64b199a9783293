// litewitness (filippo.io/torchwood, a C2SP tlog-witness) for the witness tests: built once per
// machine by scripts/build-tlog-peers.sh, started in a temporary directory on a free loopback
// port with a fresh Ed25519 key held by its own ssh-agent; every wait bounded.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
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

function started(cmd: string, args: string[]) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  child.stdout!.on('data', (c: Buffer) => (printed = (printed + c.toString()).slice(-20_000)));
  child.stderr!.on('data', (c: Buffer) => (printed = (printed + c.toString()).slice(-20_000)));
  return { child, output: () => printed };
}

async function waitForPort(port: number, what: string, child: ReturnType<typeof spawn>, output: () => string): Promise<void> {
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

export interface Witness {
  url: string;
  /** The witness's cosigner verifier key (type 0x04), as it logs it. */
  vkey: string;
  name: string;
  /** Makes the witness know the log `origin` with the note verifier key `logKey` (witnessctl). */
  addLog(origin: string, logKey: string): void;
  stop(): Promise<void>;
}

/** litewitness with a fresh Ed25519 key in its own ssh-agent. */
export async function startWitness(name = 'witness.ztmint.test'): Promise<Witness> {
  const peers = buildPeers();
  const dir = await mkdtemp(join(tmpdir(), 'ztmint-witness-'));
  const key = join(dir, 'witness-key');
  const sock = join(dir, 'agent.sock');
  const db = join(dir, 'litewitness.db');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ztmint-test-witness', '-f', key]);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${key}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  const agent = started('ssh-agent', ['-D', '-a', sock]);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      execFileSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'pipe' });
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`ssh-agent did not take the key: ${(err as Error).message}\n${agent.output()}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // The schema is created by litewitness on start; witnessctl runs after that.
  const [port] = await freePorts(1);
  const witness = started(peers.litewitness!, ['-db', db, '-name', name, '-key', fingerprint, '-ssh-agent', sock, '-listen', `127.0.0.1:${port}`]);
  await waitForPort(port!, 'litewitness', witness.child, witness.output);
  const vkey = /vkey=(\S+)/.exec(witness.output())?.[1];
  if (!vkey) throw new Error(`litewitness printed no verifier key:\n${witness.output()}`);
  return {
    url: `http://127.0.0.1:${port}`,
    vkey: vkey.replace(/^"|"$/g, ''),
    name,
    addLog(origin, logKey) {
      execFileSync(peers.witnessctl!, ['add-log', '-db', db, '-origin', origin], { stdio: 'pipe' });
      execFileSync(peers.witnessctl!, ['add-key', '-db', db, '-origin', origin, '-key', logKey], { stdio: 'pipe' });
    },
    async stop() {
      await stopChild(witness.child, 'litewitness');
      await stopChild(agent.child, 'ssh-agent');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
