import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminV1, memoryV1, stateV1 } from "@t4dm/proto";
import { decodeStatusDetails } from "@t4dm/rpc";
import { connectClients, makeDataDir, startPod, type Pod } from "@t4dm/testkit";
import { asOps, dumpItems, KEYS, memoriesOf, runCli, settled, writeKeys, type Clients } from "./support/cli-harness.js";

const T = memoryV1.MemoryType;
const ALICE = [
  { content: "the deploy script is tools/deploy.sh", metadata: { team: "infra", priority: 2 }, importance: 0.9 },
  { content: "alice likes green tea in the afternoon", metadata: { team: "people" }, importance: 0.2 },
  { content: "the staging database is postgres 15", metadata: { team: "infra", env: "staging" }, importance: 0.5 },
  { content: "rotate the api keys every 90 days", metadata: { policy: true }, importance: 0.7 },
  { content: "the office cat is called Miso", metadata: {}, importance: 0.3, type: T.MEMORY_TYPE_SEMANTIC },
  { content: "to release, tag the commit and run the deploy script", metadata: {}, importance: 0.6, type: T.MEMORY_TYPE_PROCEDURAL },
  { content: "standup moves to 9:30 this week", metadata: { team: "infra" }, importance: 0.4, type: T.MEMORY_TYPE_WORKING },
];
const QUERIES = ["deploy script", "green tea", "staging database postgres", "api keys rotation", "cat name"];

