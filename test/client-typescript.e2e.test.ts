import { execFile, spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDataDir, REPO_ROOT, startPod, type Pod } from "@t4dm/testkit";

// The TypeScript client as a user gets it: `npm pack`, installed into a fresh project outside the
// repository, used from a plain ESM script against a real pod.
const PACKAGE_DIR = path.join(REPO_ROOT, "clients/typescript");
const CONSUMER = path.join(REPO_ROOT, "test/clients/typescript-consumer.mjs");
const run = promisify(execFile);

/** A free loopback port: the pod is started on it only after the client has begun retrying. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

interface ConsumerDone {
  remembered: { id: string; decision: string; lsn: number };
  recall: { recallId: string; ids: string[] };
  reinforce: { creditedMemories: number; lsn: number };
  again: { id: string; decision: string };
  reused: { kind: string; code: string; reason: string } | null;
  badArgument: { kind: string; code: string; fieldViolations: { field: string; description: string }[]; message: string } | null;
  badOption: { kind: string; option: string; message: string } | null;
  listed: string[];
  retriedRequestIds: string[];
}

describe("@t4dm/client packed and installed in a separate project", () => {
  const project = makeDataDir("t4dm-ts-client-");
  let tarball: string;
  let pod: Pod | undefined;

  beforeAll(async () => {
    if (!existsSync(path.join(PACKAGE_DIR, "dist/index.js"))) throw new Error("clients/typescript is not built; run `npx tsc -b`");
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", project.dir], { cwd: PACKAGE_DIR });
    tarball = path.join(project.dir, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
    await run("npm", ["init", "-y"], { cwd: project.dir });
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], { cwd: project.dir, timeout: 120_000 });
    copyFileSync(CONSUMER, path.join(project.dir, "consumer.mjs"));
  }, 180_000);
  afterAll(async () => {
    await pod?.stop();
    project.remove();
  });

  it("packs only built code and public dependencies", () => {
    const installed = path.join(project.dir, "node_modules/@t4dm/client");
    const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies).sort()).toEqual(["@bufbuild/protobuf", "@grpc/grpc-js"]);
    expect(existsSync(path.join(installed, "dist/index.d.ts"))).toBe(true);
    expect(existsSync(path.join(installed, "src"))).toBe(false);
    expect(existsSync(path.join(project.dir, "node_modules/@t4dm/proto"))).toBe(false);
  });

  it("retries UNAVAILABLE with one request_id until the pod is up, then remembers, recalls, reinforces and refuses bad input", async () => {
    const port = await freePort();
    const namespace = "clients-e2e/typescript";
    const child = spawn(process.execPath, ["consumer.mjs", `127.0.0.1:${port}`, namespace], { cwd: project.dir, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const lines: Record<string, unknown>[] = [];
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const firstRetry = new Promise<void>((resolve, reject) => {
      let buffered = "";
      child.stdout.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        let newline;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          lines.push(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>);
          buffered = buffered.slice(newline + 1);
          if (lines.some((line) => "retry" in line)) resolve();
        }
      });
      void exited.then(() => reject(new Error(`the consumer exited before retrying: ${stderr}`)));
    });
    try {
      await firstRetry;
      pod = await startPod({ env: { T4DM_GRPC_ADDR: `127.0.0.1:${port}` } });
      expect(await exited, stderr).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }

    const retries = lines.filter((line) => "retry" in line).map((line) => line.retry as { method: string; code: string; requestId: string });
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((r) => r.method === "Remember" && r.code === "UNAVAILABLE")).toBe(true);
    const done = (lines.find((line) => "done" in line) as { done: ConsumerDone }).done;
    expect(done.retriedRequestIds).toHaveLength(1);
    expect(done.retriedRequestIds[0]).toMatch(/^[0-9a-f-]{36}$/);

    expect(done.remembered.decision).toBe("ADMISSION_DECISION_ADMITTED");
    expect(done.recall.ids).toContain(done.remembered.id);
    expect(done.reinforce.lsn).toBeGreaterThan(done.remembered.lsn);
    // The retried request's id answers the first memory, not a merge into it.
    expect(done.again).toEqual({ id: done.remembered.id, decision: "ADMISSION_DECISION_ADMITTED" });
    expect(done.reused).toMatchObject({ kind: "call", code: "FAILED_PRECONDITION", reason: "REQUEST_ID_REUSED" });
    expect(done.listed).toEqual([done.remembered.id]);

    expect(done.badArgument).toMatchObject({ kind: "call", code: "INVALID_ARGUMENT" });
    expect(done.badArgument!.fieldViolations.map((v) => v.field)).toContain("content");
    expect(done.badArgument!.message).toMatch(/^Remember failed: INVALID_ARGUMENT: /);
    expect(done.badOption).toMatchObject({ kind: "option", option: "deadlineMs" });
  });
});
