// Who may call the admin listener: the one decision, so that another kind of caller (an OIDC
// identity allowed by policy, say) is one more branch here and every route stays as it is. Today
// a caller is an mTLS client certificate that chains to the state's CA (checked by TLS, reported
// in `socket.authorized`) whose CN is allowed for the permission the route needs.
import type { FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { ProblemError } from '../../protocol/problem.js';

/** `admin`: revoke, read the audit log. `introspect`: only POST /v1/introspect (resource servers). */
export type AdminPermission = 'admin' | 'introspect';

export interface AdminAccess {
  /** Client certificate CNs with every permission (default: `admin`). */
  admins: readonly string[];
  /** CNs that may only introspect. */
  introspectors: readonly string[];
}

export interface AdminPrincipal {
  kind: 'mtls';
  /** The client certificate's subject CN. */
  name: string;
}

/** The client certificate's CN, or undefined when none was presented. */
export function clientCertificateName(request: FastifyRequest): string | undefined {
  const socket = request.raw.socket as TLSSocket;
  const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  if (!peer || Object.keys(peer).length === 0) return undefined;
  return typeof peer.subject?.CN === 'string' ? peer.subject.CN : '';
}

/** Returns the caller, or throws 401 `invalid_client` (no or untrusted certificate) / 403 `forbidden` (CN not allowed). */
export function authorize(request: FastifyRequest, permission: AdminPermission, access: AdminAccess): AdminPrincipal {
  const socket = request.raw.socket as TLSSocket;
  const name = clientCertificateName(request);
  if (name === undefined) {
    throw new ProblemError('invalid_client', 'the admin API needs a client certificate: pass the admin certificate and key (ztmint admin … --state DIR uses <state>/tls/admin.pem)');
  }
  if (!socket.authorized) {
    throw new ProblemError('invalid_client', "the client certificate is not issued by the coordinator's CA (mtlsCa); use a certificate from that CA");
  }
  const allowed = permission === 'introspect' ? [...access.admins, ...access.introspectors] : access.admins;
  if (!allowed.includes(name)) {
    throw new ProblemError('forbidden', `client certificate CN ${JSON.stringify(name)} may not call this admin route; allowed: ${allowed.join(', ') || 'none'} (--admin-allow-client)`);
  }
  return { kind: 'mtls', name };
}
