// Names of the values the main step saves (core.saveState → GITHUB_STATE) for the post step,
// which the runner hands back as STATE_<name> environment variables.
export const STATE = {
  /** The minted token; saved only when `revoke` is true, and masked before it is saved. */
  token: 'token',
  coordinatorUrl: 'coordinator-url',
  jti: 'jti',
  expiresAt: 'expires-at',
  /** "true" or "false": the `revoke` input. */
  revoke: 'revoke',
  /** The `export-env` variable name, when set. */
  exportEnv: 'export-env',
} as const;
