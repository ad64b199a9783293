// The packaging under deploy/ (Kubernetes manifests rendered with kustomize, systemd units) passes
// the real validators: runs scripts/ci-deploy.sh (kustomize build, kubeconform -strict against
// offline schemas, systemd-analyze verify and security), which installs its tools once per machine.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

describe('deploy/ validates', () => {
  it('kustomize + kubeconform on every overlay, systemd-analyze on the units', () => {
    const run = spawnSync('bash', [join(ROOT, 'scripts', 'ci-deploy.sh')], { encoding: 'utf8', timeout: 1_500_000 });
    const output = `${run.stdout}${run.stderr}`;
    expect(run.status, output).toBe(0);
    expect(output).toMatch(/Valid: \d+, Invalid: 0, Errors: 0, Skipped: 0/);
    expect(output).not.toMatch(/Skipped: [1-9]/);
    expect(output).toContain('negative control: misspelt fields are refused');
    expect(output).toContain('negative control: a misspelt unit directive is reported');
    expect(output).toMatch(/Overall exposure level for ztmint-signer@1\.service: [0-9.]+ OK/);
    expect(output).toMatch(/Overall exposure level for ztmint-coordinator\.service: [0-9.]+ OK/);
  }, 1_600_000);
});
