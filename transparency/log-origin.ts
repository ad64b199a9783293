// The log's origin (its checkpoint's first line and its key name), derived from the coordinator's
// issuer URL so the coordinator and every signer agree on it without another setting: the URL
// without its scheme and trailing slash, then "/tlog" (c2sp.org/tlog-checkpoint recommends a
// schema-less URL). Signers compute it from their --token-issuer and sign no other origin.
export function logOrigin(issuer: string): string {
  const bare = issuer.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
  return `${bare}/tlog`;
}
