// OpenTelemetry traces across processes: with OTEL_EXPORTER_OTLP_ENDPOINT set, the coordinator
// and the signers export spans over OTLP/HTTP (the real exporter, JSON encoding) to a small OTLP
// receiver on loopback in this test; one mint is one trace, from the caller's `traceparent`
// through the coordinator's steps to each signer's round-2 span, joined by W3C trace context over
// mTLS. Without the variables nothing is exported.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack, freePorts } from './helpers/stack.js';

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
}

interface OtlpJson {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans?: Array<{ spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: Array<{ key: string; value: Record<string, unknown> }> }> }>;
  }>;
}

const received: ExportedSpan[] = [];
const contentTypes = new Set<string>();
let receiver: Server;
let stack: Stack;

/** A minimal OTLP/HTTP trace receiver (POST /v1/traces, JSON encoding), answering like a collector. */
function startReceiver(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
      contentTypes.add(String(req.headers['content-type']));
      const doc = JSON.parse(body) as OtlpJson;
      for (const rs of doc.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            const attributes = Object.fromEntries((s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
            received.push({ service, traceId: s.traceId, spanId: s.spanId, ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}), name: s.name, attributes });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  const [port] = await freePorts(1);
  receiver = await startReceiver(port!);
  stack = await Stack.start({
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: '100' },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await new Promise((r) => receiver?.close(r));
});

describe('traces across coordinator and signers', () => {
  it("one mint is one trace: caller → coordinator steps → each signer's round 2", async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const oidc = await stack.idToken();
    const res = await fetch(`${stack.coordinatorUrl}/v1/mint`, {
      method: 'POST',
      headers: { authorization: `Bearer ${oidc}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ scopes: ['deploy:canary'] }),
    });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const signers = (await stack.auditRecords()).records.at(-1)!.signers as string[];

    const deadline = Date.now() + 30_000;
    const trace = () => received.filter((s) => s.traceId === traceId);
    const signerSpans = () => trace().filter((s) => s.name === 'ztmint.signer POST /v1/round2');
    // Round 2 of the token at t signers, then round 2 of the checkpoint that covers its record (the
    // stack's first mint, so no earlier checkpoint covers it) at t signers: 2t signer spans.
    while ((signerSpans().length < 4 || !trace().some((s) => s.name === 'ztmint.mint')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const spans = trace();
    const byName = (name: string) => spans.filter((s) => s.name === name);

    const [mint] = byName('ztmint.mint');
    expect(mint).toMatchObject({ service: 'ztmint-coordinator', parentSpanId: callerSpan });
    for (const step of ['ztmint.oidc.verify', 'ztmint.policy.evaluate', 'ztmint.frost.sign', 'ztmint.audit.append', 'ztmint.tlog.prove']) {
      expect(byName(step), step).toHaveLength(1);
      expect(byName(step)[0]!.parentSpanId, step).toBe(mint!.spanId);
    }
    const sign = byName('ztmint.frost.sign')[0]!;
    expect(byName('ztmint.frost.aggregate')[0]!.parentSpanId).toBe(sign.spanId);
    const round2 = byName('ztmint.signer.round2');
    expect(round2.map((s) => s.attributes['ztmint.signer']).sort()).toEqual(signers);
    for (const s of round2) expect(s.parentSpanId).toBe(sign.spanId);

    // The checkpoint round covering the record runs under ztmint.tlog.prove.
    const checkpointCalls = byName('ztmint.signer.checkpoint');
    expect(checkpointCalls.length).toBeGreaterThanOrEqual(2);
    for (const s of checkpointCalls) expect(s.parentSpanId).toBe(byName('ztmint.tlog.prove')[0]!.spanId);

    // The signers' spans are children of the coordinator's round-2 call to them.
    const atSigners = signerSpans().filter((s) => !checkpointCalls.some((c) => c.spanId === s.parentSpanId));
    expect(signerSpans().length - atSigners.length).toBe(checkpointCalls.length);
    expect(atSigners.map((s) => s.service).sort()).toEqual(signers.map((n) => `ztmint-${n}`));
    for (const s of atSigners) {
      const parent = round2.find((r) => r.spanId === s.parentSpanId);
      expect(parent, s.service).toBeDefined();
      expect(`ztmint-${parent!.attributes['ztmint.signer']}`).toBe(s.service);
      expect(s.attributes['http.response.status_code']).toBe(200);
    }
    expect([...contentTypes]).toEqual(['application/json']);

    // No token or claim content in what was exported.
    const exported = JSON.stringify(received);
    expect(exported).not.toContain(oidc);
    expect(exported).not.toContain(token);
    expect(exported).not.toContain('acme/webapp');
  });
});
