// What the coordinator's routes share: its parts, passed in so tests can wire them differently.
import type { GroupInfo } from '../protocol/ciphersuite.js';
import type { AttestationGate } from './attestation-gate.js';
import type { AuditEntry, AuditLog } from './audit.js';
import type { KeySet } from './key-set.js';
import type { Metrics } from './metrics.js';
import type { OidcVerifier } from '../oidc/verifier.js';
import type { PolicySource } from '../policy-engine/holder.js';
import type { SigningGate } from './signing-gate.js';
import type { SignerClient } from './signer-client.js';
import type { MintRateLimiter, RevocationSet, StoreHealth } from './store/state-store.js';
import type { TlogStore } from './store/tlog-store.js';
import type { CheckpointHook, Checkpointer } from './tlog/checkpointer.js';
import type { WitnessEndpoint } from '../transparency/witness-client.js';
import type { TransparencyProof } from './tlog/proof.js';

export interface CoordinatorDeps {
  /** This coordinator's issuer URL (the `iss` of minted tokens), known once it listens. */
  issuer: () => string;
  /** The first key (group.json); `keys` holds every key once a rotation ran. */
  group: GroupInfo;
  /** The key set with its schedule (docs/keys.md); default: `group` alone. */
  keys?: KeySet;
  /** Holds signing runs of a key while its shares change (coordinator/signing-gate.ts); one per process. */
  signingGate?: SigningGate;
  oidc: OidcVerifier;
  /** Wasm+data or signed bundles; mints use `current`. */
  policy: PolicySource;
  signers: SignerClient[];
  audit: AuditLog;
  /** Shared by every replica through the state store. */
  revocations: RevocationSet;
  rateLimiter: MintRateLimiter;
  metrics: Metrics;
  /** SEV-SNP gate; when it requires attestation, only attested signers are used. */
  attestation?: AttestationGate;
  logger?: boolean | object;
  now?: () => number;
  /** Serve HTTPS with these (replaceable later through `app.server.setSecureContext`); plain HTTP without. */
  https?: { cert: string; key: string };
  /** Proxies whose X-Forwarded-For/-Proto are believed (Fastify's trustProxy); none by default. */
  trustProxy?: string[];
  /** SHA-256 digests of the bearer tokens POST /v1/introspect accepts; none: public introspection is refused. */
  introspectionTokens?: readonly Buffer[];
  /**
   * The Merkle log over the audit records (the state store's). With it, the quorum signs
   * checkpoints, /tlog/ serves the log in the tiles layout and every mint answer carries a proof.
   */
  tlog?: TlogStore;
  /** Called (not awaited) after each checkpoint is signed and stored: witnesses, exports. */
  onCheckpointSigned?: CheckpointHook;
  /** External tlog witnesses (--witness) that cosign each checkpoint; best effort (tlog/witnessing.ts). */
  witnesses?: readonly WitnessEndpoint[];
  /** How often a log that grew without a mint (denials, revocations) gets a checkpoint (default 60 s). */
  checkpointIntervalMs?: number;
  /** Probe of the state store, reported by /readyz. */
  storeHealth?: () => Promise<StoreHealth>;
  /** Insecure choices allowed by their flags (config/insecure-choices.ts), reported by /readyz as warnings. */
  insecure?: string[];
}

export interface RouteContext extends CoordinatorDeps {
  now: () => number;
  keys: KeySet;
  signingGate: SigningGate;
  /** Appends durably or throws ProblemError `audit_unavailable`. */
  appendAudit(entry: AuditEntry): Promise<number>;
  /** The signers a mint may use now (all, or the attested ones). */
  usableSigners(): Promise<SignerClient[]>;
  /** With a log: its checkpoints, and the proof that record `index` is in a signed checkpoint. */
  transparency?: { checkpointer: Checkpointer; prove(index: number): Promise<TransparencyProof> };
}
