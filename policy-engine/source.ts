// Which policy a service runs: signed bundles with a revisions file (staged rollouts) when a
// bundle directory is configured, else the compiled wasm and its data file (the hash is the revision).
import { BundlePolicySet, type BundleSetOptions } from './bundle-set.js';
import { PolicyHolder, type PolicySource } from './holder.js';

export interface PolicySourceOptions {
  policyWasm: string;
  policyData: string;
  /** Signed bundles instead of policyWasm/policyData. */
  policyBundles?: Omit<BundleSetOptions, 'log'>;
  /** Wasm+data only: refuse any other hash. */
  policyPin?: string;
}

export function loadPolicySource(opts: PolicySourceOptions, log: (msg: string, fields?: Record<string, unknown>, level?: 'info' | 'warn') => void): Promise<PolicySource> {
  if (opts.policyBundles) return BundlePolicySet.load({ ...opts.policyBundles, log });
  return PolicyHolder.load(opts.policyWasm, opts.policyData, log, { pin: opts.policyPin });
}
