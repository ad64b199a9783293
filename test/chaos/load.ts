// A steady stream of mints with bounded concurrency: each attempt takes a fresh (single-use) OIDC
// token from the dev issuer and POSTs /v1/mint. Every attempt is recorded with its client-side
// start/end times (Date.now() ms), its status and problem code, or its transport error.
import { Agent, request } from 'undici';
import type { Stack } from '../helpers/stack.js';

export interface Attempt {
  worker: number;
  /** Just before the request was sent (the OIDC token is fetched before). */
  start: number;
  end: number;
  status?: number;
  code?: string;
  /** Transport failure (no HTTP response), e.g. ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET. */
  error?: string;
  token?: string;
  jti?: string;
  auditIndex?: number;
  contentType?: string;
  /** The start of a body that is not a problem document (for the report). */
  rawBody?: string;
}

const BODY = JSON.stringify({ scopes: ['deploy:canary'] });

function errorCode(err: unknown): string {
  let e = err as { code?: string; name?: string; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string') return e.code;
    e = e.cause as typeof e;
  }
  return (err as Error)?.name ?? 'Error';
}

export class Load {
  readonly attempts: Attempt[] = [];
  inflight = 0;
  private stopped = false;
  private workers: Promise<void>[] = [];
  private readonly agent = new Agent({ connections: 32, keepAliveTimeout: 2_000, connectTimeout: 5_000 });
  /** Non-HTTP failures of the harness itself (e.g. the issuer failed): must stay empty. */
  readonly harnessErrors: string[] = [];

  constructor(
    private readonly stack: Stack,
    readonly concurrency: number,
  ) {}

  start(): void {
    this.workers = Array.from({ length: this.concurrency }, (_, i) => this.worker(i));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
    await this.agent.close();
  }

  count(filter: (a: Attempt) => boolean = () => true): number {
    return this.attempts.reduce((n, a) => n + (filter(a) ? 1 : 0), 0);
  }

  /** Resolves once `n` more attempts after now have finished successfully (or rejects after timeoutMs). */
  async waitForSuccesses(n: number, since: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.count((a) => a.status === 200 && a.start >= since) < n) {
      if (Date.now() > deadline) throw new Error(`fewer than ${n} successful mints within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async waitForInflight(n: number, timeoutMs = 5_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.inflight < n && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    return this.inflight;
  }

  private async worker(worker: number): Promise<void> {
    const url = `${this.stack.coordinatorUrl}/v1/mint`;
    while (!this.stopped) {
      let oidc: string;
      try {
        oidc = await this.stack.idToken();
      } catch (err) {
        this.harnessErrors.push(`issuer: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const attempt: Attempt = { worker, start: Date.now(), end: 0 };
      this.inflight++;
      try {
        const res = await request(url, {
          method: 'POST',
          dispatcher: this.agent,
          headers: { authorization: `Bearer ${oidc}`, 'content-type': 'application/json' },
          body: BODY,
          headersTimeout: 20_000,
          bodyTimeout: 20_000,
        });
        attempt.status = res.statusCode;
        attempt.contentType = String(res.headers['content-type'] ?? '');
        const text = await res.body.text();
        attempt.end = Date.now();
        try {
          const body = JSON.parse(text) as Record<string, unknown>;
          if (res.statusCode === 200) {
            attempt.token = body.token as string;
            attempt.jti = body.jti as string;
            attempt.auditIndex = (body.audit as { index?: number } | undefined)?.index;
          } else {
            attempt.code = typeof body.code === 'string' ? body.code : '(no code)';
            if (typeof body.code !== 'string') attempt.rawBody = text.slice(0, 200);
          }
        } catch {
          attempt.code = '(unparsable body)';
          attempt.rawBody = text.slice(0, 200);
        }
      } catch (err) {
        attempt.end = Date.now();
        attempt.error = errorCode(err);
      } finally {
        this.inflight--;
      }
      this.attempts.push(attempt);
      // Back off a little when the service is down, so outages do not become a busy loop.
      if (attempt.error) await new Promise((r) => setTimeout(r, 25));
      else if (attempt.status !== 200) await new Promise((r) => setTimeout(r, 10));
    }
  }
}
