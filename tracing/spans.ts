// The few span helpers ztmint's code uses. With tracing off (tracing/setup.ts) the tracer is the
// API's no-op one. Span attributes are closed sets (signer names, problem codes, counts): never
// tokens, claims or key material.
import { SpanStatusCode, context, propagation, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('ztmint');

function fail(span: Span, err: unknown): void {
  const code = (err as { code?: unknown })?.code;
  span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? code : ((err as Error)?.name ?? 'error') });
  if (typeof code === 'string') span.setAttribute('ztmint.code', code);
}

/** Runs `fn` in a child span of the active one. */
export async function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, parent?: Context): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The synchronous form of inSpan. */
export function inSpanSync<T>(name: string, attributes: Attributes, fn: (span: Span) => T): T {
  return tracer.startActiveSpan(name, { attributes }, (span) => {
    try {
      return fn(span);
    } catch (err) {
      fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Whether a span is active here (background work without one starts no trace). */
export function hasActiveSpan(): boolean {
  return trace.getSpan(context.active()) !== undefined;
}

/** Adds `traceparent` (and `tracestate`) for the active span to outgoing request headers. */
export function injectTraceHeaders(headers: Record<string, string>): Record<string, string> {
  propagation.inject(context.active(), headers);
  return headers;
}

/** The context a request's `traceparent` header names (the active context when it has none). */
export function extractTraceContext(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(context.active(), headers);
}

/** Starts a span under `parent` without making it active (ended by the caller). */
export function startSpan(name: string, attributes: Attributes, parent: Context): Span {
  return tracer.startSpan(name, { attributes }, parent);
}

export { SpanStatusCode };
