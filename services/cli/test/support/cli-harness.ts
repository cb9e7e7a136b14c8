import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Metadata, type ServiceError } from "@grpc/grpc-js";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, REPO_ROOT, writeApiKeysFile } from "@t4dm/testkit";

export const CLI = path.join(REPO_ROOT, "services/cli/dist/main.js");

export const KEYS = { ops: "ops-admin-key-0123456789", dave: "dave-user-key-0123456789", aliceAdmin: "alice-admin-key-0123456789" };

/** A keys file: ops is admin everywhere, dave a plain (non-admin) key for namespace dave, aliceAdmin an admin key for namespace alice only. */
export function writeKeys(dir: string): string {
  return writeApiKeysFile(dir, [
    { id: "ops", key: KEYS.ops, namespaces: ["*"], admin: true },
    { id: "dave", key: KEYS.dave, namespaces: ["dave"] },
    { id: "alice-admin", key: KEYS.aliceAdmin, namespaces: ["alice"], admin: true },
  ]);
}

/** Runs `t4dm …` to the end: its exit code, stdout and stderr. stdin from a file, if given. */
export function runCli(args: string[], options: { stdin?: string; stdoutFile?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "" }, stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
  child.stdin.end(options.stdin === undefined ? "" : readFileSync(options.stdin));
  return new Promise((resolve) =>
    child.once("close", (code) => {
      const stdout = Buffer.concat(out).toString("utf8");
      if (options.stdoutFile) writeFileSync(options.stdoutFile, stdout);
      resolve({ code, stdout, stderr: Buffer.concat(err).toString("utf8") });
    }),
  );
}

export type Clients = ReturnType<typeof connectClients>;

/** Calls with the ops key. */
export function asOps<Req, Res>(method: (r: Req, m: Metadata, o: object, cb: (e: ServiceError | null, r: Res) => void) => unknown, request: Req): Promise<Res> {
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${KEYS.ops}`);
  return call(method as never, request, metadata) as Promise<Res>;
}

/** Every memory of a namespace (all live statuses), by id, with embeddings. */
export async function memoriesOf(c: Clients, namespace: string): Promise<memoryV1.Memory[]> {
  const all: memoryV1.Memory[] = [];
  let pageToken = "";
  do {
    const page = await asOps(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace, pageSize: 100, pageToken }));
    all.push(...page.memories);
    pageToken = page.nextPageToken;
  } while (pageToken);
  const full = await Promise.all(all.map((m) => asOps(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace, id: m.id, includeEmbedding: true }))));
  return full.map((r) => r.memory!).sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** Polls until no memory of the namespace waits for its store write (the promotion is asynchronous). */
export async function settled(c: Clients, namespace: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const pending = await asOps(
      c.memory.listMemories.bind(c.memory),
      memoryV1.ListMemoriesRequest.fromPartial({ namespace, statuses: [memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION], pageSize: 1 }),
    );
    if (pending.memories.length === 0) return;
    if (Date.now() > deadline) throw new Error(`memories of ${namespace} still pending promotion after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The dump's item lines, without the header's export time. */
export function dumpItems(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => line && !line.startsWith('{"type":"header"'))
    .sort();
}