describe("t4dm export / import (real pods, real CLI)", () => {
  const keyDir = makeDataDir("t4dm-cli-keys-");
  const work = makeDataDir("t4dm-cli-dumps-");
  let source: Pod;
  let target: Pod;
  let src: Clients;
  let dst: Clients;
  const ops = ["--api-key", KEYS.ops];
  const dumpPath = (name: string) => path.join(work.dir, `${name}.jsonl`);

  beforeAll(async () => {
    const env = { T4DM_API_KEYS_FILE: writeKeys(keyDir.dir), T4DM_EMBEDDING_DIM: "32", T4DM_BUFFER_CAPACITY: "3", T4DM_RATE_LIMIT: "0" };
    // The source's messages are small (256 KiB), so large memories must split export pages by size.
    [source, target] = await Promise.all([startPod({ env: { ...env, T4DM_MAX_MESSAGE_BYTES: String(256 * 1024) } }), startPod({ env })]);
    src = connectClients(source.grpcAddr);
    dst = connectClients(target.grpcAddr);
    const remember = (namespace: string, m: { content: string; metadata?: object; importance?: number; type?: memoryV1.MemoryType }) =>
      asOps(src.memory.remember.bind(src.memory), memoryV1.RememberRequest.fromPartial({ namespace, admission: 2, type: T.MEMORY_TYPE_EPISODIC, ...m } as memoryV1.RememberRequest));
    for (let i = 0; i < 8; i++) await remember("grace", { content: `grace's long note ${i}: ${"lorem ipsum dolor ".repeat(2700)}` });
    // Alice last: the buffer (3 places, shared) then still holds some of hers, so both BUFFERED and STORED travel.
    for (const namespace of ["bob", "carol", "dave", "erin", "frank"]) {
      for (let i = 0; i < 5; i++) await remember(namespace, { content: `${namespace} note number ${i} about the ${["cache", "queue", "ledger", "router", "quota"][i]}` });
    }
    for (const m of ALICE) await remember("alice", m);
    await asOps(src.admin.setRetentionPolicy.bind(src.admin), { namespace: "alice", policy: { mode: adminV1.RetentionMode.RETENTION_MODE_KEEP, maxMemories: 1000, maxAgeSeconds: 0 } });
    for (const query of QUERIES.slice(0, 2)) await asOps(src.memory.recall.bind(src.memory), memoryV1.RecallRequest.fromPartial({ namespace: "alice", query, topK: 3 }));
    const fact = (object: string, start: number) =>
      asOps(src.knowledge.upsertFact.bind(src.knowledge), memoryV1.UpsertFactRequest.fromPartial({ namespace: "alice", subject: "ada", predicate: "works_at", object, validStartTime: new Date(start), metadata: { source: "hr" } }));
    await fact("acme", Date.UTC(2024, 0, 1));
    await fact("globex", Date.UTC(2025, 0, 1));
    const procedure = await asOps(
      src.knowledge.upsertProcedure.bind(src.knowledge),
      memoryV1.UpsertProcedureRequest.fromPartial({ namespace: "alice", name: "release", trigger: "when a release is due", steps: [{ action: "tag", tool: "git" }, { action: "deploy", tool: "shell" }] }),
    );
    for (const success of [true, true, false]) {
      await asOps(src.knowledge.recordProcedureOutcome.bind(src.knowledge), memoryV1.RecordProcedureOutcomeRequest.fromPartial({ namespace: "alice", procedureId: procedure.procedure!.id, success }));
    }
    for (const namespace of ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]) await settled(src, namespace);
  });
  afterAll(async () => {
    src?.close();
    dst?.close();
    await Promise.all([source?.stop(), target?.stop()]);
    keyDir.remove();
    work.remove();
  });

  const exportTo = async (namespace: string, extra: string[] = []) => {
    const file = dumpPath(`${namespace}${extra.join("")}`);
    const run = await runCli(["export", "--addr", source.grpcAddr, "--namespace", namespace, ...ops, ...extra], { stdoutFile: file });
    expect(run.code, run.stderr).toBe(0);
    return { file, text: readFileSync(file, "utf8"), stderr: run.stderr };
  };
  const importFrom = (file: string, args: string[] = ops) => runCli(["import", "--addr", target.grpcAddr, ...args], { stdin: file });

  // Both tests below need alice imported once; whichever runs first does it.
  let aliceImport: Promise<{ file: string; text: string }> | undefined;
  const importAlice = () =>
    (aliceImport ??= (async () => {
      const dump = await exportTo("alice");
      const run = await importFrom(dump.file);
      expect(run.code, run.stderr).toBe(0);
      await settled(dst, "alice");
      return dump;
    })());

  it("round trip: the same memories (ids, content, metadata, kinds, statuses, times, embeddings), facts, procedures and Recall answers", async () => {
    const dump = await importAlice();
    const lines = dump.text.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ type: "header", format: "t4dm-export/1", namespace: "alice", embedder: { embedder: "hashing", dimensions: 32 } });
    expect(lines.at(-1)).toEqual({ type: "end", items: 1 + ALICE.length + 3 });
    expect(lines[1]).toEqual({ type: "retentionPolicy", namespace: "alice", policy: { mode: "RETENTION_MODE_KEEP", maxMemories: 1000 } });
    expect(lines.filter((l) => l.type === "memory").map((l) => l.status)).toEqual(expect.arrayContaining(["MEMORY_STATUS_BUFFERED", "MEMORY_STATUS_STORED"]));
    expect(lines.filter((l) => l.type === "fact").map((l) => Boolean(l.validEndTime)).sort()).toEqual([false, true]);
    expect(lines.find((l) => l.type === "procedure")).toMatchObject({ name: "release", successCount: 2, executionCount: 3 });

    const policy = (c: Clients) => asOps(c.admin.getRetentionPolicy.bind(c.admin), { namespace: "alice" });
    expect(await policy(dst)).toEqual({ ...(await policy(src)), isDefault: false });
    const [before, after] = await Promise.all([memoriesOf(src, "alice"), memoriesOf(dst, "alice")]);
    expect(after.map((m) => m.id)).toEqual(before.map((m) => m.id));
    expect(after).toEqual(before);
    // Everything the target now holds exports to the same lines (memories, both fact timelines, procedure statistics).
    expect(dumpItems((await runCli(["export", "--addr", target.grpcAddr, "--namespace", "alice", ...ops])).stdout)).toEqual(dumpItems(dump.text));
    for (const query of QUERIES) {
      const recall = (c: Clients) => asOps(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "alice", query, topK: 5, readOnly: true }));
      const [a, b] = await Promise.all([recall(src), recall(dst)]);
      expect(a.memories.length, query).toBeGreaterThan(0);
      expect(b.memories.map((r) => r.memory!.id), query).toEqual(a.memories.map((r) => r.memory!.id));
    }
  });

  it("pages: an export in pages of 2 writes the same lines as one in pages of 100", async () => {
    const [small, large] = await Promise.all([exportTo("alice", ["--batch-size", "2"]), exportTo("alice", ["--batch-size", "100"])]);
    expect(dumpItems(small.text)).toEqual(dumpItems(large.text));
    expect(small.stderr).toMatch(/export alice: 7 memories, 2 facts, 1 procedures: done/);
  });

  it("pages end before the answer outgrows the message limit: memories of ~48 KB each export whole from a service with 256 KiB messages", async () => {
    const dump = await exportTo("grace", ["--batch-size", "100"]);
    expect(dump.text.trim().split("\n").filter((line) => line.startsWith('{"type":"memory"'))).toHaveLength(8);
  });

  it("import twice = the same state: the second run finds every memory there and changes nothing", async () => {
    const dump = await importAlice();
    const before = await memoriesOf(dst, "alice");
    const again = await importFrom(dump.file);
    expect(again.code, again.stderr).toBe(0);
    // Every memory and the retention policy.
    expect(again.stderr).toMatch(new RegExp(`${ALICE.length + 1} already there`));
    expect(await memoriesOf(dst, "alice")).toEqual(before);
    expect(dumpItems((await runCli(["export", "--addr", target.grpcAddr, "--namespace", "alice", ...ops])).stdout)).toEqual(dumpItems(dump.text));
  });

  it("the namespace filter moves one tenant: nothing of another namespace is exported or imported", async () => {
    const dump = await importAlice();
    for (const line of dump.text.trim().split("\n")) {
      const parsed = JSON.parse(line) as { type: string; namespace?: string };
      if (parsed.type !== "end") expect(parsed.namespace).toBe("alice");
    }
    expect(dump.text).not.toContain("erin");
    expect(await memoriesOf(dst, "erin")).toEqual([]);
  });

  it("without --namespace: export writes every namespace the key may use, import reads every section (or the one --namespace names)", async () => {
    const all = await runCli(["export", "--addr", source.grpcAddr, ...ops]);
    expect(all.code, all.stderr).toBe(0);
    const headers = (text: string) => text.split("\n").filter((l) => l.startsWith('{"type":"header"')).map((l) => (JSON.parse(l) as { namespace: string }).namespace);
    expect(headers(all.stdout)).toEqual(["alice", "bob", "carol", "dave", "erin", "frank", "grace"]);
    // An admin key of one tenant lists and exports that tenant only.
    const tenant = await runCli(["export", "--addr", source.grpcAddr, "--api-key", KEYS.aliceAdmin]);
    expect(tenant.code, tenant.stderr).toBe(0);
    expect(headers(tenant.stdout)).toEqual(["alice"]);

    const file = dumpPath("everything");
    writeFileSync(file, all.stdout);
    const data = makeDataDir();
    const fresh = await startPod({ dataDir: data.dir, env: { T4DM_API_KEYS_FILE: path.join(keyDir.dir, "keys.json"), T4DM_EMBEDDING_DIM: "32", T4DM_BUFFER_CAPACITY: "3", T4DM_RATE_LIMIT: "0" } });
    const c = connectClients(fresh.grpcAddr);
    try {
      const one = await runCli(["import", "--addr", fresh.grpcAddr, "--namespace", "erin", ...ops], { stdin: file });
      expect(one.code, one.stderr).toBe(0);
      await settled(c, "erin");
      expect(await memoriesOf(c, "erin")).toEqual(await memoriesOf(src, "erin"));
      expect(await memoriesOf(c, "bob")).toEqual([]);
      const every = await runCli(["import", "--addr", fresh.grpcAddr, ...ops], { stdin: file });
      expect(every.code, every.stderr).toBe(0);
      for (const namespace of headers(all.stdout)) await settled(c, namespace);
      const again = await runCli(["export", "--addr", fresh.grpcAddr, ...ops]);
      expect(dumpItems(again.stdout)).toEqual(dumpItems(all.stdout));
    } finally {
      c.close();
      await fresh.stop();
      data.remove();
    }
  });

  it("keys: a non-admin key, or an admin key without the namespace, is PERMISSION_DENIED and nothing is written", async () => {
    const dump = await exportTo("dave");
    // dave's own key, but not an admin key.
    const plain = await importFrom(dump.file, ["--api-key", KEYS.dave]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/PERMISSION_DENIED: .*needs an admin key/);
    const otherTenant = await importFrom(dump.file, ["--api-key", KEYS.aliceAdmin]);
    expect(otherTenant.code).toBe(2);
    expect(otherTenant.stderr).toMatch(/PERMISSION_DENIED: this key may not use namespace "dave"/);
    const noKey = await importFrom(dump.file, []);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/UNAUTHENTICATED/);
    const exportDenied = await runCli(["export", "--addr", source.grpcAddr, "--namespace", "dave", "--api-key", KEYS.dave]);
    expect(exportDenied.code).toBe(2);
    expect(exportDenied.stderr).toMatch(/PERMISSION_DENIED: .*needs an admin key/);
    expect(exportDenied.stdout).toBe("");
    expect(await memoriesOf(dst, "dave")).toEqual([]);
  });

  it("an import can never overwrite another tenant's memory: an id alice holds, imported into henry, is FAILED_PRECONDITION and nothing changes", async () => {
    const dump = await importAlice();
    const lines = dump.text.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    const buffered = lines.find((l) => l.status === "MEMORY_STATUS_BUFFERED")!;
    const aliceBefore = await memoriesOf(dst, "alice");
    expect(aliceBefore.find((m) => m.id === buffered.id)?.status).toBe(memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED);
    const forged = dumpPath("henry-forged");
    const henry = [{ ...lines[0], namespace: "henry" }, { ...buffered, namespace: "henry", content: "henry's text under alice's id" }, { type: "end", items: 1 }];
    writeFileSync(forged, henry.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const run = await importFrom(forged);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/FAILED_PRECONDITION: memory id .* is in use; nothing was imported from this batch/);
    expect(run.stderr).not.toContain("alice");
    expect(await memoriesOf(dst, "henry")).toEqual([]);
    expect(await memoriesOf(dst, "alice")).toEqual(aliceBefore);
  });

  it("a malformed line stops the import naming it: every line before it is imported, nothing from it on", async () => {
    const dump = await exportTo("bob");
    const lines = dump.text.trim().split("\n");
    const ids = lines.map((line) => (JSON.parse(line) as { id?: string }).id);
    lines[3] = '{"type":"memory","id": oops}';
    const broken = dumpPath("bob-broken");
    writeFileSync(broken, `${lines.join("\n")}\n`);
    // Lines 2 and 3 are still waiting for their batch when line 4 fails: they go in, nothing after.
    const run = await importFrom(broken);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/line 4: is not JSON .*every line before it was imported, nothing from it on/);
    const held = new Set((await memoriesOf(dst, "bob")).map((m) => m.id));
    expect(held).toEqual(new Set([ids[1], ids[2]]));
  });

  it("a line the service refuses refuses its whole batch, named by line, and a dump of another embedder is refused", async () => {
    const dump = await exportTo("carol");
    const lines = dump.text.trim().split("\n");
    const bad = JSON.parse(lines[2]!) as { embedding: number[] };
    lines[2] = JSON.stringify({ ...bad, embedding: bad.embedding.slice(1) });
    const broken = dumpPath("carol-broken");
    writeFileSync(broken, `${lines.join("\n")}\n`);
    const run = await importFrom(broken);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/lines 2-6 were not imported: INVALID_ARGUMENT: line 3\.memory\.embedding: embedding has 31 dimensions, expected 32/);

    const header = JSON.parse(readFileSync(dump.file, "utf8").split("\n")[0]!) as Record<string, unknown>;
    const otherEmbedder = dumpPath("carol-other-embedder");
    writeFileSync(otherEmbedder, [JSON.stringify({ ...header, embedder: { embedder: "minilm", model: "sha256:abc", dimensions: 32 } }), ...readFileSync(dump.file, "utf8").trim().split("\n").slice(1)].join("\n") + "\n");
    const mismatch = await importFrom(otherEmbedder);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/FAILED_PRECONDITION: the dump's vectors are from minilm sha256:abc \(32 dimensions\)/);
    expect(await memoriesOf(dst, "carol")).toEqual([]);
  });

  it("--resume skips the lines a stopped import already did, and records the last line imported", async () => {
    const dump = await exportTo("frank");
    const ids = dump.text.trim().split("\n").map((line) => (JSON.parse(line) as { id?: string }).id);
    const resume = dumpPath("frank-resume");
    writeFileSync(resume, "3\n");
    const run = await importFrom(dump.file, [...ops, "--resume", resume]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/3 imported, 0 already there, 2 skipped by --resume/);
    expect(readFileSync(resume, "utf8")).toBe("6\n");
    expect(new Set((await memoriesOf(dst, "frank")).map((m) => m.id))).toEqual(new Set(ids.slice(3, 6)));
  });

  it("--learning-state carries what feedback taught the namespace's scorer: the target adds the same learned corrections; import twice changes nothing", async () => {
    const notes = ["ivan's note on the cache", "ivan's note on the ledger", "ivan's note on the router", "ivan's note on the queue"];
    for (const content of notes) {
      await asOps(src.memory.remember.bind(src.memory), memoryV1.RememberRequest.fromPartial({ namespace: "ivan", content, admission: 2, type: T.MEMORY_TYPE_EPISODIC }));
    }
    await settled(src, "ivan");
    // Consistent feedback: the ledger note is the useful one, whatever the question.
    for (let i = 0; i < 12; i++) {
      const recall = await asOps(src.memory.recall.bind(src.memory), memoryV1.RecallRequest.fromPartial({ namespace: "ivan", query: `ivan's note ${["cache", "router", "queue"][i % 3]}`, topK: 4 }));
      const memoryRewards = Object.fromEntries(recall.memories.map((m) => [m.memory!.id, m.memory!.content.includes("ledger") ? 1 : -1]));
      await asOps(src.memory.reinforce.bind(src.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: "ivan", recallId: recall.recallId, reward: 0, memoryRewards }));
    }
    const corrections = async (c: Clients) => {
      const recall = await asOps(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "ivan", query: "ivan's note", topK: 4, readOnly: true, explain: true }));
      return new Map(recall.memories.map((m) => [m.memory!.id, m.explanation!.correction]));
    };
    const learned = await corrections(src);
    expect([...learned.values()].some((correction) => Math.abs(correction) > 1e-3)).toBe(true);

    // Without the flag: the memories travel, what feedback taught does not.
    const plain = await exportTo("ivan");
    expect(plain.text).not.toContain('"type":"learnedScorer"');
    expect((await importFrom(plain.file)).code).toBe(0);
    await settled(dst, "ivan");
    expect([...(await corrections(dst)).values()].every((correction) => correction === 0)).toBe(true);

    const dump = await exportTo("ivan", ["--learning-state"]);
    const lines = dump.text.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-2)).toMatchObject({ type: "learnedScorer", namespace: "ivan" });
    const run = await importFrom(dump.file);
    expect(run.code, run.stderr).toBe(0);
    // The target ranks with it now (the features differ a little: buffer places, clusters, access counts)...
    expect([...(await corrections(dst)).values()].some((correction) => Math.abs(correction) > 1e-3)).toBe(true);
    // ...and holds exactly the dump's weights and shadow guard (its update count is the target's own).
    const adaptationIn = (text: string) => {
      const line = text.trim().split("\n").map((l) => JSON.parse(l) as { type: string; adaptation?: string }).find((l) => l.type === "learnedScorer")!;
      const { scorer, guard } = stateV1.ScorerAdaptation.decode(Buffer.from(line.adaptation!, "base64"));
      return { layers: scorer!.layers, guard };
    };
    const again = await runCli(["export", "--addr", target.grpcAddr, "--namespace", "ivan", "--learning-state", ...ops]);
    expect(adaptationIn(again.stdout)).toEqual(adaptationIn(dump.text));
    // Again: the adaptation in force is the dump's, so nothing is written.
    const lsn = async () => Number((await asOps(dst.admin.getStatus.bind(dst.admin), {})).appliedLsn);
    const before = await lsn();
    expect((await importFrom(dump.file)).code).toBe(0);
    expect(await lsn()).toBe(before);
  });

  it("a learned scorer that does not decode is INVALID_ARGUMENT naming it, and nothing is written", async () => {
    const item = adminV1.ExportItem.fromPartial({ item: { $case: "learnedScorer", value: { namespace: "alice", adaptation: Buffer.from("not a scorer") } } });
    const error = await failure(asOps(dst.admin.importMemories.bind(dst.admin), adminV1.ImportMemoriesRequest.fromPartial({ namespace: "alice", items: [item] })));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeStatusDetails(error).fieldViolations.map((v) => v.field)).toEqual(["items[0].learned_scorer.adaptation"]);
  });

  it("the admin RPCs refuse bad input with INVALID_ARGUMENT naming the field", async () => {
    const exportError = await failure(asOps(dst.admin.exportMemories.bind(dst.admin), adminV1.ExportMemoriesRequest.fromPartial({ namespace: "alice", pageSize: -1, pageToken: "not-a-token" })));
    expect(exportError.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeStatusDetails(exportError).fieldViolations.map((v) => v.field)).toEqual(["page_size", "page_token"]);
    const item = adminV1.ExportItem.fromPartial({ item: { $case: "memory", value: { id: "m-1", namespace: "bob", kind: T.MEMORY_TYPE_EPISODIC, content: "x", status: 99 as memoryV1.MemoryStatus, embedding: [1] } } });
    const importError = await failure(asOps(dst.admin.importMemories.bind(dst.admin), adminV1.ImportMemoriesRequest.fromPartial({ namespace: "alice", items: [item] })));
    expect(importError.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeStatusDetails(importError).fieldViolations.map((v) => v.field)).toEqual([
      "items[0].memory.namespace",
      "items[0].memory.status",
      "items[0].memory.create_time",
      "items[0].memory.embedding",
    ]);
  });
});

function failure(promise: Promise<unknown>): Promise<ServiceError> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: ServiceError) => error,
  );
}
