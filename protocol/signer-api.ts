// GENERATED from signers/openapi.json by scripts/generate-signer-types.mjs (openapi-typescript).
// Do not edit: change the OpenAPI document and run `node scripts/generate-signer-types.mjs`.
// protocol/wire.ts names the types the code uses.

export type paths = {
  '/v1/info': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The signer's identifier, group key, verifying share (or why it holds no share), what it checks tokens against (token issuer, trusted OIDC issuers, accepted policy revisions), its certificate expiry, insecure settings and, under SEV-SNP, its attestation evidence */
    get: operations['info'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/round1': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** FROST round 1: fresh nonces for a session, or `count` preprocessed commitments */
    post: operations['round1'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/round2': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * FROST round 2: a signature share, only for the token the mint context allows or for a checkpoint consistent with the last one this signer signed
     * @description Refusals that come from this signer's configuration differing from the coordinator's have their own codes (409): `policy_not_accepted` (the token's `pol` is not a policy revision this signer accepts), `issuer_not_accepted` (its `iss` is not this signer's --token-issuer), `group_key_not_held` (its `kid` is not this signer's group key), `oidc_issuer_not_trusted` (the context's OIDC token is from an issuer this signer does not trust). The coordinator answers them as policy_mismatch, issuer_mismatch, group_mismatch and oidc_issuer_mismatch (500, not retried). Other refusals of the message are 403 `context_mismatch`.
     */
    post: operations['round2'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/log/checkpoint': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The signed checkpoint (C2SP tlog-checkpoint, signed note) of this signer's share log; the allowed mTLS clients and the --log-client CNs only */
    get: operations['shareLogCheckpoint'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/log/tile/*': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A tile or entry bundle of this signer's share log (C2SP tlog-tiles: tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>]); each entry is the RFC 8785 JSON of {v, jti, message_sha256, context_sha256, exp, client, time} */
    get: operations['shareLogTile'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/tlog': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The last transparency-log checkpoint this signer signed: the coordinator proves consistency from it */
    get: operations['tlogState'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/dkg/round1': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** DKG round 1: start (or repeat) a ceremony and answer this signer's signed package */
    post: operations['dkgRound1'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/dkg/round2': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** DKG round 2: check all round-1 packages, answer the transcript hash and encrypted shares */
    post: operations['dkgRound2'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/dkg/round3': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** DKG round 3: decrypt and verify the shares, answer a signed confirmation */
    post: operations['dkgRound3'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/dkg/finalize': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Check that all confirmations agree, then seal the key share */
    post: operations['dkgFinalize'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/dkg/abort': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Drop the ceremony's secrets (best effort, from the relay) */
    post: operations['dkgAbort'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/dkg/status': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The ceremony this signer is in and its step */
    get: operations['dkgStatus'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/healthz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Liveness */
    get: operations['health'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/readyz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Ready when the policy is loaded and this signer's own TLS certificate has not expired; 503 names what is wrong */
    get: operations['ready'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/openapi.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This document */
    get: operations['openapi'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Prometheus metrics (text exposition format); the allowed mTLS clients and the --metrics-client CNs only */
    get: operations['metrics'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/share/round1': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Share refresh/reshare/repair round 1: this member's signed package for the plan */
    post: operations['shareRound1'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/share/round2': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Round 2: check all packages and the resulting key set, answer the transcript hash and the sealed values */
    post: operations['shareRound2'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/share/round3': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Round 3: open and check the values addressed here, answer a signed confirmation (and a repair helper's sealed sigma) */
    post: operations['shareRound3'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/share/finalize': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** All confirmations agree: stage the new share (sealed, not signing yet) */
    post: operations['shareFinalize'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/share/activate': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Sign with the staged share from now on; the old one is wiped */
    post: operations['shareActivate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/share/abort': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Drop the ceremony and anything it staged */
    post: operations['shareAbort'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/share/status': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The share ceremony this signer is in and its step */
    get: operations['shareStatus'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/ring': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The signer's key ring: every group key it holds a share of, with its signing window (docs/keys.md) */
    get: operations['keys'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/schedule': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Schedule a key fresh from a rotation ceremony: it signs from activates_at; every older open key retires at previous_retires_at */
    post: operations['keysSchedule'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Drop a key that is not active yet (an interrupted rotation), undoing the retirement it set */
    post: operations['keysCancel'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
};
export type webhooks = Record<string, never>;
export type components = {
  schemas: {
    /** @description A signer's round-1 commitment (RFC 9591), points base64url */
    Commitment: {
      identifier: string;
      hiding: string;
      binding: string;
    };
    /** @description The mint request as the coordinator received it */
    MintRequest: {
      scopes: string[];
      ttl?: number;
      audience?: string;
    };
    /** @description What the signer re-derives the token from (invariant I2) */
    MintContext: {
      oidc_token: string;
      request: components['schemas']['MintRequest'];
    };
    SignerInfo: {
      identifier: string;
      group_public_key: string;
      /** @description this signer's verifying share of the key signing now; absent while it holds no share of it (key_share) */
      verifying_share?: string;
      threshold: number;
      signers: number;
      /** @description whether this signer holds a share of the key signing now. Without one (`missing`: its sealed share was lost, run `ztmint keys repair --index I`; `joining`: a new member waiting for a reshare; `removed`: a reshare left it out) it signs nothing: round 1 and round 2 answer `not_ready`, /readyz is 503, and `verifying_share`/`share_version` are absent */
      key_share?: {
        /** @description the key signing now (RFC 7638 thumbprint of its group key) */
        kid: string;
        /** @enum {string} */
        state: 'held' | 'missing' | 'joining' | 'removed';
        /** @description what is wrong and what to do (absent while held) */
        detail?: string;
      };
      /** @description this signer's --token-issuer: the `iss` every token it signs must carry (the coordinator's public URL) */
      token_issuer?: string;
      /** @description the OIDC issuers this signer trusts */
      oidc_issuers?: string[];
      /** @description the policy revisions this signer accepts, in order of preference (the `pol` values it signs for: signed bundles' revisions, or the policy hash); a round 2 whose token names another is refused with `policy_not_accepted` */
      policy_revisions?: string[];
      /** @description first 16 hex digits of SHA-256 of this signer's verifying share: changes whenever its share does */
      share_version?: string;
      /**
       * Format: date-time
       * @description notAfter of the TLS certificate this signer serves
       */
      certificate_not_after?: string;
      /** @description insecure choices this signer was explicitly allowed to make (e.g. the file key provider); empty in a sound deployment */
      insecure?: string[];
      /** @description SEV-SNP evidence whose REPORT_DATA binds this signer's TLS key and policy hash */
      attestation?: {
        /** @constant */
        type: 'sev-snp';
        report: string;
        vcek: string;
      };
      /** @description This signer's own log of released token signature shares (C2SP tlog-tiles under /v1/log/): its origin and the note verifier key its checkpoints are signed with */
      share_log?: {
        origin: string;
        /** @description signed-note verifier key <name>+<keyid>+<base64 key> */
        key: string;
      };
    };
    Round1Request: {
      /** @description 128-bit random session id, base64url; accepted once, ever */
      session: string;
      /** @description Preprocessing: this many single-use commitments, for the sessions `${session}.${i}`, i = 0…count−1 */
      count?: number;
    };
    Round1Response: {
      session: string;
      commitments: components['schemas']['Commitment'];
      /** @description Present exactly when the request had `count`: batch[i] is the commitment of `${session}.${i}` */
      batch?: components['schemas']['Commitment'][];
    };
    Round2Request: {
      /** @description A round-1 session, or `${session}.${i}` from a preprocessing batch */
      session: string;
      /** @description What to sign: a JWS signing input (then `context` is required) or a checkpoint note text of this log (then `checkpoint` is required); anything else is refused */
      message: string;
      commitments: components['schemas']['Commitment'][];
      /** @description For a JWS signing input: what the signer re-derives the token from (invariant I2) */
      context?: components['schemas']['MintContext'];
      checkpoint?: components['schemas']['CheckpointProof'];
    };
    Round2Response: {
      share: string;
    };
    Health: {
      /** @constant */
      status: 'ok';
      /** @constant */
      mode?: 'dkg';
    };
    DkgRound1Request: {
      /** @description 128+ random bits, base64url */
      ceremony: string;
      threshold: number;
      signers: number;
    };
    /** @description A signer's signed round-1 package (docs/dkg.md) */
    DkgRound1Package: {
      /** @constant */
      version: 'ztmint-dkg-v1';
      ciphersuite: string;
      /** @description 128+ random bits, base64url */
      ceremony: string;
      threshold: number;
      signers: number;
      index: number;
      identifier: string;
      commitment: string[];
      proof_of_knowledge: string;
      encryption_key: string;
      /** @description PEM certificate CN=signer-<index> issued by the state's CA (printable ASCII) */
      certificate: string;
      signature: string;
    };
    DkgRound2Request: {
      /** @description 128+ random bits, base64url */
      ceremony: string;
      round1: components['schemas']['DkgRound1Package'][];
    };
    /** @description A round-2 package in transit: only the recipient can open it */
    DkgEnvelope: {
      /** @constant */
      version: 'ztmint-dkg-v1';
      /** @description 128+ random bits, base64url */
      ceremony: string;
      sender: number;
      recipient: number;
      transcript: string;
      enc: string;
      nonce: string;
      ciphertext: string;
    };
    DkgRound2Response: {
      transcript: string;
      packages: components['schemas']['DkgEnvelope'][];
    };
    DkgRound3Request: {
      /** @description 128+ random bits, base64url */
      ceremony: string;
      packages: components['schemas']['DkgEnvelope'][];
    };
    /** @description What a signer computed in round 3, signed: all must agree before anyone seals */
    DkgConfirmation: {
      /** @constant */
      version: 'ztmint-dkg-v1';
      /** @description 128+ random bits, base64url */
      ceremony: string;
      index: number;
      identifier: string;
      transcript: string;
      group_public_key: string;
      commitments: string[];
      verifying_shares: {
        [key: string]: string;
      };
      /** @description PEM certificate CN=signer-<index> issued by the state's CA (printable ASCII) */
      certificate: string;
      signature: string;
    };
    DkgRound3Response: {
      confirmation: components['schemas']['DkgConfirmation'];
    };
    DkgFinalizeRequest: {
      /** @description 128+ random bits, base64url */
      ceremony: string;
      confirmations: components['schemas']['DkgConfirmation'][];
    };
    DkgFinal: {
      /** @description 128+ random bits, base64url */
      ceremony: string;
      index: number;
      identifier: string;
      group_public_key: string;
      verifying_share: string;
      sealed: {
        path: string;
        /** @description The key provider's parameters stored in the sealed file (never secret) */
        provider: {
          type: string;
        } & {
          [key: string]: unknown;
        };
      };
    };
    DkgAbortRequest: {
      /** @description 128+ random bits, base64url */
      ceremony: string;
      reason?: string;
    };
    DkgAbortResponse: {
      /** @description 128+ random bits, base64url */
      ceremony: string;
      /** @enum {unknown} */
      state: 'sealed' | 'aborted';
    };
    DkgStatus: {
      signer: string;
      ceremony: string | null;
      state: string;
      reason?: string;
    };
    /** @description RFC 9457 problem document with a stable `code` (the coordinator's openapi.json lists the codes) */
    Problem: {
      type: string;
      title: string;
      status: number;
      detail: string;
      code: string;
      reasons?: string[];
      /** @description dkg_aborted only: why the ceremony was aborted at this signer */
      reason?: string;
    };
    DkgRound1Response: {
      package: components['schemas']['DkgRound1Package'];
    };
    /** @description For a checkpoint: the consistency proof from the last checkpoint this signer signed (its `GET /v1/tlog` size) to the one in `message` */
    CheckpointProof: {
      old_size: number;
      proof: string[];
    };
    /** @description The last checkpoint this signer signed (size 0 and the empty root before the first) */
    TlogState: {
      origin: string;
      size: number;
      /** @description standard base64 */
      root_hash: string;
    };
    SignerReadiness: {
      ready: boolean;
      /** @description the policy revisions this signer accepts, in order of preference (the `pol` values it signs for: signed bundles' revisions, or the policy hash); a round 2 whose token names another is refused with `policy_not_accepted` */
      policy_revisions: string[];
      /** @description why this signer is not ready (empty when ready) */
      problems: string[];
    };
    /** @description The public half of a key set, as group.json holds it */
    KeySet: {
      /** @constant */
      ciphersuite: 'FROST-ED25519-SHA512-v1';
      group_public_key: string;
      threshold: number;
      signers: number;
      identifiers: string[];
      verifying_shares: {
        [key: string]: string;
      };
      commitments: string[];
    };
    /** @description What a share refresh, reshare or repair changes; its hash is in every message of the ceremony */
    SharePlan: {
      /** @enum {unknown} */
      kind: 'refresh' | 'reshare' | 'repair';
      /** @description 128+ random bits, base64url */
      ceremony: string;
      group: components['schemas']['KeySet'];
      dealers: number[];
      recipients: number[];
      threshold: number;
    };
    ShareRound1Request: {
      plan: components['schemas']['SharePlan'];
    };
    /** @description A member's round-1 package, signed with its mTLS key */
    ShareRound1Package: {
      /** @constant */
      version: 'ztmint-keys-v1';
      /** @enum {unknown} */
      kind: 'refresh' | 'reshare' | 'repair';
      /** @description 128+ random bits, base64url */
      ceremony: string;
      plan: string;
      index: number;
      commitment: string[];
      encryption_key: string;
      /** @description PEM certificate CN=signer-<index> issued by the state's CA (printable ASCII) */
      certificate: string;
      signature: string;
    };
    ShareRound1Response: {
      package: components['schemas']['ShareRound1Package'];
    };
    ShareRound2Request: {
      /** @description 128+ random bits, base64url */
      ceremony: string;
      round1: components['schemas']['ShareRound1Package'][];
    };
    /** @description A value in transit to one member of a share ceremony: only the recipient can open it */
    ShareEnvelope: {
      /** @enum {unknown} */
      version: 'ztmint-keys-v1' | 'ztmint-keys-v1/sigma';
      /** @description 128+ random bits, base64url */
      ceremony: string;
      sender: number;
      recipient: number;
      transcript: string;
      enc: string;
      nonce: string;
      ciphertext: string;
    };
    ShareRound2Response: {
      transcript: string;
      packages: components['schemas']['ShareEnvelope'][];
    };
    ShareRound3Request: {
      /** @description 128+ random bits, base64url */
      ceremony: string;
      packages: components['schemas']['ShareEnvelope'][];
    };
    /** @description The key set a member computed, signed: all must agree before anyone stages a share */
    ShareConfirmation: {
      /** @constant */
      version: 'ztmint-keys-v1';
      /** @description 128+ random bits, base64url */
      ceremony: string;
      plan: string;
      index: number;
      transcript: string;
      group: components['schemas']['KeySet'];
      /** @description PEM certificate CN=signer-<index> issued by the state's CA (printable ASCII) */
      certificate: string;
      signature: string;
    };
    ShareRound3Response: {
      confirmation: components['schemas']['ShareConfirmation'];
      packages: components['schemas']['ShareEnvelope'][];
    };
    ShareFinalizeRequest: {
      /** @description 128+ random bits, base64url */
      ceremony: string;
      confirmations: components['schemas']['ShareConfirmation'][];
    };
    /** @description The member staged the result (a new share, sealed beside the current one, not signing yet) */
    ShareFinal: {
      /** @description 128+ random bits, base64url */
      ceremony: string;
      index: number;
      group_public_key: string;
      verifying_share?: string;
      staged: boolean;
    };
    ShareCeremonyRequest: {
      /** @description 128+ random bits, base64url */
      ceremony: string;
      reason?: string;
    };
    ShareCeremonyState: {
      ceremony: string | null;
      kind?: string | null;
      /** @enum {unknown} */
      state: 'idle' | 'round1' | 'round2' | 'round3' | 'final' | 'staged' | 'active' | 'aborted';
      reason?: string;
    };
    KeyRingEntry: {
      /** @description RFC 7638 thumbprint of the group key */
      kid: string;
      group_public_key: string;
      threshold: number;
      signers: number;
      verifying_share: string;
      /** @description unix seconds; null: not set */
      activates_at: number | null;
      /** @description unix seconds; null: not set */
      retires_at: number | null;
    };
    KeyRing: {
      /** @description RFC 7638 thumbprint of the group key */
      current?: string;
      keys: components['schemas']['KeyRingEntry'][];
    };
    KeyScheduleRequest: {
      /** @description RFC 7638 thumbprint of the group key */
      kid: string;
      /** @description unix seconds */
      activates_at: number;
      /** @description unix seconds */
      previous_retires_at: number;
    };
    KeyCancelRequest: {
      /** @description RFC 7638 thumbprint of the group key */
      kid: string;
    };
    KeyCancelResponse: {
      /** @description RFC 7638 thumbprint of the group key */
      kid: string;
      cancelled: boolean;
    };
  };
  responses: {
    /** @description Problem document */
    Problem: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description Problem document; 409 `dkg_aborted` carries `reason`, 409 `dkg_conflict` a request that does not fit the ceremony */
    DkgProblem: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
  };
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
};
export type $defs = Record<string, never>;
export interface operations {
  info: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SignerInfo'];
        };
      };
      403: components['responses']['Problem'];
    };
  };
  round1: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['Round1Request'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Round1Response'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      409: components['responses']['Problem'];
      413: components['responses']['Problem'];
      415: components['responses']['Problem'];
    };
  };
  round2: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['Round2Request'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Round2Response'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      409: components['responses']['Problem'];
      413: components['responses']['Problem'];
      415: components['responses']['Problem'];
    };
  };
  shareLogCheckpoint: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The checkpoint note */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      403: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  shareLogTile: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The tile's bytes */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/octet-stream': string;
        };
      };
      403: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  tlogState: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TlogState'];
        };
      };
      403: components['responses']['Problem'];
    };
  };
  dkgRound1: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DkgRound1Request'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DkgRound1Response'];
        };
      };
      400: components['responses']['DkgProblem'];
      403: components['responses']['DkgProblem'];
      409: components['responses']['DkgProblem'];
      413: components['responses']['DkgProblem'];
      415: components['responses']['DkgProblem'];
    };
  };
  dkgRound2: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DkgRound2Request'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DkgRound2Response'];
        };
      };
      400: components['responses']['DkgProblem'];
      403: components['responses']['DkgProblem'];
      409: components['responses']['DkgProblem'];
      413: components['responses']['DkgProblem'];
      415: components['responses']['DkgProblem'];
    };
  };
  dkgRound3: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DkgRound3Request'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DkgRound3Response'];
        };
      };
      400: components['responses']['DkgProblem'];
      403: components['responses']['DkgProblem'];
      409: components['responses']['DkgProblem'];
      413: components['responses']['DkgProblem'];
      415: components['responses']['DkgProblem'];
    };
  };
  dkgFinalize: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DkgFinalizeRequest'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DkgFinal'];
        };
      };
      400: components['responses']['DkgProblem'];
      403: components['responses']['DkgProblem'];
      409: components['responses']['DkgProblem'];
      413: components['responses']['DkgProblem'];
      415: components['responses']['DkgProblem'];
    };
  };
  dkgAbort: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DkgAbortRequest'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DkgAbortResponse'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      413: components['responses']['Problem'];
      415: components['responses']['Problem'];
    };
  };
  dkgStatus: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DkgStatus'];
        };
      };
      403: components['responses']['Problem'];
    };
  };
  health: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Health'];
        };
      };
      403: components['responses']['Problem'];
    };
  };
  ready: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Ready */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SignerReadiness'];
        };
      };
      403: components['responses']['Problem'];
      /** @description Not ready */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SignerReadiness'];
        };
      };
    };
  };
  openapi: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OpenAPI 3.1 document */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, never>;
        };
      };
      403: components['responses']['Problem'];
    };
  };
  metrics: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Metrics in the Prometheus text exposition format */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      403: components['responses']['Problem'];
    };
  };
  shareRound1: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ShareRound1Request'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ShareRound1Response'];
        };
      };
      400: components['responses']['DkgProblem'];
      403: components['responses']['DkgProblem'];
      409: components['responses']['DkgProblem'];
      413: components['responses']['DkgProblem'];
      415: components['responses']['DkgProblem'];
    };
  };
  shareRound2: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ShareRound2Request'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ShareRound2Response'];
        };
      };
      400: components['responses']['DkgProblem'];
      403: components['responses']['DkgProblem'];
      409: components['responses']['DkgProblem'];
      413: components['responses']['DkgProblem'];
      415: components['responses']['DkgProblem'];
    };
  };
  shareRound3: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ShareRound3Request'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ShareRound3Response'];
        };
      };
      400: components['responses']['DkgProblem'];
      403: components['responses']['DkgProblem'];
      409: components['responses']['DkgProblem'];
      413: components['responses']['DkgProblem'];
      415: components['responses']['DkgProblem'];
    };
  };
  shareFinalize: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ShareFinalizeRequest'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ShareFinal'];
        };
      };
      400: components['responses']['DkgProblem'];
      403: components['responses']['DkgProblem'];
      409: components['responses']['DkgProblem'];
      413: components['responses']['DkgProblem'];
      415: components['responses']['DkgProblem'];
    };
  };
  shareActivate: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ShareCeremonyRequest'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ShareCeremonyState'];
        };
      };
      400: components['responses']['DkgProblem'];
      403: components['responses']['DkgProblem'];
      409: components['responses']['DkgProblem'];
      413: components['responses']['DkgProblem'];
      415: components['responses']['DkgProblem'];
    };
  };
  shareAbort: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ShareCeremonyRequest'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ShareCeremonyState'];
        };
      };
      400: components['responses']['DkgProblem'];
      403: components['responses']['DkgProblem'];
      409: components['responses']['DkgProblem'];
      413: components['responses']['DkgProblem'];
      415: components['responses']['DkgProblem'];
    };
  };
  shareStatus: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ShareCeremonyState'];
        };
      };
      403: components['responses']['Problem'];
    };
  };
  keys: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['KeyRing'];
        };
      };
      403: components['responses']['Problem'];
    };
  };
  keysSchedule: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['KeyScheduleRequest'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['KeyRingEntry'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      409: components['responses']['Problem'];
      413: components['responses']['Problem'];
      415: components['responses']['Problem'];
    };
  };
  keysCancel: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['KeyCancelRequest'];
      };
    };
    responses: {
      /** @description OK */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['KeyCancelResponse'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      409: components['responses']['Problem'];
      413: components['responses']['Problem'];
      415: components['responses']['Problem'];
    };
  };
}
