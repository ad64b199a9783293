import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devTlsPaths, readDevStackFile, removeDevStackFile, stateDirFrom, writeDevStackFile, type DevStackFile } from '../cli/dev-stack-file.js';
import { isZtmintError } from '../errors/ztmint-error.js';

describe('dev-stack.json', () => {
  it('round-trips, and a missing file says how to start a stack', async () => {
    const state = await mkdtemp(join(tmpdir(), 'ztmint-devstack-'));
    const stack: DevStackFile = {
      version: 1,
      state,
      issuer: 'http://127.0.0.1:1',
      coordinator: { url: 'http://127.0.0.1:2', replicas: ['http://127.0.0.1:2'], pids: [2] },
      signers: [{ index: 1, url: 'https://127.0.0.1:3', pid: 3 }],
      tls: devTlsPaths(state),
    };
    await writeDevStackFile(stack);
    expect(readDevStackFile(state)).toEqual(stack);
    await removeDevStackFile(state);
    let err: unknown;
    try {
      readDevStackFile(state);
    } catch (e) {
      err = e;
    }
    expect(isZtmintError(err, 'dev_stack_not_running')).toBe(true);
    expect((err as Error).message).toContain(`ztmint dev --state ${state}`);
  });

  it('takes the state directory from --state, else ZTMINT_STATE, else says what to pass', () => {
    expect(stateDirFrom({ state: '/a' }, { ZTMINT_STATE: '/b' })).toBe('/a');
    expect(stateDirFrom({}, { ZTMINT_STATE: '/b' })).toBe('/b');
    expect(() => stateDirFrom({}, {})).toThrow(/--state DIR/);
  });
});
