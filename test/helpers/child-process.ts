// Bounded waits on the child processes e2e tests start: every wait here has a deadline and fails
// with a message naming the process and what it printed, instead of hanging until vitest's timeout
// (which says nothing, and leaves the process running into the next test). On a busy machine the
// deadlines are generous; they exist so that a hang is an error, not so that slowness is one.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Time for one `ztmint` service process to print its ready line on a loaded machine (node start, TLS, unseal). */
export const READY_TIMEOUT_MS = 90_000;
/** `ztmint dev`: signers in parallel, then the coordinator, each within SERVICE_READY_TIMEOUT_MS (90 s). */
export const DEV_STACK_READY_TIMEOUT_MS = 240_000;
/** After SIGTERM, time to shut down cleanly before SIGKILL. */
const TERM_GRACE_MS = 10_000;
/** After SIGKILL, time for the kernel and node to report the exit. */
const KILL_WAIT_MS = 10_000;

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Resolves when `child` has exited, or after `ms` with false. */
export function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * The first stdout line of `child`, parsed as JSON (ztmint's ready line). Rejects, and kills the
 * child, when it exits first or prints nothing within `timeoutMs`; `output()` is what it printed.
 * Later lines go to `onLaterLine`: stdout is read to the end either way, so the child never blocks
 * on a full pipe (its writes to a pipe are synchronous).
 */
export function readyLine<T = Record<string, unknown>>(
  child: ChildProcess,
  label: string,
  output: () => string,
  timeoutMs = READY_TIMEOUT_MS,
  onLaterLine: (line: string) => void = () => {},
): Promise<T> {
  const lines = createInterface({ input: child.stdout! });
  let first = true;
  return new Promise<T>((resolve, reject) => {
    const done = (fn: () => void) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      fn();
    };
    const timer = setTimeout(
      () =>
        done(() => {
          child.kill('SIGKILL');
          reject(new Error(`${label} printed no ready line within ${timeoutMs / 1000} s (killed):\n${output()}`));
        }),
      timeoutMs,
    );
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      // Let the stderr pipe drain a moment so the message names the cause.
      setTimeout(() => done(() => reject(new Error(`${label} exited before it was ready (${signal ?? `code ${code}`}):\n${output()}`))), 50);
    lines.on('line', (line) => {
      if (!first) return onLaterLine(line);
      first = false;
      done(() => {
        try {
          resolve(JSON.parse(line) as T);
        } catch {
          child.kill('SIGKILL');
          reject(new Error(`${label} printed an unexpected first line: ${line}`));
        }
      });
    });
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL if it is still there after a grace period; throws if even that does not end it. */
export async function stopChild(child: ChildProcess, label: string, graceMs = TERM_GRACE_MS): Promise<void> {
  if (exited(child)) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, graceMs)) return;
  child.kill('SIGKILL');
  if (!(await waitForExit(child, KILL_WAIT_MS))) throw new Error(`${label} (pid ${child.pid}) did not exit on SIGTERM nor on SIGKILL`);
}
