import type { IncomingMessage, ServerResponse } from "node:http";
import type { Meter } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";

export interface Metrics {
  meter: Meter;
  /** Serves the Prometheus text format (for GET /metrics on our own HTTP port). */
  handle(request: IncomingMessage, response: ServerResponse): void;
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry metrics exposed in Prometheus format through our own HTTP
 * server (no second port): the exporter renders, we route. Counters get the
 * `_total` suffix Prometheus expects; other names are used exactly as given.
 */
export function createMetrics(serviceName: string): Metrics {
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true });
  const provider = new MeterProvider({ readers: [exporter] });
  return {
    meter: provider.getMeter(serviceName),
    handle: (request, response) => exporter.getMetricsRequestHandler(request, response),
    shutdown: () => provider.shutdown(),
  };
}
