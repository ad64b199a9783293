// mTLS client for one signer (undici Pool with the coordinator's client certificate), with its
// pool of preprocessed round-1 commitments (coordinator/commitment-pool.ts).
import { X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { certificateErrorCode, certificateProblem, describePeer, RENEW_HINT } from '../tls/certificate-errors.js';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { buildConnector, Pool } from 'undici';
import { ZtmintError, type ZtmintErrorOptions } from '../errors/ztmint-error.js';
import type { WireCommitment } from '../protocol/ciphersuite.js';
import { isProblemCode, type ProblemCode } from '../protocol/problem.js';
import type { Round1Response, Round2Request, Round2Response, SignerInfo, TlogState } from '../protocol/wire.js';
import { hasActiveSpan, inSpan, injectTraceHeaders } from '../tracing/spans.js';
import { CommitmentPool, type CommitmentPoolOptions } from './commitment-pool.js';
import type { SignerCall } from './metrics.js';

export interface ClientTls {
  key: string;
  cert: string;
  ca: string;
}

export interface SignerEndpoint {
  /** Label for logs and audit, e.g. "signer-2". */
  name: string;
  url: string;
}

export interface SignerClientOptions {
  /** Per request: waiting for a connection, the answer's headers, and its body (default 2 s). */
  timeoutMs?: number;
  /** HTTPS connections kept open to this signer (default 16). */
  connections?: number;
  /** Round-1 preprocessing; `false` turns it off (every mint then takes two rounds). */
  preprocessing?: CommitmentPoolOptions | false;
  log?: (event: Record<string, unknown>, msg: string) => void;
  /**
   * SEV-SNP mode: open no connection until `pin()` names the TLS key the signer's attestation
   * vouches for, and only connections presenting that key afterwards.
   */
  requirePinnedKey?: boolean;
  /** Told about every round-1, preprocessing and round-2 call: its duration and how it failed (metrics). */
  onCall?: (signer: string, call: SignerCall, seconds: number, err?: unknown) => void;
}

/** DER SPKI of the certificate a TLS peer presented. */
function peerSpki(socket: TLSSocket): Buffer | undefined {
  const cert = socket.getPeerX509Certificate?.();
  return cert ? (cert.publicKey.export({ type: 'spki', format: 'der' }) as Buffer) : undefined;
}

/** Why a signer gave no usable answer: no answer in time, or an answer that does not parse. */
export type SignerUnavailableCode = 'signer_unreachable' | 'signer_bad_response';

/** The signer could not be reached, did not answer in time, or sent something unreadable. */
export class SignerUnavailable extends ZtmintError<SignerUnavailableCode> {}

export interface SignerRefusedOptions extends ZtmintErrorOptions {
  /** The signer's name, e.g. "signer-2". */
  signer: string;
  /** The HTTP status it answered with. */
  status: number;
  /** The signer's `detail`, reduced to safe printable text (signers never put secrets there). */
  reason?: string;
}

/** The signer answered with a problem document; `code` is its problem code ('unknown' if none). */
export class SignerRefused extends ZtmintError<ProblemCode | 'unknown'> {
  readonly signer: string;
  readonly status: number;
  readonly reason: string;

  constructor(code: ProblemCode | 'unknown', message: string, options: SignerRefusedOptions) {
    super(code, message, options);
    this.signer = options.signer;
    this.status = options.status;
    this.reason = options.reason ?? '';
  }
}

/** A signer's problem `detail` as log- and problem-safe text: one line, printable, bounded. */
export function safeReason(detail: unknown): string {
  if (typeof detail !== 'string') return '';
  const text = detail.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

const HEX64 = /^[0-9a-f]{64}$/;
const B64URL = /^[A-Za-z0-9_-]{1,128}$/;

function isWireCommitment(c: unknown): c is WireCommitment {
  const w = c as WireCommitment | null;
  return (
    !!w &&
    typeof w === 'object' &&
    typeof w.identifier === 'string' &&
    HEX64.test(w.identifier) &&
    typeof w.hiding === 'string' &&
    B64URL.test(w.hiding) &&
    typeof w.binding === 'string' &&
    B64URL.test(w.binding)
  );
}

const JSON_HEADERS = { 'content-type': 'application/json' };

export class SignerClient {
  private readonly pool: Pool;
  private tlsOptions: { key: string; cert: string; ca: string; rejectUnauthorized: true; servername: string; minVersion: 'TLSv1.3' };
  /** Replaced by setCredentials: new connections present the renewed certificate. */
  private connectTls: buildConnector.connector;
  private pinnedSpki?: Buffer;
  /** Our own client certificate, to tell an expired one apart from other connection failures. */
  private ownCert: X509Certificate;
  private readonly timeoutMs: number;
  private readonly onCall?: SignerClientOptions['onCall'];
  /** Preprocessed round-1 commitments, or undefined when preprocessing is off. */
  readonly commitments?: CommitmentPool;

  constructor(
    readonly endpoint: SignerEndpoint,
    tls: ClientTls,
    options: SignerClientOptions | number = {},
  ) {
    const opts = typeof options === 'number' ? { timeoutMs: options } : options;
    const timeoutMs = (this.timeoutMs = opts.timeoutMs ?? 2_000);
    this.tlsOptions = { key: tls.key, cert: tls.cert, ca: tls.ca, rejectUnauthorized: true, servername: endpoint.name, minVersion: 'TLSv1.3' as const };
    this.connectTls = buildConnector(this.tlsOptions);
    this.ownCert = new X509Certificate(tls.cert);
    const requirePin = opts.requirePinnedKey ?? false;
    this.onCall = opts.onCall;
    this.pool = new Pool(endpoint.url, {
      connections: opts.connections ?? 16,
      pipelining: 1,
      connect: !requirePin
        ? (options, callback) => this.connectTls(options, callback)
        : (options, callback) => {
            if (!this.pinnedSpki) return callback(new Error(`${endpoint.name} is not attested yet`), null);
            this.connectTls(options, (err, socket) => {
              if (err) return callback(err, null);
              const spki = peerSpki(socket as TLSSocket);
              if (!spki || !spki.equals(this.pinnedSpki!)) {
                socket!.destroy();
                return callback(new Error(`${endpoint.name} presented a TLS key other than the attested one`), null);
              }
              callback(null, socket!);
            });
          },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connectTimeout: timeoutMs,
    });
    if (opts.preprocessing !== false) {
      const log = opts.log;
      this.commitments = new CommitmentPool(
        (session, count) => this.round1Batch(session, count).then((r) => r.batch),
        opts.preprocessing ?? {},
        log && ((event, msg) => log({ signer: endpoint.name, ...event }, msg)),
      );
    }
  }

  /**
   * Renewed mTLS credentials (certificate rotation): used for every connection opened from now
   * on; open connections keep the old certificate until they close.
   */
  setCredentials(tls: ClientTls): void {
    this.tlsOptions = { ...this.tlsOptions, key: tls.key, cert: tls.cert, ca: tls.ca };
    this.connectTls = buildConnector(this.tlsOptions);
    this.ownCert = new X509Certificate(tls.cert);
  }

  /**
   * Why a connection failed, for logs and the mint's problem document: a certificate the signer
   * presented that does not verify (named, with what to do), our own expired client certificate
   * (which a signer refuses by closing the connection, so only we can say why), or the error's name.
   */
  private whyUnreachable(err: unknown): string {
    const code = certificateErrorCode(err);
    if (code) return `its server certificate (CN=${this.name}) ${certificateProblem(code)}${code === 'CERT_HAS_EXPIRED' ? `: on the signer host, ${RENEW_HINT}` : ''}`;
    const notAfter = Date.parse(this.ownCert.validTo);
    if (notAfter <= Date.now()) return `the coordinator's client certificate (${describePeer(this.ownCert)}) has expired, so signers refuse it: ${RENEW_HINT}`;
    return (err as Error).name;
  }

  get name(): string {
    return this.endpoint.name;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    // One deadline for the whole exchange (queueing for a connection included). Not
    // AbortSignal.timeout(): its timer would outlive the request and fire for every one of them.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    try {
      let res;
      try {
        res = await this.pool.request({
          method,
          path,
          headers: injectTraceHeaders(body === undefined ? {} : { ...JSON_HEADERS }),
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: abort.signal,
        });
      } catch (err) {
        throw new SignerUnavailable('signer_unreachable', `${this.name} unreachable: ${abort.signal.aborted ? 'TimeoutError' : this.whyUnreachable(err)}`, { cause: err });
      }
      let doc: unknown;
      try {
        doc = await res.body.json();
      } catch {
        throw new SignerUnavailable('signer_bad_response', `${this.name} sent an unreadable response`);
      }
      if (res.statusCode !== 200) {
        const { code, detail } = (doc ?? {}) as { code?: unknown; detail?: unknown };
        const refused = isProblemCode(code) ? code : 'unknown';
        const reason = safeReason(detail);
        throw new SignerRefused(refused, `${this.name} refused: ${refused} (${res.statusCode})${reason ? `: ${reason}` : ''}`, { signer: this.name, status: res.statusCode, reason });
      }
      return doc as T;
    } finally {
      clearTimeout(timer);
    }
  }

  info(): Promise<SignerInfo> {
    return this.call('GET', '/v1/info');
  }

  /** Only connections presenting this TLS key (DER SPKI) are used from now on. */
  pin(spki: Uint8Array): void {
    this.pinnedSpki = Buffer.from(spki);
  }

  /**
   * GET /v1/info on a dedicated TLS connection, with the key the signer presented on that same
   * connection: what an attestation report must bind.
   */
  infoWithPeer(): Promise<{ info: SignerInfo; spki: Uint8Array; notAfter?: number }> {
    const url = new URL(this.endpoint.url);
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ ...this.tlsOptions, host: url.hostname, port: Number(url.port || 443) });
      const fail = (err: Error) => {
        socket.destroy();
        reject(new SignerUnavailable('signer_unreachable', `${this.name} unreachable: ${this.whyUnreachable(err)}`, { cause: err }));
      };
      socket.setTimeout(this.timeoutMs, () => fail(new Error('TimeoutError')));
      socket.once('error', fail);
      socket.once('secureConnect', () => {
        // Read once: Node answers getPeerX509Certificate() only the first time on a socket.
        const cert = socket.getPeerX509Certificate?.();
        if (!cert) return fail(new Error('NoPeerCertificate'));
        const spki = cert.publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
        const notAfter = Date.parse(cert.validTo);
        const req = httpsRequest({ host: url.hostname, path: '/v1/info', method: 'GET', createConnection: () => socket }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            socket.destroy();
            try {
              if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
              resolve({ info: JSON.parse(text) as SignerInfo, spki: new Uint8Array(spki), ...(notAfter ? { notAfter } : {}) });
            } catch (err) {
              reject(new SignerUnavailable('signer_bad_response', `${this.name} sent an unreadable info document: ${(err as Error).message}`));
            }
          });
        });
        req.once('error', fail);
        req.end();
      });
    });
  }

  /** Runs one signer call and reports its duration and outcome to `onCall`. */
  private async timed<T>(call: SignerCall, run: () => Promise<T>): Promise<T> {
    // A span under the mint's (background preprocessing outside a mint starts no trace).
    if (hasActiveSpan()) {
      const measured = run;
      run = () => inSpan(`ztmint.signer.${call}`, { 'ztmint.signer': this.name }, () => measured());
    }
    if (!this.onCall) return run();
    const start = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
    try {
      const result = await run();
      this.onCall(this.name, call, seconds());
      return result;
    } catch (err) {
      this.onCall(this.name, call, seconds(), err);
      throw err;
    }
  }

  round1(session: string): Promise<Round1Response> {
    return this.timed('round1', async () => {
      const res = await this.call<Round1Response>('POST', '/v1/round1', { session });
      if (!isWireCommitment(res?.commitments)) throw new SignerUnavailable('signer_bad_response', `${this.name} sent a malformed round-1 answer`);
      return res;
    });
  }

  /** Preprocessing: `count` commitments, batch[i] for session `${session}.${i}` (protocol/wire.ts). */
  round1Batch(session: string, count: number): Promise<Round1Response & { batch: WireCommitment[] }> {
    return this.timed('preprocess', async () => {
      const res = await this.call<Round1Response>('POST', '/v1/round1', { session, count });
      const batch = res?.batch;
      if (!Array.isArray(batch) || batch.length !== count || !batch.every(isWireCommitment) || batch.some((c) => c.identifier !== batch[0]!.identifier)) {
        throw new SignerUnavailable('signer_bad_response', `${this.name} sent a malformed round-1 batch`);
      }
      return res as Round1Response & { batch: WireCommitment[] };
    });
  }

  /** The last checkpoint this signer signed: where a checkpoint's consistency proof must start. */
  async tlogState(): Promise<TlogState> {
    const res = await this.call<TlogState>('GET', '/v1/tlog');
    if (typeof res?.size !== 'number' || !Number.isSafeInteger(res.size) || res.size < 0 || typeof res.root_hash !== 'string' || typeof res.origin !== 'string') {
      throw new SignerUnavailable('signer_bad_response', `${this.name} sent a malformed log state`);
    }
    return res;
  }

  round2(request: Round2Request): Promise<Round2Response> {
    return this.timed(request.checkpoint ? 'checkpoint' : 'round2', () => this.call('POST', '/v1/round2', request));
  }

  close(): Promise<void> {
    this.commitments?.close();
    return this.pool.close();
  }
}
