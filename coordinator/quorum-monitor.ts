// Background probe of every signer (GET /v1/info on a fresh mTLS connection): keeps the quorum
// gauges and the signers' certificate expiry current even when no mint is running. One probe per
// signer per interval, each bounded by the signer client's timeout; the timer never keeps the
// process alive.
import type { Metrics } from './metrics.js';
import type { SignerClient } from './signer-client.js';

export interface QuorumMonitorOptions {
  /** Default 15 s; 0 turns the probe off. */
  intervalMs?: number;
}

export function startQuorumMonitor(signers: SignerClient[], metrics: Pick<Metrics, 'signerSeen'>, opts: QuorumMonitorOptions = {}) {
  const intervalMs = opts.intervalMs ?? 15_000;
  let running = false;
  const probe = async () => {
    if (running) return; // a slow round is still going: skip rather than pile up
    running = true;
    try {
      await Promise.all(
        signers.map((signer) =>
          signer.infoWithPeer().then(
            (peer) => metrics.signerSeen(signer.name, true, peer.notAfter),
            () => metrics.signerSeen(signer.name, false),
          ),
        ),
      );
    } finally {
      running = false;
    }
  };
  if (intervalMs <= 0) return { probe, stop() {} };
  void probe();
  const timer = setInterval(() => void probe(), intervalMs);
  timer.unref();
  return { probe, stop: () => clearInterval(timer) };
}
