// Tracing is off unless the standard OTEL_* variables ask for it (tracing/setup.ts); with it off,
// no traceparent is sent to signers. No process is started.
import { describe, expect, it } from 'vitest';
import { tracingEnabled } from '../tracing/setup.js';
import { injectTraceHeaders } from '../tracing/spans.js';

describe('tracing configuration', () => {
  it('follows OTEL_TRACES_EXPORTER, the OTLP endpoint variables and OTEL_SDK_DISABLED', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toBe(true);
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(false);
    expect(tracingEnabled({ OTEL_TRACES_EXPORTER: 'console' })).toBe(false);
    expect(tracingEnabled({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
  });

  it('sends no trace headers while tracing is off', () => {
    expect(injectTraceHeaders({ 'content-type': 'application/json' })).toEqual({ 'content-type': 'application/json' });
  });
});
