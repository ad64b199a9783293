// How a service process stops on SIGTERM/SIGINT: in-flight requests finish and files are closed,
// but within a bound. A graceful close can wait on a peer (a keep-alive connection mid-request, a
// slow fdatasync); a supervisor (systemd, Kubernetes, the test harness) then waits too and kills
// the process anyway, without a word. So after `graceMs` the process says what it was waiting for
// and exits; a second signal exits at once.
import type { Server } from 'node:http';

export interface ShutdownOptions {
  graceMs: number;
  /** The listening server, so that connections still open at the deadline can be named and cut. */
  server?: () => Server | undefined;
  warn?: (line: string) => void;
  exit?: (code: number) => void;
}

export const SHUTDOWN_GRACE_MS = 5_000;

/** The signal handler: closes once, bounded by `graceMs`; a second signal exits at once. */
export function shutdownHandler(close: () => Promise<unknown>, opts: ShutdownOptions): (signal: NodeJS.Signals) => void {
  const warn = opts.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      warn(`ztmint: ${signal} again: exiting without waiting for the graceful close`);
      exit(1);
      return;
    }
    stopping = true;
    const deadline = setTimeout(() => {
      const server = opts.server?.();
      server?.getConnections((err, count) => {
        warn(`ztmint: graceful close did not finish within ${opts.graceMs} ms${err ? '' : ` (${count} connection(s) still open)`}: closing them and exiting`);
        server.closeAllConnections();
        exit(1);
      });
      if (!server) {
        warn(`ztmint: graceful close did not finish within ${opts.graceMs} ms: exiting`);
        exit(1);
      }
    }, opts.graceMs);
    deadline.unref();
    void close()
      .catch((err: unknown) => warn(`ztmint: error while closing: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        clearTimeout(deadline);
        exit(0);
      });
  };
  return handler;
}

export function closeOnSignal(close: () => Promise<unknown>, opts: ShutdownOptions = { graceMs: SHUTDOWN_GRACE_MS }): void {
  const handler = shutdownHandler(close, opts);
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
