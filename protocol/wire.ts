// Request and response bodies of the signer API (coordinator ⇄ signer, mTLS only).
import type { Identifier, WireCommitment } from './ciphersuite.js';

export interface MintRequest {
  scopes: string[];
  ttl?: number;
  audience?: string;
}

export interface MintContext {
  oidc_token: string;
  request: MintRequest;
}

export interface SignerInfo {
  identifier: Identifier;
  group_public_key: string;
  verifying_share: string;
  threshold: number;
  signers: number;
  attestation?: string;
}

export interface Round1Request {
  session: string;
}

export interface Round1Response {
  session: string;
  commitments: WireCommitment;
}

export interface Round2Request {
  session: string;
  message: string;
  commitments: WireCommitment[];
  context: MintContext;
}

export interface Round2Response {
  share: string;
}

/** 128-bit random session ids, base64url. */
export const SESSION_PATTERN = '^[A-Za-z0-9_-]{22,64}$';
