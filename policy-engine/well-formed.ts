// Policy input is made well-formed Unicode before any evaluation, by this one function, in the
// coordinator and in every signer. JSON may carry lone UTF-16 surrogates ("\ud800"), and the two
// OPA engines disagree on them: opa-wasm's JSON reader throws (the mint would be denied as
// "policy evaluation failed") or folds "\ud800\ud800" into one wrong character, while OPA itself
// (Go's encoding/json) reads each unpaired surrogate as U+FFFD. We do what OPA does, so the
// compiled policy decides exactly as `opa eval` / `opa test` do on the same JSON, and the minted
// token carries the claims the policy saw. See docs/policy.md, "Unicode".
import type { MintRequest } from '../protocol/wire.js';

/** String.prototype.toWellFormed (ES2024, Node >= 20): each unpaired surrogate becomes U+FFFD. */
function wellFormedString(value: string): string {
  return (value as string & { toWellFormed(): string }).toWellFormed();
}

/**
 * A deep copy of a JSON value with every string (object keys included) well-formed. Keys that
 * become equal keep the last value, as Go's decoder does. Non-string leaves are kept as they
 * are; the input is not modified.
 */
export function toWellFormedJson<T>(value: T): T {
  if (typeof value === 'string') return wellFormedString(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => toWellFormedJson(item)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty, not assignment: a "__proto__" key stays data and never sets a prototype.
      Object.defineProperty(out, wellFormedString(key), { value: toWellFormedJson(item), enumerable: true, writable: true, configurable: true });
    }
    return out as T;
  }
  return value;
}

/** The policy input (verified OIDC claims and the mint request) as every evaluator must see it. */
export function wellFormedPolicyInput(claims: Record<string, unknown>, request: MintRequest): { claims: Record<string, unknown>; request: MintRequest } {
  return { claims: toWellFormedJson(claims), request: toWellFormedJson(request) };
}
