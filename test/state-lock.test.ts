// The embedded store's exclusive lock on the state directory: a second holder is refused with a
// message naming the first; the lock is free again once released (the kernel frees it on exit).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../coordinator/store/embedded-store.js';
import { lockStateDirectory } from '../coordinator/store/state-lock.js';

describe('state directory lock', () => {
  it('refuses a second holder, naming the first, until the first releases it', async () => {
    const state = await mkdtemp(join(tmpdir(), 'ztmint-lock-'));
    const first = lockStateDirectory(state);
    expect(() => lockStateDirectory(state)).toThrow(new RegExp(`in use by another coordinator \\(pid ${process.pid} on `));
    try {
      lockStateDirectory(state);
    } catch (err) {
      expect(err).toMatchObject({ code: 'state_locked' });
    }
    first.release();
    lockStateDirectory(state).release();
  });

  it('keeps a second embedded store off a directory in use; the first keeps appending', async () => {
    const state = await mkdtemp(join(tmpdir(), 'ztmint-lock-'));
    const store = await openEmbeddedStore({ state });
    await expect(openEmbeddedStore({ state })).rejects.toMatchObject({ code: 'state_locked' });
    expect(await store.audit.append({ event: 'mint', jti: 'a' })).toBe(0);
    await store.close();
    const again = await openEmbeddedStore({ state });
    expect(await again.audit.append({ event: 'mint', jti: 'b' })).toBe(1);
    await again.close();
  });

  it('rebuilds the OIDC replay set from the audit log, so a restart does not forget a used token', async () => {
    const state = await mkdtemp(join(tmpdir(), 'ztmint-lock-'));
    const now = 1_800_000_000;
    const store = await openEmbeddedStore({ state, now: () => now * 1000 });
    const iss = 'https://issuer.example';
    expect(await store.replay.claim(iss, 'used', now + 300)).toBe(true);
    await store.audit.append({ event: 'mint', oidc: { iss, sub: 's', jti: 'used', exp: now + 300 } });
    await store.audit.append({ event: 'deny', oidc: { iss, sub: 's', jti: 'expired', exp: now - 3600 } });
    await store.close();
    const reopened = await openEmbeddedStore({ state, now: () => now * 1000 });
    expect(await reopened.replay.claim(iss, 'used', now + 300)).toBe(false);
    expect(await reopened.replay.claim(iss, 'expired', now + 300)).toBe(true);
    expect(await reopened.replay.claim('https://other.example', 'used', now + 300)).toBe(true);
    await reopened.close();
  });
});
