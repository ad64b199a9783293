// A programmable HTTP/1.1 server on loopback that writes raw bytes: status lines, reason
// phrases and headers Node's own server would refuse to send, bodies that never end or end
// too late. It stands in for a hostile coordinator (or whatever is on the path to it).
import { createServer, type AddressInfo, type Socket } from 'node:net';

interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export type RawHandler = (req: RawRequest, socket: Socket, n: number) => void;

export interface RawServer {
  url: string;
  requests: RawRequest[];
  close(): Promise<void>;
}

export async function startRawServer(handler: RawHandler): Promise<RawServer> {
  const requests: RawRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [requestLine = '', ...headerLines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const h of headerLines) {
        const at = h.indexOf(':');
        if (at > 0) headers[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
      }
      const length = Number(headers['content-length'] ?? '0');
      if (buffer.length < end + 4 + length) return;
      socket.off('data', onData);
      const [method = '', path = ''] = requestLine.split(' ');
      const req = { method, path, headers, body: buffer.subarray(end + 4, end + 4 + length).toString('utf8') };
      requests.push(req);
      handler(req, socket, requests.length);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface RawResponse {
  status: number;
  /** The reason phrase, written as is (bytes the HTTP grammar forbids included). */
  reason?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Writes a complete response (with Content-Length unless given) and closes the connection. */
export function respond(socket: Socket, r: RawResponse): void {
  const body = typeof r.body === 'string' ? Buffer.from(r.body) : (r.body ?? Buffer.alloc(0));
  const headers = { 'content-length': String(body.length), connection: 'close', ...r.headers };
  const head = `HTTP/1.1 ${r.status} ${r.reason ?? 'OK'}\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

/** Sends headers, then `chunk` again and again as fast as the client reads, until it hangs up. */
export function endlessBody(socket: Socket, head: string, chunk: Buffer): void {
  socket.write(head);
  const pump = (): void => {
    while (!socket.destroyed && socket.write(chunk)) {
      /* keep writing until the socket buffers */
    }
    if (!socket.destroyed) socket.once('drain', pump);
  };
  pump();
}

/** Sends headers, then one byte every `everyMs` until the client hangs up. */
export function tricklingBody(socket: Socket, head: string, everyMs: number): void {
  socket.write(head);
  const timer = setInterval(() => {
    if (socket.destroyed) clearInterval(timer);
    else socket.write('a');
  }, everyMs);
  socket.on('close', () => clearInterval(timer));
}
