// Audits a rotated key's activation and retirement when they happen (key_published is audited by
// the rotation itself, before it answers): a tick every second, each transition once, marked in
// <state>/keys.json after its audit record is durable. docs/keys.md.
import type { AuditEntry } from './audit.js';
import type { KeySet } from './key-set.js';

export function startKeyTransitionAudit(
  keys: KeySet,
  append: (entry: AuditEntry) => Promise<number>,
  now: () => number,
  log: (msg: string, fields?: Record<string, unknown>) => void,
  intervalMs = 1000,
) {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      keys.refresh();
      for (const { event, key } of keys.due(Math.floor(now() / 1000))) {
        const at = event === 'key_activated' ? key.activates_at : event === 'key_retired' ? key.retires_at : key.published_at;
        await append({ event, kid: key.kid, group_public_key: key.group.group_public_key, at });
        await keys.markAudited(key.kid, event);
      }
    } catch (err) {
      // Retried at the next tick: a transition is marked only once its record is durable.
      log('key transition audit failed; retrying', { error: (err as Error).message });
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
