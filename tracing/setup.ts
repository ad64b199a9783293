// OpenTelemetry tracing for a ztmint process, configured only by the standard OTEL_* variables:
// on when OTEL_TRACES_EXPORTER=otlp or an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, off otherwise (then every span is the API's no-op and
// costs next to nothing). Spans go to an OTLP/HTTP collector in batches; W3C trace context
// (`traceparent`) is the propagator, so a signer's spans join the coordinator's trace.
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

export interface Tracing {
  enabled: boolean;
  /** Sends what is still buffered; call before exit. */
  shutdown(): Promise<void>;
}

export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter)
    return exporter
      .split(',')
      .map((e) => e.trim())
      .includes('otlp');
  return !!(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Registers the global tracer provider for this process when the environment asks for it. */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  if (!tracingEnabled(env)) return { enabled: false, shutdown: async () => {} };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || serviceName }),
    // URL, headers and timeout come from OTEL_EXPORTER_OTLP_* (the exporter reads them itself).
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return { enabled: true, shutdown: () => provider.shutdown().catch(() => undefined) };
}
