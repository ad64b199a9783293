// A service asked to stop exits within its grace period even when the graceful close hangs (a
// peer holding a connection mid-request, a stuck fdatasync): otherwise a supervisor waits in vain
// (the chaos suite once saw a signer ignore SIGTERM for 10 s).
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { shutdownHandler } from '../cli/shutdown.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.closeAllConnections();
});

function exited(): { exit: (code: number) => void; code: Promise<number> } {
  let exit!: (code: number) => void;
  const code = new Promise<number>((resolve) => (exit = resolve));
  return { exit, code };
}

describe('shutdownHandler', () => {
  it('exits 0 once the graceful close finishes', async () => {
    const e = exited();
    shutdownHandler(async () => undefined, { graceMs: 60_000, exit: e.exit, warn: () => {} })('SIGTERM');
    expect(await e.code).toBe(0);
  });

  it('exits 1 after the grace period when the close never finishes, naming the open connections', async () => {
    // A server with a request that never gets an answer: server.close() alone would wait forever.
    const server = createServer(() => {});
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const req = request({ host: '127.0.0.1', port, path: '/' });
    req.on('error', () => {});
    req.end();
    await new Promise<void>((resolve) => server.once('request', () => resolve()));

    const e = exited();
    const warnings: string[] = [];
    const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
    shutdownHandler(close, { graceMs: 200, server: () => server, exit: e.exit, warn: (l) => warnings.push(l) })('SIGTERM');
    expect(await e.code).toBe(1);
    expect(warnings.join('\n')).toMatch(/graceful close did not finish within 200 ms \(1 connection\(s\) still open\)/);
  });

  it('a second signal exits at once', async () => {
    const e = exited();
    const handler = shutdownHandler(() => new Promise(() => {}), { graceMs: 60_000, exit: e.exit, warn: () => {} });
    handler('SIGTERM');
    handler('SIGINT');
    expect(await e.code).toBe(1);
  });
});
