import { readFileSync } from "node:fs";
import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { adminV1 } from "@t4dm/proto";
import type { CliOptions } from "./cli-args.js";

/** The two admin calls the CLI makes, with the key on every call. */
export interface AdminCalls {
  exportPage(request: adminV1.ExportMemoriesRequest): Promise<adminV1.ExportMemoriesResponse>;
  importBatch(request: adminV1.ImportMemoriesRequest): Promise<adminV1.ImportMemoriesResponse>;
  listNamespaces(): Promise<string[]>;
  close(): void;
}

/** One call's budget: a page or a batch, never the whole run. */
const CALL_DEADLINE_MS = 120_000;

export function connectAdmin(options: CliOptions): AdminCalls {
  const channel = options.tls ? credentials.createSsl(options.tlsCa ? readFileSync(options.tlsCa) : undefined) : credentials.createInsecure();
  const client = new adminV1.AdminServiceClient(options.addr, channel, { "grpc.max_receive_message_length": 64 * 1024 * 1024 });
  const metadata = () => {
    const m = new Metadata();
    if (options.apiKey) m.set("authorization", `Bearer ${options.apiKey}`);
    return m;
  };
  const unary =
    <Req, Res>(method: (request: Req, metadata: Metadata, options: { deadline: number }, callback: (error: ServiceError | null, response: Res) => void) => unknown) =>
    (request: Req): Promise<Res> =>
      new Promise((resolve, reject) => {
        method.call(client, request, metadata(), { deadline: Date.now() + CALL_DEADLINE_MS }, (error, response) => (error ? reject(error) : resolve(response)));
      });
  return {
    exportPage: unary(client.exportMemories),
    importBatch: unary(client.importMemories),
    listNamespaces: async () => (await unary<adminV1.ListNamespacesRequest, adminV1.ListNamespacesResponse>(client.listNamespaces)({})).namespaces,
    close: () => client.close(),
  };
}

/** Statuses a rerun cannot fix: the input, the key or the target must change first (exit 2). */
const REFUSALS = new Set<number>([status.INVALID_ARGUMENT, status.PERMISSION_DENIED, status.UNAUTHENTICATED, status.FAILED_PRECONDITION, status.NOT_FOUND]);

export function isRefusal(error: unknown): boolean {
  return typeof (error as ServiceError)?.code === "number" && REFUSALS.has((error as ServiceError).code);
}

/** The server's message without grpc-js's "3 INVALID_ARGUMENT: " prefix, and the status name. */
export function describeStatus(error: unknown): string {
  const e = error as ServiceError;
  if (typeof e?.code !== "number") return (error as Error)?.message ?? String(error);
  return `${status[e.code] ?? e.code}: ${e.details || e.message}`;
}
