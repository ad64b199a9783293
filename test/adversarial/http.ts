// Clients for the corpus: an ordinary one (undici), a raw HTTP/1.1 one over a TCP socket (exact
// bytes: duplicate headers, odd paths, lying lengths, trickled bodies), and mTLS for the signers.
// Every call is bounded in time.
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Agent, request } from 'undici';
import type { Outcome } from './harness.js';

const TIMEOUT_MS = 10_000;

function headerValue(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

export interface Call {
  method?: string;
  headers?: Record<string, string> | string[];
  body?: string | Buffer;
  dispatcher?: Agent;
}

/** One request with undici; transport errors become `status: 0`. */
export async function call(url: string, opts: Call = {}): Promise<Outcome> {
  const method = opts.method ?? 'POST';
  try {
    const res = await request(url, {
      method: method as never,
      headers: opts.headers as never,
      body: opts.body,
      dispatcher: opts.dispatcher,
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = await res.body.text();
    return { status: res.statusCode, contentType: headerValue(res.headers['content-type']), body, head: method === 'HEAD' };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    return { status: 0, contentType: '', body: '', error: `${e.code ?? e.name}${e.cause ? ` (${e.cause.code ?? e.cause.message})` : ''}` };
  }
}

export function json(url: string, body: unknown, headers: Record<string, string> = {}, dispatcher?: Agent): Promise<Outcome> {
  return call(url, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), dispatcher });
}

/** Parses a raw HTTP/1.1 response (content-length or chunked). */
function parseRaw(buf: Buffer): Outcome | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1];
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = buf.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    let rest = body;
    for (let guard = 0; guard < 10_000; guard++) {
      const nl = rest.indexOf('\r\n');
      if (nl < 0) break;
      const size = parseInt(rest.subarray(0, nl).toString('latin1'), 16);
      if (!Number.isFinite(size) || size === 0) break;
      parts.push(rest.subarray(nl + 2, nl + 2 + size));
      rest = rest.subarray(nl + 2 + size + 2);
    }
    body = Buffer.concat(parts);
  } else if (headers['content-length']) {
    body = body.subarray(0, Number(headers['content-length']));
  }
  return { status: Number(status), contentType: headers['content-type'] ?? '', body: body.toString('utf8') };
}

export interface RawOptions {
  /** Milliseconds to wait for the whole exchange. */
  timeoutMs?: number;
  /** Give up (destroy the socket) after this many ms even without an answer: slow-client cases. */
  abortAfterMs?: number;
  /** Send `trickle` one byte at a time, every `trickleEveryMs`, after `text`. */
  trickle?: string | Buffer;
  trickleEveryMs?: number;
  /** Speak TLS (mTLS with cert/key) instead of plain TCP. */
  tls?: TlsFiles;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends exact bytes to host:port and reads the answer until the server closes or the time runs
 * out. Large bodies go in 64 KiB pieces and stop as soon as the server has answered, so an early
 * 413 is read rather than lost to a reset.
 */
export function raw(origin: string, text: string | Buffer, opts: RawOptions = {}): Promise<Outcome> {
  const u = new URL(origin);
  const data = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket: Socket = opts.tls ? tlsConnect({ host: u.hostname, port: Number(u.port), ...opts.tls, rejectUnauthorized: true }) : connect(Number(u.port), u.hostname);
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (abortTimer) clearTimeout(abortTimer);
      socket.destroy();
      const parsed = parseRaw(received);
      resolve(parsed ?? { status: 0, contentType: '', body: received.toString('utf8'), error: error ?? 'closed without a response' });
    };
    const timer = setTimeout(() => finish('timeout'), opts.timeoutMs ?? TIMEOUT_MS);
    const abortTimer = opts.abortAfterMs ? setTimeout(() => finish('aborted by the client'), opts.abortAfterMs) : undefined;
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      const parsed = parseRaw(received);
      // Complete once the declared body has arrived (keep-alive servers would not close).
      if (parsed && (parsed.body.length > 0 || /\r\n\r\n$/.test(received.toString('latin1')))) {
        const declared = /content-length:\s*(\d+)/i.exec(received.toString('latin1'));
        if (!declared || Buffer.byteLength(parsed.body) >= Number(declared[1])) finish();
      }
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
    // The listener returns nothing: the async sender handles its own errors (see the catch).
    socket.on(
      opts.tls ? 'secureConnect' : 'connect',
      () =>
        void (async () => {
          try {
            // Large requests: send a little more than the servers' 16 KiB body limit, then give the
            // server a moment to refuse before sending the rest. A server that answers early and
            // closes while our bytes are still unread in its buffer sends a TCP reset, which would
            // discard its answer on our side; pausing makes that early answer readable.
            const PIECE = 16_384;
            const PAUSE_AFTER = 24 * 1024;
            let paused = false;
            for (let off = 0; off < data.length && received.length === 0 && !settled; off += PIECE) {
              if (!paused && off >= PAUSE_AFTER) {
                paused = true;
                await new Promise<void>((r) => {
                  const t = setTimeout(r, 300);
                  socket.once('data', () => (clearTimeout(t), r()));
                });
                if (received.length > 0 || settled) break;
              }
              const piece = data.subarray(off, off + PIECE);
              if (!socket.write(piece)) await new Promise((r) => socket.once('drain', r));
              if (data.length > PIECE) await new Promise((r) => setImmediate(r));
            }
            if (opts.trickle !== undefined) {
              const bytes = typeof opts.trickle === 'string' ? Buffer.from(opts.trickle, 'latin1') : opts.trickle;
              for (let i = 0; i < bytes.length && !settled; i++) {
                await sleep(opts.trickleEveryMs ?? 50);
                if (!settled) socket.write(bytes.subarray(i, i + 1));
              }
            }
          } catch {
            /* the server hung up: read what it said */
          }
        })(),
    );
  });
}

/** Builds a raw HTTP/1.1 request. `headers` are full lines; Content-Length is added unless given. */
export function rawRequest(method: string, target: string, headers: string[], body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...headers];
  if (!headers.some((h) => /^(content-length|transfer-encoding):/i.test(h)) && (body.length > 0 || method === 'POST')) {
    lines.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export interface TlsFiles {
  ca: string;
  cert?: string;
  key?: string;
}

/** An undici Agent for the signers with the given client identity (or none). */
export function tlsAgent(tls: TlsFiles): Agent {
  return new Agent({ connect: { ...tls, rejectUnauthorized: true, timeout: 5_000 }, connections: 4 });
}
