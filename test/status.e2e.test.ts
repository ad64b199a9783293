// `ztmint status --state DIR [--json]` against a live `ztmint dev --state DIR`: every signer's
// reachability, group key, share version, policy revisions, certificate expiry, attestation and
// insecure settings; the coordinator's readiness, store health and warnings; a stopped signer is
// reported unreachable (and the command still answers, within its bounds).
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackStatus } from '../cli/status.js';
import { CLI, killPid, startDevStack, type DevStack } from './helpers/dev-stack.js';

let stack: DevStack;

beforeAll(async () => {
  stack = await startDevStack();
});
afterAll(async () => {
  await stack?.stop();
});

function status(args: string[] = ['--json']): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'status', '--state', stack.state, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ztmint status', () => {
  it('shows every field of a healthy dev stack', async () => {
    const r = status();
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as StackStatus;
    const readyz = (await (await fetch(`${stack.coordinator}/readyz`)).json()) as { policy: string };
    expect(s.state).toBe(stack.state);
    expect(s.signers.map((x) => x.name)).toEqual(['signer-1', 'signer-2', 'signer-3']);
    const groupKeys = new Set(s.signers.map((x) => x.group_public_key));
    expect(groupKeys.size).toBe(1);
    for (const signer of s.signers) {
      expect(signer).toMatchObject({ reachable: true, attestation: 'none', token_issuer: stack.coordinator, oidc_issuers: [stack.issuer], policy_revisions: [readyz.policy] });
      expect(signer.share_version).toMatch(/^[0-9a-f]{16}$/);
      expect(Date.parse(signer.certificate_not_after!)).toBeGreaterThan(Date.now());
      // The dev stack makes two insecure choices on purpose, and says so.
      expect(signer.insecure!.join('\n')).toMatch(/file key provider/);
      expect(signer.insecure!.join('\n')).toMatch(/is not https:\/\//);
    }
    expect(new Set(s.signers.map((x) => x.share_version)).size).toBe(3);
    expect(s.coordinators).toHaveLength(1);
    const c = s.coordinators[0]!;
    expect(c).toMatchObject({ url: stack.coordinator, reachable: true, ready: true });
    expect(c.readiness).toMatchObject({ ready: true, threshold: 2, signers_agreeing: 3, disagreeing: [], store: { ok: true } });
    expect((c.readiness!.warnings as string[]).join('\n')).toMatch(/is not https:\/\//);
    expect(s.warnings.filter((w) => /INSECURE/.test(w)).length).toBeGreaterThanOrEqual(4);

    const text = status([]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/coordinator http:\/\/127\.0\.0\.1:\d+: ready/);
    expect(text.stdout).toMatch(/signer-2 https:\/\/127\.0\.0\.1:\d+: reachable; group key /);
  });

  it('a stopped signer shows unreachable, the rest stay reachable', async () => {
    await killPid(stack.signers[1]!.pid);
    const r = status();
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as StackStatus;
    expect(s.signers.map((x) => [x.name, x.reachable])).toEqual([
      ['signer-1', true],
      ['signer-2', false],
      ['signer-3', true],
    ]);
    expect(s.signers[1]!.error).toMatch(/signer-2 unreachable/);
    expect(s.warnings).toContainEqual(expect.stringMatching(/^signer-2 is unreachable/));
    // Two of three still agree: the coordinator stays ready, and names the missing one.
    expect(s.coordinators[0]!.readiness).toMatchObject({ ready: true, signers_reachable: 2 });
    expect(status([]).stdout).toMatch(/signer-2 https:\/\/127\.0\.0\.1:\d+: UNREACHABLE/);
  });

  it('without a running stack, says how to start one', () => {
    const r = spawnSync(process.execPath, [CLI, 'status', '--state', '/nonexistent-ztmint-state'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ztmint dev --state /nonexistent-ztmint-state');
  });
});
