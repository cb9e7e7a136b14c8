import { execFile, spawn } from "node:child_process";
import { copyFileSync, cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { makeDataDir, REPO_ROOT, startPod, type Pod } from "@t4dm/testkit";

// Each client as a user gets it, installed into a fresh project outside the repository the way its
// ecosystem installs packages (npm pack + npm install, a Go module with a replace directive, pip
// install into a fresh virtualenv), then a
// small program (test/clients/*-consumer.*) runs against a real pod that starts only after the
// client has begun retrying UNAVAILABLE. Every consumer prints the same JSON lines.
const run = promisify(execFile);
const CONSUMERS = path.join(REPO_ROOT, "test/clients");

interface Described {
  kind: "call" | "option";
  code?: string;
  reason?: string;
  option?: string;
  fieldViolations?: { field: string; description: string }[];
  message: string;
}
interface ConsumerDone {
  remembered: { id: string; decision: string; lsn: number };
  recall: { recallId: string; ids: string[] };
  reinforce: { creditedMemories: number; lsn: number };
  again: { id: string; decision: string };
  reused: Described | null;
  badArgument: Described | null;
  badOption: Described | null;
  listed: string[];
  retriedRequestIds: string[];
}

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

/**
 * Runs a consumer against a port nothing listens on yet, starts a pod there once the consumer
 * reports its first retry, and checks what the consumer printed.
 */
async function runAgainstLatePod(command: string, args: string[], cwd: string, namespace: string): Promise<{ pod: Pod; done: ConsumerDone }> {
  const port = await freePort();
  const child = spawn(command, [...args, `127.0.0.1:${port}`, namespace], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const firstRetry = new Promise<void>((resolve, reject) => {
    let buffered = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let newline; (newline = buffered.indexOf("\n")) >= 0; buffered = buffered.slice(newline + 1)) {
        lines.push(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>);
        if ("retry" in lines[lines.length - 1]!) resolve();
      }
    });
    void exited.then(() => reject(new Error(`the consumer exited before retrying: ${stderr}`)));
  });
  let pod: Pod | undefined;
  try {
    await firstRetry;
    pod = await startPod({ env: { T4DM_GRPC_ADDR: `127.0.0.1:${port}` } });
    expect(await exited, stderr).toBe(0);
  } catch (error) {
    await pod?.stop();
    throw error;
  } finally {
    child.kill("SIGKILL");
  }

  const retries = lines.filter((line) => "retry" in line).map((line) => line.retry as { method: string; code: string; requestId: string });
  expect(retries.length).toBeGreaterThan(0);
  expect(retries.every((r) => r.method === "Remember" && r.code === "UNAVAILABLE")).toBe(true);
  const done = (lines.find((line) => "done" in line) as { done: ConsumerDone }).done;
  return { pod, done };
}

