// The Rego policy compiled to WebAssembly, evaluated with opa-wasm. The decision document is
// validated before use: anything malformed counts as a denial.
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { readFile } from 'node:fs/promises';
import { policyHash } from './hash.js';
import { wellFormedPolicyInput } from './well-formed.js';
import type { MintDecision } from '../protocol/token.js';
import type { MintRequest } from '../protocol/wire.js';

export const DECISION_ENTRYPOINT = 'ztmint/mint/decision';

export interface LoadedPolicy {
  /** SHA-256 over the wasm and the data bytes (policy-engine/hash.ts); bound in SEV-SNP evidence. */
  hash: string;
  /** What the token's `pol` claim names: a bundle's manifest revision, else the hash. */
  revision: string;
  evaluate(claims: Record<string, unknown>, request: MintRequest): MintDecision;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

export function toDecision(result: unknown, failure = 'policy returned no decision'): MintDecision {
  const doc = (Array.isArray(result) ? (result[0] as { result?: unknown } | undefined)?.result : undefined) as Partial<MintDecision> | undefined;
  const reasons = isStringArray(doc?.reasons) ? doc.reasons : [];
  const wellFormed = !!doc && typeof doc.allow === 'boolean' && isStringArray(doc.scopes) && Number.isInteger(doc.ttl) && (doc.ttl as number) > 0 && typeof doc.audience === 'string';
  if (!wellFormed) return { allow: false, scopes: [], ttl: 0, audience: '', reasons: reasons.length ? reasons : [failure] };
  if (doc.allow && (doc.scopes!.length === 0 || reasons.length > 0)) {
    return { allow: false, scopes: [], ttl: 0, audience: '', reasons: ['policy returned an inconsistent decision'] };
  }
  return { allow: doc.allow!, scopes: doc.scopes!, ttl: doc.ttl!, audience: doc.audience!, reasons };
}

export async function loadPolicyFiles(wasmPath: string, dataPath: string): Promise<LoadedPolicy> {
  const wasm = await readFile(wasmPath);
  const dataBytes = await readFile(dataPath);
  const data: unknown = JSON.parse(dataBytes.toString('utf8'));
  const hash = policyHash(wasm, dataBytes);
  return loadPolicyModule(wasm, { ztmint: data }, hash, hash);
}

/** A compiled policy with its whole data document (`data`, so the policy's data sits under `ztmint`). */
export async function loadPolicyModule(wasm: Uint8Array, dataDocument: unknown, hash: string, revision: string): Promise<LoadedPolicy> {
  const policy = await loadPolicy(wasm);
  if (!(DECISION_ENTRYPOINT in (policy.entrypoints as Record<string, number>))) throw new Error(`the policy wasm has no entrypoint ${DECISION_ENTRYPOINT}`);
  policy.setData(dataDocument as object);
  return {
    hash,
    revision,
    evaluate: (claims, request) => {
      try {
        // Callers normalise already (the token must carry what the policy saw); this makes sure.
        return toDecision(policy.evaluate(wellFormedPolicyInput(claims, request), DECISION_ENTRYPOINT));
      } catch {
        // opa-wasm throws (strings, not Errors) on builtin failures: that is a denial, never a crash.
        return toDecision(undefined, 'policy evaluation failed on this input');
      }
    },
  };
}
