// Every line the Action writes to the job log goes through here: secrets the step has seen
// are redacted, then `logSafe` (log-text.ts) makes sure no line can be a workflow command,
// whatever outside text the message holds. The runner's own masking stays the first line of
// defence; this covers what it cannot (text that would become a command before masking).
import { logSafe } from './log-text.js';
import type { Core } from './run.js';
import type { Secrets } from './secrets.js';

export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  /** Fails the step with this message (`core.setFailed`). */
  fail(message: string): void;
  /** A collapsed group of lines. */
  group(name: string, lines: readonly string[]): void;
}

export function safeLog(core: Pick<Core, 'info' | 'warning' | 'debug' | 'setFailed' | 'startGroup' | 'endGroup'>, secrets: Secrets): Log {
  const safe = (message: string): string => logSafe(secrets.redact(message));
  return {
    info: (message) => core.info(safe(message)),
    warning: (message) => core.warning(safe(message)),
    debug: (message) => core.debug(safe(message)),
    fail: (message) => core.setFailed(safe(message)),
    group: (name, lines) => {
      core.startGroup(safe(name));
      try {
        for (const line of lines) core.info(safe(line));
      } finally {
        core.endGroup();
      }
    },
  };
}