/** What every consumer must have seen. */
function expectRoundTrip(done: ConsumerDone): void {
  // Every attempt of the retried Remember sent one request id...
  expect(done.retriedRequestIds).toHaveLength(1);
  expect(done.retriedRequestIds[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(done.remembered.decision).toBe("ADMISSION_DECISION_ADMITTED");
  expect(done.recall.ids).toContain(done.remembered.id);
  expect(done.reinforce.lsn).toBeGreaterThan(done.remembered.lsn);
  // ...the one the service keyed the memory on: it answers the first memory, not a merge into it.
  expect(done.again).toEqual({ id: done.remembered.id, decision: "ADMISSION_DECISION_ADMITTED" });
  expect(done.reused).toMatchObject({ kind: "call", code: "FAILED_PRECONDITION", reason: "REQUEST_ID_REUSED" });
  expect(done.listed).toEqual([done.remembered.id]);

  expect(done.badArgument).toMatchObject({ kind: "call", code: "INVALID_ARGUMENT" });
  expect(done.badArgument!.fieldViolations!.map((v) => v.field)).toContain("content");
  expect(done.badArgument!.message).toMatch(/Remember failed: INVALID_ARGUMENT: /);
  expect(done.badOption).toMatchObject({ kind: "option" });
  expect(done.badOption!.option).toMatch(/deadline|timeout/i);
}

describe("@t4dm/client, npm packed and installed in a separate project", () => {
  const project = makeDataDir("t4dm-ts-client-");
  const packageDir = path.join(REPO_ROOT, "clients/typescript");
  let pod: Pod | undefined;

  beforeAll(async () => {
    if (!existsSync(path.join(packageDir, "dist/index.js"))) throw new Error("clients/typescript is not built; run `npx tsc -b`");
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", project.dir], { cwd: packageDir });
    const tarball = path.join(project.dir, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
    await run("npm", ["init", "-y"], { cwd: project.dir });
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], { cwd: project.dir, timeout: 120_000 });
    copyFileSync(path.join(CONSUMERS, "typescript-consumer.mjs"), path.join(project.dir, "consumer.mjs"));
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
    const result = await runAgainstLatePod(process.execPath, ["consumer.mjs"], project.dir, "clients-e2e/typescript");
    pod = result.pod;
    expectRoundTrip(result.done);
  });
  it("sends the API key as a bearer token; without it the service answers UNAUTHENTICATED", async () => {
    const key = "clients-installed-key-0123456789";
    const keysFile = path.join(project.dir, "keys.json");
    writeFileSync(keysFile, JSON.stringify({ keys: [{ id: "installed", sha256: createHash("sha256").update(key).digest("hex"), namespaces: ["clients-e2e/*"] }] }));
    const keyed = await startPod({ env: { T4DM_API_KEYS_FILE: keysFile } });
    try {
      const script = `
        import { connect, T4dmCallError } from "@t4dm/client";
        const [address, key] = process.argv.slice(1);
        const request = { namespace: "clients-e2e/typescript-keys", content: "keys travel as bearer tokens" };
        const withKey = connect(address, { apiKey: key });
        const { memory } = await withKey.remember(request);
        const without = connect(address, { retries: false });
        const refused = await without.remember(request).then(() => "accepted", (e) => (e instanceof T4dmCallError ? e.codeName : String(e)));
        withKey.close();
        without.close();
        console.log(JSON.stringify({ id: memory.id, refused }));`;
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script, keyed.grpcAddr, key], { cwd: project.dir });
      expect(JSON.parse(stdout)).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), refused: "UNAUTHENTICATED" });
    } finally {
      await keyed.stop();
    }
  });
});

describe("the Go client, used from a module outside the repository through a replace directive", () => {
  const project = makeDataDir("t4dm-go-client-");
  let pod: Pod | undefined;

  beforeAll(async () => {
    copyFileSync(path.join(CONSUMERS, "go-consumer.go"), path.join(project.dir, "main.go"));
    writeFileSync(
      path.join(project.dir, "go.mod"),
      `module example.com/t4dm-consumer\n\ngo 1.26.0\n\nrequire github.com/t4dm/t4dm/clients/go v0.0.0\n\nreplace github.com/t4dm/t4dm/clients/go => ${path.join(REPO_ROOT, "clients/go")}\n`,
    );
    await run("go", ["mod", "tidy"], { cwd: project.dir, timeout: 120_000 });
    await run("go", ["build", "-buildvcs=false", "-o", "consumer", "."], { cwd: project.dir, timeout: 120_000 });
  }, 180_000);
  afterAll(async () => {
    await pod?.stop();
    project.remove();
  });

  it("retries UNAVAILABLE with one request_id until the pod is up, then remembers, recalls, reinforces and refuses bad input", async () => {
    const result = await runAgainstLatePod(path.join(project.dir, "consumer"), [], project.dir, "clients-e2e/go");
    pod = result.pod;
    expectRoundTrip(result.done);
  });
});

describe("the Python package, pip installed from a clean copy into a fresh virtualenv", () => {
  const project = makeDataDir("t4dm-python-client-");
  const python = path.join(project.dir, "venv/bin/python");
  let pod: Pod | undefined;

  beforeAll(async () => {
    const copy = path.join(project.dir, "t4dm-python");
    cpSync(path.join(REPO_ROOT, "clients/python"), copy, { recursive: true });
    await run("python3", ["-m", "venv", path.join(project.dir, "venv")], { timeout: 120_000 });
    await run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", copy], { cwd: project.dir, timeout: 170_000 });
    copyFileSync(path.join(CONSUMERS, "python-consumer.py"), path.join(project.dir, "consumer.py"));
  }, 180_000);
  afterAll(async () => {
    await pod?.stop();
    project.remove();
  });

  it("retries UNAVAILABLE with one request_id until the pod is up, then remembers, recalls, reinforces and refuses bad input", async () => {
    const result = await runAgainstLatePod(python, ["consumer.py"], project.dir, "clients-e2e/python");
    pod = result.pod;
    expectRoundTrip(result.done);
  });
});
