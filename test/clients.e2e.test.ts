import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminV1 } from "@t4dm/proto";
import { call, connectClients, makeDataDir, REPO_ROOT, startPod, type Pod } from "@t4dm/testkit";

// `make clients` (which `make test` runs first) installs the Python package into its venv and
// builds the Go example; these are the real example programs, run as child processes against a
// real pod. test/clients-installed.e2e.test.ts installs each client outside the repository.
const EXAMPLES = {
  python: [path.join(REPO_ROOT, "build/clients/python/venv/bin/python"), path.join(REPO_ROOT, "clients/python/example.py")],
  go: [path.join(REPO_ROOT, "build/clients/go/bin/example")],
} as const;
type Language = keyof typeof EXAMPLES;
const LANGUAGES = Object.keys(EXAMPLES) as Language[];
const REMEMBERED_FIRST = "The staging deploy key rotates every Monday at 09:00 UTC.";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an example to completion (killed after 30 s) with only PATH and the given variables. */
function runExample(language: Language, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const [command, ...prefix] = EXAMPLES[language];
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** What both examples print: proto3 JSON of each answer (64-bit numbers as strings). */
interface ExampleOutput {
  namespace: string;
  remembered: { memory: { id: string; namespace: string; content: string }; decision: string; lsn: string }[];
  recall: { recallId: string; memories: { memory: { id: string; content: string }; score: number }[] };
  reinforce: { rewardPredictionError: number; creditedMemories: number; lsn: string };
}

/** Checks a successful run's JSON and returns it. */
function expectRoundTrip(run: Run, namespace: string): ExampleOutput {
  expect(run.code, run.stderr).toBe(0);
  const out = JSON.parse(run.stdout) as ExampleOutput;
  expect(out.namespace).toBe(namespace);
  expect(out.remembered).toHaveLength(2);
  for (const remembered of out.remembered) {
    expect(remembered.decision).toBe("ADMISSION_DECISION_ADMITTED");
    expect(remembered.memory.namespace).toBe(namespace);
  }
  const first = out.remembered.find((r) => r.memory.content === REMEMBERED_FIRST)!;
  expect(first).toBeDefined();
  expect(out.recall.recallId).not.toBe("");
  expect(out.recall.memories.map((m) => m.memory.id)).toContain(first.memory.id);
  expect(typeof out.reinforce.rewardPredictionError).toBe("number");
  expect(Number.isFinite(out.reinforce.rewardPredictionError)).toBe(true);
  expect(typeof out.reinforce.creditedMemories).toBe("number");
  // The reinforce was written ahead after both remembers.
  expect(Number(out.reinforce.lsn)).toBeGreaterThan(Math.max(...out.remembered.map((r) => Number(r.lsn))));
  return out;
}

beforeAll(() => {
  const missing = Object.values(EXAMPLES)
    .map((command) => command[command.length - 1]!)
    .filter((file) => !existsSync(file));
  if (missing.length > 0) throw new Error(`the clients are not built (${missing.join(", ")}); run \`make clients\``);
});

describe("polyglot clients in development mode (no keys configured)", () => {
  let pod: Pod;
  let c: ReturnType<typeof connectClients>;
  const appliedLsn = async () => (await call(c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({}))).appliedLsn;

  beforeAll(async () => {
    pod = await startPod();
    c = connectClients(pod.grpcAddr);
  });
  afterAll(async () => {
    c?.close();
    await pod?.stop();
  });

  it.each(LANGUAGES)("the %s example remembers, recalls and reinforces; the applied LSN grows", async (language) => {
    const before = await appliedLsn();
    const namespace = `clients-e2e/${language}`;
    const out = expectRoundTrip(await runExample(language, ["--addr", pod.grpcAddr, "--namespace", namespace]), namespace);
    const after = await appliedLsn();
    expect(after).toBeGreaterThan(before);
    expect(after).toBeGreaterThanOrEqual(Number(out.reinforce.lsn));
  });
});

describe("polyglot clients with API keys", () => {
  const KEY = "clients-e2e-key-0123456789";
  const keyDir = makeDataDir("t4dm-client-keys-");
  let pod: Pod;

  beforeAll(async () => {
    const file = path.join(keyDir.dir, "keys.json");
    const sha256 = createHash("sha256").update(KEY).digest("hex");
    writeFileSync(file, JSON.stringify({ keys: [{ id: "clients-e2e", sha256, namespaces: ["clients-e2e/*"] }] }));
    pod = await startPod({ env: { T4DM_API_KEYS_FILE: file } });
  });
  afterAll(async () => {
    await pod?.stop();
    keyDir.remove();
  });

  it.each(LANGUAGES)("the %s example sends the key from --api-key or T4DM_API_KEY, and fails without one", async (language) => {
    const fromFlag = await runExample(language, ["--addr", pod.grpcAddr, "--namespace", `clients-e2e/${language}-flag`, "--api-key", KEY]);
    expectRoundTrip(fromFlag, `clients-e2e/${language}-flag`);
    const fromEnv = await runExample(language, ["--addr", pod.grpcAddr, "--namespace", `clients-e2e/${language}-env`], { T4DM_API_KEY: KEY });
    expectRoundTrip(fromEnv, `clients-e2e/${language}-env`);

    const without = await runExample(language, ["--addr", pod.grpcAddr, "--namespace", `clients-e2e/${language}-none`]);
    expect(without.code).toBe(1);
    expect(without.stdout).toBe("");
    expect(without.stderr).toMatch(/Remember failed: UNAUTHENTICATED/);
  });
});
