// The policy in force, swapped atomically when the bundle or its data changes on disk (polled,
// and on SIGHUP). A request evaluates against the policy it started with; a broken new bundle
// is refused and the old one stays. With a pin, only a bundle of that exact hash is ever used
// (signers: the policy they enforce is distributed hash-pinned).
import { watchFile, unwatchFile } from 'node:fs';
import { loadPolicyFiles, type LoadedPolicy } from './evaluate.js';

/** The policies a service holds: the wasm+data pair here, or signed bundles (./bundle-set.ts). */
export interface PolicySource {
  /** The policy new mints use (the coordinator's choice; a signer's first accepted revision). */
  readonly current: LoadedPolicy;
  /** The policy of this revision if it is accepted here (a signer evaluates the token's `pol`). */
  accepted(revision: string): LoadedPolicy | undefined;
  /** Every revision accepted here, in order of preference. */
  acceptedRevisions(): string[];
  reload(): Promise<boolean>;
  /** Starts watching the files; returns a stop function. */
  watch(intervalMs?: number): () => void;
}

export class PolicyHolder implements PolicySource {
  private constructor(
    private policy: LoadedPolicy,
    private readonly wasmPath: string,
    private readonly dataPath: string,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void,
    private readonly pin?: string,
  ) {}

  static async load(wasmPath: string, dataPath: string, log: PolicyHolder['log'] = () => {}, opts: { pin?: string } = {}): Promise<PolicyHolder> {
    const policy = await loadPolicyFiles(wasmPath, dataPath);
    if (opts.pin && policy.hash !== opts.pin) {
      throw new Error(`policy bundle hash ${policy.hash} is not the pinned ${opts.pin}; deploy the pinned bundle or change the pin`);
    }
    log('policy loaded', { policy: policy.hash, pinned: !!opts.pin });
    return new PolicyHolder(policy, wasmPath, dataPath, log, opts.pin);
  }

  get current(): LoadedPolicy {
    return this.policy;
  }

  accepted(revision: string): LoadedPolicy | undefined {
    return revision === this.policy.revision ? this.policy : undefined;
  }

  acceptedRevisions(): string[] {
    return [this.policy.revision];
  }

  async reload(): Promise<boolean> {
    try {
      const next = await loadPolicyFiles(this.wasmPath, this.dataPath);
      if (this.pin && next.hash !== this.pin) {
        this.log('policy reload refused: not the pinned hash', { policy: this.policy.hash, offered: next.hash });
        return false;
      }
      if (next.hash !== this.policy.hash) {
        this.log('policy reloaded', { from: this.policy.hash, to: next.hash });
        this.policy = next;
        return true;
      }
    } catch (err) {
      this.log('policy reload refused; keeping the current policy', { error: (err as Error).message, policy: this.policy.hash });
    }
    return false;
  }

  /** Polls both files (robust across editors' rename-on-save); returns a stop function. */
  watch(intervalMs = 1_000): () => void {
    const onChange = () => void this.reload();
    watchFile(this.wasmPath, { interval: intervalMs }, onChange);
    watchFile(this.dataPath, { interval: intervalMs }, onChange);
    return () => {
      unwatchFile(this.wasmPath, onChange);
      unwatchFile(this.dataPath, onChange);
    };
  }
}
