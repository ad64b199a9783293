// What the PKI commands refuse, with codes an operator (or a script) can act on.
import { ZtmintError } from '../errors/ztmint-error.js';

export type PkiErrorCode =
  /** No CA key is kept in this state directory (made before `pki init`, or never initialised). */
  | 'pki_no_ca'
  /** The state directory was set up with `--external-ca`: certificates come from the operator's CA. */
  | 'pki_external_ca'
  /** `pki init` would replace an existing CA. */
  | 'pki_exists'
  /** The `file` key provider was asked for outside the dev stack without --insecure-allow-file-key-provider. */
  | 'pki_file_key_provider_refused'
  /** A name, role, SAN or validity the PKI cannot issue. */
  | 'pki_invalid_request'
  /** A certificate file to renew or inspect is missing or unreadable. */
  | 'pki_certificate_unreadable';

export class PkiError extends ZtmintError<PkiErrorCode> {}
