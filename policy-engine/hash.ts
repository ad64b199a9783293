// `pol` claim: hex SHA-256 over the compiled policy and its data, so a token names the exact rules
// that allowed it. Hashing each part first keeps the boundary between them unambiguous.
import { createHash } from 'node:crypto';

export function policyHash(wasm: Uint8Array, dataJson: Uint8Array): string {
  const part = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();
  return createHash('sha256').update(part(wasm)).update(part(dataJson)).digest('hex');
}
