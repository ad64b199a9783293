// The insecure choices the test processes make on purpose (config/insecure-choices.ts): the dev
// OIDC issuer is plain http:// on loopback and the dealt shares are sealed with the `file` key
// provider. Production refuses both unless a flag allows them; every test process inherits these
// variables (both vitest configs set them), and the tests of the refusal itself remove them.
export const INSECURE_TEST_ENV = {
  ZTMINT_SIGNER_INSECURE_ALLOW_HTTP_ISSUER: 'true',
  ZTMINT_SIGNER_INSECURE_ALLOW_FILE_KEY_PROVIDER: 'true',
  ZTMINT_COORDINATOR_INSECURE_ALLOW_HTTP_ISSUER: 'true',
} as const;
