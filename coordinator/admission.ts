// Which signers a mint may use: all of them, or with SEV-SNP required, those whose attestation
// verified; an admitted signer's attested TLS key is pinned for every later connection.
import type { AttestationGate } from './attestation-gate.js';
import type { SignerClient } from './signer-client.js';

export async function admittedSigners(signers: SignerClient[], gate: AttestationGate | undefined, log?: (msg: string, fields: Record<string, unknown>) => void): Promise<SignerClient[]> {
  if (!gate?.config.required) return signers;
  const verdicts = await Promise.all(
    signers.map(async (signer) => {
      let spki: Uint8Array | undefined;
      const ok = await gate.admit(
        signer.name,
        async () => {
          const peer = await signer.infoWithPeer();
          spki = peer.spki;
          return peer;
        },
        log,
      );
      if (ok && spki) signer.pin(spki);
      return ok;
    }),
  );
  return signers.filter((_, i) => verdicts[i]);
}
