// mTLS client for one signer (undici Pool with the coordinator's client certificate).
import { Pool } from 'undici';
import { isProblemCode, type ProblemCode } from '../protocol/problem.js';
import type { Round1Response, Round2Request, Round2Response, SignerInfo } from '../protocol/wire.js';

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

/** The signer could not be reached or did not answer in time. */
export class SignerUnavailable extends Error {}

/** The signer answered with a problem document. */
export class SignerRefused extends Error {
  constructor(
    readonly signer: string,
    readonly code: ProblemCode | 'unknown',
    readonly status: number,
  ) {
    super(`${signer} refused: ${code} (${status})`);
  }
}

export class SignerClient {
  private readonly pool: Pool;

  constructor(
    readonly endpoint: SignerEndpoint,
    tls: ClientTls,
    private readonly timeoutMs = 2_000,
  ) {
    this.pool = new Pool(endpoint.url, {
      connections: 16,
      pipelining: 1,
      connect: { key: tls.key, cert: tls.cert, ca: tls.ca, rejectUnauthorized: true, servername: endpoint.name, minVersion: 'TLSv1.3' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connectTimeout: timeoutMs,
    });
  }

  get name(): string {
    return this.endpoint.name;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res;
    try {
      res = await this.pool.request({
        method,
        path,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new SignerUnavailable(`${this.name} unreachable: ${(err as Error).name}`);
    }
    let doc: unknown;
    try {
      doc = await res.body.json();
    } catch {
      throw new SignerUnavailable(`${this.name} sent an unreadable response`);
    }
    if (res.statusCode !== 200) {
      const code = (doc as { code?: unknown } | null)?.code;
      throw new SignerRefused(this.name, isProblemCode(code) ? code : 'unknown', res.statusCode);
    }
    return doc as T;
  }

  info(): Promise<SignerInfo> {
    return this.call('GET', '/v1/info');
  }

  round1(session: string): Promise<Round1Response> {
    return this.call('POST', '/v1/round1', { session });
  }

  round2(request: Round2Request): Promise<Round2Response> {
    return this.call('POST', '/v1/round2', request);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
