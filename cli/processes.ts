// Child service processes for the dev stack: each prints one JSON ready line on stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI_BIN } from './paths.js';

interface ReadyLine {
  url: string;
  pid: number;
  [key: string]: unknown;
}

export interface Service {
  child: ChildProcess;
  ready: ReadyLine;
}

/**
 * How long a local service may take to print its ready line. Starting node, loading the modules and
 * unsealing a share take a second on an idle machine but can take well over 30 s on a loaded one
 * (a CI runner, a laptop building something else); a service that fails exits, and that is reported
 * at once, so this bound only decides when a process that is neither ready nor dead is given up.
 */
const SERVICE_READY_TIMEOUT_MS = 90_000;

export function spawnService(args: string[], label: string, timeoutMs = SERVICE_READY_TIMEOUT_MS): Promise<Service> {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} did not become ready within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve({ child, ready: JSON.parse(line) as ReadyLine });
      } catch {
        reject(new Error(`${label} printed an unexpected first line`));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited before it was ready (${signal ?? `code ${code}`})`));
    });
  });
}

/** A port that is free now, for a service whose URL must be known before it starts. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
