// Metrics every ztmint process exposes the same way (coordinator and signers): which policy and
// group key it serves (info gauges), and how long its TLS certificates have left. Values are read
// when Prometheus scrapes, so the request paths pay nothing for them.
import { X509Certificate } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';

/** notAfter of a PEM certificate (the first one in the text), in ms since the epoch. */
export function certificateNotAfter(pem: string): number {
  return Date.parse(new X509Certificate(pem).validTo);
}

/** ztmint_policy_info{hash} 1 for the policy bundle in force now (one series at a time). */
export function policyInfoGauge(registry: Registry, hash: () => string): Gauge<'hash'> {
  return new Gauge({
    name: 'ztmint_policy_info',
    help: "The policy bundle in force (label hash: its SHA-256, the tokens' pol claim); always 1",
    labelNames: ['hash'] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.set({ hash: hash() }, 1);
    },
  });
}

/** ztmint_group_key_info{kid} 1: the RFC 7638 thumbprint of the FROST group key, as in the JWKS. */
export function groupKeyInfoGauge(registry: Registry, kid: string, threshold: number, signers: number): Gauge<'kid' | 'threshold' | 'signers'> {
  const gauge = new Gauge({
    name: 'ztmint_group_key_info',
    help: 'The FROST group key this process serves (label kid: its RFC 7638 thumbprint; threshold t of signers n); always 1',
    labelNames: ['kid', 'threshold', 'signers'] as const,
    registers: [registry],
  });
  gauge.set({ kid, threshold: String(threshold), signers: String(signers) }, 1);
  return gauge;
}

/**
 * ztmint_tls_certificate_expiry_seconds{certificate}: seconds until notAfter (negative once
 * expired) of this process's own certificate ("self") and of each peer certificate it has seen,
 * named by peer ("signer-2"). `notAfter` is read at scrape time.
 */
export function certificateExpiryGauge(registry: Registry, notAfter: () => Iterable<[string, number]>): Gauge<'certificate'> {
  return new Gauge({
    name: 'ztmint_tls_certificate_expiry_seconds',
    help: 'Seconds until the TLS certificate expires (notAfter - now; negative when expired); certificate="self" is this process\'s own, others are peers by name',
    labelNames: ['certificate'] as const,
    registers: [registry],
    collect() {
      const now = Date.now();
      for (const [certificate, at] of notAfter()) this.set({ certificate }, Math.round((at - now) / 1000));
    },
  });
}
