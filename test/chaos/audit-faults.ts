// Ways to make the coordinator's audit log unwritable while it runs. As root, chmod does not stop
// writes, so each fault is one the kernel enforces even for root:
//   immutable  chattr +i on audit.jsonl: the coordinator's open fd gets EPERM on write (and a
//              restart's open(…, 'a') fails). Needs CAP_LINUX_IMMUTABLE and a filesystem that
//              enforces the flag on open fds (ext4 does; tmpfs accepts the flag but still writes).
//   enospc     the audit directory is its own small filesystem: a loop-mounted ext4 image
//              (mkfs.ext4 + mount -o loop) or, failing that, a tmpfs (both need CAP_SYS_ADMIN);
//              a filler file takes every free block, so appends fail with ENOSPC, possibly after a
//              short write into the last partly used block, as on a real full disk.
//   efbig      prlimit --fsize on the coordinator process (RLIMIT_FSIZE; Node ignores SIGXFSZ), a
//              little above the log's current size: an append crossing it is cut short, the next
//              ones fail with EFBIG. Works unprivileged on one's own processes.
// Each probe tries the real thing on a scratch file and reports whether it works here.
import { spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, open, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim() };
}

async function appendFails(file: string): Promise<string | undefined> {
  const fh = await open(file, constants.O_WRONLY | constants.O_APPEND);
  try {
    await fh.write('x');
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error';
  } finally {
    await fh.close();
  }
}

/** chattr +i works here and stops an append through an fd opened before it was set. */
export async function probeImmutable(dir: string): Promise<{ ok: boolean; note: string }> {
  const probe = join(dir, '.chaos-immutable-probe');
  await writeFile(probe, '');
  const fh = await open(probe, 'a');
  try {
    const set = run('chattr', ['+i', probe]);
    if (!set.ok) return { ok: false, note: `chattr +i failed: ${set.out}` };
    let code: string | undefined;
    try {
      await fh.write('x');
    } catch (err) {
      code = (err as NodeJS.ErrnoException).code;
    }
    run('chattr', ['-i', probe]);
    return code ? { ok: true, note: `chattr +i → ${code} on an open fd` } : { ok: false, note: 'chattr +i did not stop writes' };
  } finally {
    await fh.close();
    run('chattr', ['-i', probe]);
    await rm(probe, { force: true });
  }
}

export function setImmutable(file: string, on: boolean): void {
  const r = run('chattr', [on ? '+i' : '-i', file]);
  if (!r.ok) throw new Error(`chattr ${on ? '+i' : '-i'} ${file}: ${r.out}`);
}

/**
 * Gives `dir` a small filesystem of its own: a loop-mounted ext4 image (`image`, created) when
 * possible, else a tmpfs. Checks that filling it really makes appends fail with ENOSPC.
 */
export async function mountSmallFs(dir: string, image: string, sizeMb = 64): Promise<{ ok: boolean; kind?: 'ext4' | 'tmpfs'; note: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const notes: string[] = [];
  const attempts: Array<{ kind: 'ext4' | 'tmpfs'; mount: () => { ok: boolean; out: string } }> = [
    {
      kind: 'ext4',
      mount: () => {
        const make = run('truncate', ['-s', `${sizeMb}M`, image]);
        if (!make.ok) return make;
        const mkfs = run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
        if (!mkfs.ok) return mkfs;
        return run('mount', ['-o', 'loop', image, dir]);
      },
    },
    { kind: 'tmpfs', mount: () => run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir]) },
  ];
  for (const { kind, mount } of attempts) {
    const r = mount();
    if (!r.ok) {
      notes.push(`${kind}: ${r.out.split('\n')[0]}`);
      await rm(image, { force: true });
      continue;
    }
    const probe = join(dir, '.chaos-enospc-probe');
    await writeFile(probe, '');
    const filler = await fill(dir);
    const code = await appendFails(probe);
    await rm(filler, { force: true });
    await rm(probe, { force: true });
    if (code === 'ENOSPC') {
      return { ok: true, kind, note: kind === 'ext4' ? `loop-mounted ext4 (${sizeMb} MB) on the audit directory` : `tmpfs (${sizeMb} MB) on the audit directory` };
    }
    notes.push(`${kind}: a full filesystem answered ${code ?? 'success'} instead of ENOSPC`);
    unmount(dir);
    await rm(image, { force: true });
  }
  return { ok: false, note: `no small filesystem for the audit directory (${notes.join('; ')})` };
}

export function unmount(dir: string): void {
  run('umount', [dir]);
  if (run('mountpoint', ['-q', dir]).ok) run('umount', ['-l', dir]);
}

/** Fills the filesystem holding `dir` with a filler file until ENOSPC; returns the filler's path. */
export async function fill(dir: string): Promise<string> {
  const path = join(dir, '.chaos-filler');
  const fh = await open(path, 'w');
  const chunk = Buffer.alloc(1 << 20);
  try {
    for (let size = chunk.length; ;) {
      try {
        const { bytesWritten } = await fh.write(chunk.subarray(0, size));
        if (bytesWritten < size) size = Math.max(1, size >> 1);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        if (size === 1) break;
        size = Math.max(1, size >> 1);
      }
    }
  } finally {
    await fh.close();
  }
  return path;
}

export function prlimitWorks(): { ok: boolean; note: string } {
  const r = run('prlimit', ['--pid', String(process.pid), '--fsize']);
  return r.ok ? { ok: true, note: 'prlimit --fsize on the coordinator process' } : { ok: false, note: `prlimit unavailable: ${r.out}` };
}

/** Sets RLIMIT_FSIZE (soft) of `pid`; `undefined` lifts it. */
export function setFileSizeLimit(pid: number, bytes: number | undefined): void {
  const r = run('prlimit', ['--pid', String(pid), `--fsize=${bytes ?? 'unlimited'}:unlimited`]);
  if (!r.ok) throw new Error(`prlimit --pid ${pid} --fsize: ${r.out}`);
}

export async function fileSize(file: string): Promise<number> {
  return (await stat(file)).size;
}
