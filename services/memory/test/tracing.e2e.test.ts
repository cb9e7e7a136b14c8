import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, startPod, type Pod } from "@t4dm/testkit";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

/**
 * Receives what the real OTLP/HTTP exporter sends (JSON on /v1/traces), the
 * way a collector would, so the test sees the spans that left the process.
 */
function startReceiver(): Promise<{ server: Server; url: string; spans: OtlpSpan[]; waitFor(match: (spans: OtlpSpan[]) => boolean): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const waiters: { match: (s: OtlpSpan[]) => boolean; resolve: () => void }[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const parsed = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const resource of parsed.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      for (const waiter of [...waiters]) if (waiter.match(spans)) waiter.resolve();
      response.writeHead(200, { "content-type": "application/json" });
      response.end("{}");
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        server,
        url: `http://127.0.0.1:${port}`,
        spans,
        waitFor: (match) => (match(spans) ? Promise.resolve() : new Promise((r) => waiters.push({ match, resolve: r }))),
      });
    }),
  );
}

describe("tracing", () => {
  let pod: Pod;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    pod = await startPod({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, T4DM_EMBEDDING_DIM: "32" } });
  });
  afterAll(async () => {
    await pod?.stop();
    receiver?.server.close();
  });

  it("exports a span per RPC with the WAL append and apply spans as its children", async () => {
    const c = connectClients(pod.grpcAddr);
    await call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: "tr", content: "traced memory", admission: 2 }));
    c.close();
    const rpc = (spans: OtlpSpan[]) => spans.find((s) => s.name === "MemoryService/Remember");
    const children = (spans: OtlpSpan[], parent: OtlpSpan) => spans.filter((s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId).map((s) => s.name);
    await receiver.waitFor((spans) => {
      const root = rpc(spans);
      return root !== undefined && children(spans, root).includes("wal.apply");
    });
    const root = rpc(receiver.spans)!;
    expect(children(receiver.spans, root).sort()).toEqual(["wal.append", "wal.apply"]);
  });
});
