import { trace, type Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

export interface Tracing {
  tracer: Tracer;
  /** True when spans leave the process (an OTLP endpoint is configured). */
  exporting: boolean;
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry tracing, exported over OTLP/HTTP when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set — the exporter
 * reads the standard OTEL_* variables itself. Without one, the tracer is the
 * API's no-op and costs nothing.
 */
export function startTracing(serviceName: string, env: Readonly<Record<string, string | undefined>> = process.env): Tracing {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    return { tracer: trace.getTracer(serviceName), exporting: false, shutdown: async () => {} };
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 })],
  });
  // Registers the global provider and the AsyncLocalStorage context manager,
  // so spans started inside a handler become children of its RPC span.
  provider.register();
  return { tracer: trace.getTracer(serviceName), exporting: true, shutdown: () => provider.shutdown() };
}
