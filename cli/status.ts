// `ztmint status`: one look at a running stack. Each signer is asked for GET /v1/info over mTLS
// with the coordinator's client certificate (reachability, group key, share version, accepted
// policy revisions, certificate expiry, attestation, insecure settings); each coordinator replica
// for GET /readyz (readiness, which signers disagree with it and why, store health, warnings).
// Every call is bounded; an unreachable part is reported, never waited for.
import { readFile } from 'node:fs/promises';
import { SignerClient } from '../coordinator/signer-client.js';
import type { SignerInfo } from '../protocol/wire.js';
import type { DevStackFile } from './dev-stack-file.js';

/** Each call's bound: a stopped process answers nothing, a loaded machine answers late. */
const CALL_TIMEOUT_MS = 5_000;
/** A certificate this close to its end is a warning (as `pki status` does). */
const EXPIRY_WARNING_MS = 14 * 24 * 3600 * 1000;

interface SignerStatus {
  name: string;
  url: string;
  reachable: boolean;
  error?: string;
  group_public_key?: string;
  share_version?: string;
  /** Whether it holds a share of the key signing now (GET /v1/info `key_share`); absent from older signers. */
  key_share?: NonNullable<SignerInfo['key_share']>;
  policy_revisions?: string[];
  token_issuer?: string;
  oidc_issuers?: string[];
  certificate_not_after?: string;
  /** "sev-snp" when the signer serves SEV-SNP evidence, else "none". */
  attestation?: 'sev-snp' | 'none';
  insecure?: string[];
}

interface CoordinatorStatus {
  url: string;
  reachable: boolean;
  error?: string;
  ready?: boolean;
  /** The coordinator's GET /readyz document (readiness, agreement per signer, store, warnings). */
  readiness?: Record<string, unknown>;
}

export interface StackStatus {
  state: string;
  coordinators: CoordinatorStatus[];
  signers: SignerStatus[];
  /** Everything an operator should look at, one line each. */
  warnings: string[];
}

async function signerStatus(name: string, url: string, tls: { key: string; cert: string; ca: string }): Promise<SignerStatus> {
  const client = new SignerClient({ name, url }, tls, { timeoutMs: CALL_TIMEOUT_MS, preprocessing: false, connections: 1 });
  try {
    const info: SignerInfo = await client.info();
    return {
      name,
      url,
      reachable: true,
      group_public_key: info.group_public_key,
      ...(info.share_version ? { share_version: info.share_version } : {}),
      ...(info.key_share ? { key_share: info.key_share } : {}),
      ...(info.policy_revisions ? { policy_revisions: info.policy_revisions } : {}),
      ...(info.token_issuer ? { token_issuer: info.token_issuer } : {}),
      ...(info.oidc_issuers ? { oidc_issuers: info.oidc_issuers } : {}),
      ...(info.certificate_not_after ? { certificate_not_after: info.certificate_not_after } : {}),
      attestation: info.attestation ? 'sev-snp' : 'none',
      insecure: info.insecure ?? [],
    };
  } catch (err) {
    return { name, url, reachable: false, error: (err as Error).message };
  } finally {
    await client.close();
  }
}

async function coordinatorStatus(url: string): Promise<CoordinatorStatus> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    const readiness = (await res.json()) as Record<string, unknown>;
    return { url, reachable: true, ready: readiness.ready === true, readiness };
  } catch (err) {
    return { url, reachable: false, error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/** What needs attention, from the collected facts. */
function warningsOf(coordinators: CoordinatorStatus[], signers: SignerStatus[], now: number): string[] {
  const out: string[] = [];
  for (const c of coordinators) {
    if (!c.reachable) out.push(`coordinator ${c.url} is unreachable: ${c.error}`);
    else if (!c.ready) out.push(`coordinator ${c.url} is not ready`);
    const r = c.readiness ?? {};
    for (const d of (r.disagreeing as Array<{ signer: string; code: string; detail: string }> | undefined) ?? []) out.push(`${d.signer} disagrees with coordinator ${c.url} (${d.code}): ${d.detail}`);
    const store = r.store as { ok: boolean; store: string; error?: string } | undefined;
    if (store && !store.ok) out.push(`coordinator ${c.url}: ${store.store} is unhealthy: ${store.error ?? 'no detail'}`);
    for (const w of (r.warnings as string[] | undefined) ?? []) out.push(`coordinator ${c.url}: INSECURE: ${w}`);
  }
  for (const s of signers) {
    if (!s.reachable) {
      out.push(`${s.name} is unreachable: ${s.error}`);
      continue;
    }
    for (const w of s.insecure ?? []) out.push(`${s.name}: INSECURE: ${w}`);
    if (s.key_share && s.key_share.state !== 'held') out.push(`${s.name} signs nothing (${s.key_share.state}): ${s.key_share.detail ?? `no share of key ${s.key_share.kid}`}`);
    const notAfter = s.certificate_not_after ? Date.parse(s.certificate_not_after) : NaN;
    if (notAfter <= now) out.push(`${s.name}: its TLS certificate expired at ${s.certificate_not_after}`);
    else if (notAfter - now < EXPIRY_WARNING_MS) out.push(`${s.name}: its TLS certificate expires at ${s.certificate_not_after} (in less than 14 days)`);
  }
  return out;
}

/** Collects the status of the stack described by `stack` (its dev-stack.json). */
export async function collectStatus(stack: DevStackFile, now = Date.now()): Promise<StackStatus> {
  const [ca, cert, key] = await Promise.all([readFile(stack.tls.ca, 'utf8'), readFile(stack.tls.client_cert, 'utf8'), readFile(stack.tls.client_key, 'utf8')]);
  const replicas = stack.coordinator.replicas.length ? stack.coordinator.replicas : [stack.coordinator.url];
  const [coordinators, signers] = await Promise.all([
    Promise.all(replicas.map((url) => coordinatorStatus(url))),
    Promise.all(stack.signers.map((s) => signerStatus(`signer-${s.index}`, s.url, { ca, cert, key }))),
  ]);
  return { state: stack.state, coordinators, signers, warnings: warningsOf(coordinators, signers, now) };
}

/** The status as lines for a person. */
export function formatStatus(status: StackStatus): string {
  const lines = [`state ${status.state}`];
  for (const c of status.coordinators) {
    const r = c.readiness ?? {};
    const store = r.store as { ok: boolean; store: string } | undefined;
    lines.push(
      c.reachable
        ? `coordinator ${c.url}: ${c.ready ? 'ready' : 'NOT READY'} (${String(r.signers_agreeing)} of ${String((r.signers as unknown[] | undefined)?.length ?? '?')} signers agree, threshold ${String(r.threshold)}; policy ${String(r.policy)}; ${store ? `${store.store} ${store.ok ? 'ok' : 'UNHEALTHY'}` : 'store not reported'})`
        : `coordinator ${c.url}: UNREACHABLE (${c.error})`,
    );
  }
  for (const s of status.signers) {
    lines.push(
      s.reachable
        ? `${s.name} ${s.url}: reachable; group key ${s.group_public_key}; ${s.key_share && s.key_share.state !== 'held' ? `NO SHARE (${s.key_share.state})` : `share ${s.share_version ?? '?'}`}; policy ${(s.policy_revisions ?? ['?']).join(', ')}; certificate until ${s.certificate_not_after ?? '?'}; attestation ${s.attestation}`
        : `${s.name} ${s.url}: UNREACHABLE (${s.error})`,
    );
  }
  lines.push(status.warnings.length ? `warnings:\n${status.warnings.map((w) => `  - ${w}`).join('\n')}` : 'warnings: none');
  return lines.join('\n');
}
