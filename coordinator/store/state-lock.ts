// One process per state directory: the embedded store takes an exclusive flock(2) on
// <state>/coordinator.lock. The kernel drops the lock when the process dies, however it dies, so a
// crash never leaves the directory blocked; the file's content (pid, host, start time) only serves
// to name the holder in the refusal. fs-ext is the maintained binding for flock(2): Node has none.
import { flockSync } from 'fs-ext';
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ZtmintError } from '../../errors/ztmint-error.js';

const LOCK_FILE = 'coordinator.lock';

export interface StateLock {
  release(): void;
}

/** Takes the lock or throws `state_locked` naming the process that holds it. */
export function lockStateDirectory(state: string): StateLock {
  const path = join(state, LOCK_FILE);
  const fd = openSync(path, 'a+', 0o600);
  try {
    flockSync(fd, 'exnb');
  } catch (err) {
    closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') throw err;
    throw new ZtmintError(
      'state_locked',
      `state directory ${state} is in use by another coordinator (${describeHolder(path)}); ` + 'stop it first, or run replicas on a shared database with --store postgres://…',
    );
  }
  ftruncateSync(fd, 0);
  writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }) + '\n', 0);
  return {
    release() {
      closeSync(fd); // closing the last fd drops the flock
    },
  };
}

function describeHolder(path: string): string {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as { pid?: number; host?: string; since?: string };
    return `pid ${holder.pid} on ${holder.host}, since ${holder.since}`;
  } catch {
    return 'holder unknown';
  }
}
