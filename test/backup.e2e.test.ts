import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { call, callError, connectClients, makeDataDir, REPO_ROOT, startPod, type Pod } from "@t4dm/testkit";

// scripts/backup.sh and scripts/restore.sh on the embedded default, end to end:
// remember, back up a live pod, lose the data directory, restore, and find
// every memory again (from the buffer and from the store), through real processes.

const ALWAYS = memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS;
const { BUFFERED, STORED, PENDING_PROMOTION } = {
  BUFFERED: memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED,
  STORED: memoryV1.MemoryStatus.MEMORY_STATUS_STORED,
  PENDING_PROMOTION: memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION,
};
// A small buffer, so most memories are promoted to the store and a few stay buffered.
const ENV = { T4DM_BUFFER_CAPACITY: "4", T4DM_EMBEDDING_DIM: "64", T4DM_CHECKPOINT_INTERVAL: "3600" };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a script by its path, as the docs do (so it must be executable), from the repository root. */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(`scripts/${script}`, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A shell command line, run from the repository root as an operator would paste it. */
function shell(command: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile("bash", ["-c", command], { cwd: REPO_ROOT, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The command lines of the first ```sh block of a markdown file (comments dropped). */
function documentedCommands(markdown: string): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(markdown)![1]!;
  return block.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

function tar(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile("tar", args, (error) => (error ? reject(error) : resolve())));
}

type Clients = ReturnType<typeof connectClients>;

const remember = (c: Clients, namespace: string, content: string) =>
  call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace, content, importance: 0.9, admission: ALWAYS })).then((r) => r.memory!);
const get = (c: Clients, namespace: string, id: string) => call(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace, id })).then((r) => r.memory!);

/** Waits until no memory is waiting for its store write, and returns every status. */
async function settled(c: Clients, memories: { namespace: string; id: string }[]): Promise<Map<string, memoryV1.MemoryStatus>> {
  for (;;) {
    const fetched = await Promise.all(memories.map((m) => get(c, m.namespace, m.id)));
    if (fetched.every((m) => m.status !== PENDING_PROMOTION)) return new Map(fetched.map((m) => [m.id, m.status]));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("backup.sh and restore.sh on the embedded store", () => {
  const scratch = mkdtempSync(path.join(tmpdir(), "t4dm-backup-test-"));
  const archive = path.join(scratch, "backup.tar.gz");
  const pods: Pod[] = [];
  const clients: Clients[] = [];
  const dirs: { remove: () => void }[] = [];

  async function start(dataDir: string): Promise<{ pod: Pod; c: Clients }> {
    const pod = await startPod({ dataDir, env: ENV });
    pods.push(pod);
    const c = connectClients(pod.grpcAddr);
    clients.push(c);
    return { pod, c };
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(pods.splice(0).map((pod) => pod.stop()));
  });
  afterAll(() => {
    for (const dir of dirs) dir.remove();
    rmSync(scratch, { recursive: true, force: true });
  });
  beforeAll(() => mkdirSync(scratch, { recursive: true }));

  it("backs up a live pod; a wiped data directory restored from it recalls every memory, buffered and stored", async () => {
    const data = makeDataDir("t4dm-backup-src-");
    dirs.push(data);
    const { pod, c } = await start(data.dir);

    const memories: { namespace: string; id: string; content: string }[] = [];
    const topics = ["canary deploys", "database failover", "certificate rotation", "queue backlog"];
    for (let i = 0; i < 12; i++) {
      const content = `ops runbook note ${i} about ${topics[i % topics.length]}`;
      memories.push({ namespace: "ops", id: (await remember(c, "ops", content)).id, content });
    }
    for (let i = 0; i < 3; i++) {
      const content = `team-b planning item ${i}`;
      memories.push({ namespace: "team-b", id: (await remember(c, "team-b", content)).id, content });
    }
    await call(c.knowledge.upsertFact.bind(c.knowledge), memoryV1.UpsertFactRequest.fromPartial({ namespace: "ops", subject: "db", predicate: "runs_on", object: "host-7" }));
    const before = await settled(c, memories);
    expect([...before.values()].filter((s) => s === STORED).length, "some memories were promoted to the store").toBeGreaterThanOrEqual(5);
    expect([...before.values()].filter((s) => s === BUFFERED).length, "some are still in the buffer").toBeGreaterThanOrEqual(1);

    const backup = await run("backup.sh", ["--data-dir", data.dir, "--http", pod.httpUrl, "--output", archive]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout.trim()).toBe(archive);
    expect(readFileSync(`${archive}.sha256`, "utf8")).toMatch(/^[0-9a-f]{64} {2}backup\.tar\.gz\n$/);

    // The manifest names the forced checkpoint and lists the WAL, the checkpoints and the store.
    const peek = path.join(scratch, "peek");
    mkdirSync(peek);
    await tar(["-xzf", archive, "-C", peek]);
    const manifest = JSON.parse(readFileSync(path.join(peek, "t4dm-backup", "manifest.json"), "utf8")) as {
      format: string;
      checkpoint: { lsn: number; fileName: string };
      stores: { episodic: string; graph: string };
      files: { path: string; sha256: string; bytes: number }[];
    };
    expect(manifest.format).toBe("t4dm-backup");
    expect(manifest.checkpoint.lsn).toBeGreaterThan(0);
    expect(manifest.stores).toEqual({ episodic: "embedded", graph: "embedded" });
    const files = manifest.files.map((f) => f.path);
    expect(files).toContain(`data/checkpoints/${path.basename(manifest.checkpoint.fileName)}`);
    expect(files.some((f) => /^data\/wal\/.+/.test(f))).toBe(true);
    expect(files).toEqual(expect.arrayContaining(["data/store/episodic.sqlite", "data/store/graph.sqlite"]));
    expect(files.some((f) => /-(wal|shm)$/.test(f)), "SQLite side files are folded into the copies").toBe(false);
    expect(manifest.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);

    // Written after the backup: must not come back.
    const late = await remember(c, "ops", "written after the backup was taken");

    // Never under a running sidecar, and never over existing data without --force.
    const live = await run("restore.sh", ["--data-dir", data.dir, archive]);
    expect(live.code).toBe(1);
    expect(live.stderr).toMatch(/a sidecar is listening/);
    await Promise.all([pod.memory.kill("SIGKILL"), pod.sidecar.kill("SIGKILL")]);
    const occupied = await run("restore.sh", ["--data-dir", data.dir, archive]);
    expect(occupied.code).toBe(1);
    expect(occupied.stderr).toMatch(/is not empty/);

    // The disaster: the data directory is gone.
    rmSync(data.dir, { recursive: true, force: true });
    const restore = await run("restore.sh", ["--data-dir", data.dir, archive]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stderr).toContain(`the backup forced one at LSN ${manifest.checkpoint.lsn}`);

    const { pod: restored, c: c2 } = await start(data.dir);
    const recovery = await restored.memory.waitForEvent("recovery.done");
    expect(recovery.mode).toBe("warm");
    expect(recovery.checkpointLsn).toBe(manifest.checkpoint.lsn);

    for (const m of memories) {
      const found = await get(c2, m.namespace, m.id);
      expect(found.content).toBe(m.content);
      expect(found.status, `${m.id} keeps its status`).toBe(before.get(m.id));
    }
    for (const namespace of ["ops", "team-b"]) {
      const expected = memories.filter((m) => m.namespace === namespace).map((m) => m.id).sort();
      const recalled = await call(c2.memory.recall.bind(c2.memory), memoryV1.RecallRequest.fromPartial({ namespace, query: "runbook note planning item", topK: 50 }));
      expect(recalled.memories.map((r) => r.memory!.id).sort()).toEqual(expected);
      const sources = new Set(recalled.memories.map((r) => r.source));
      if (namespace === "ops") expect(sources).toEqual(new Set([memoryV1.MemorySource.MEMORY_SOURCE_BUFFER, memoryV1.MemorySource.MEMORY_SOURCE_STORE]));
    }
    const facts = await call(c2.knowledge.queryFacts.bind(c2.knowledge), memoryV1.QueryFactsRequest.fromPartial({ namespace: "ops", subject: "db" }));
    expect(facts.facts.map((f) => f.object)).toEqual(["host-7"]);
    const gone = await callError(c2.memory.getMemory.bind(c2.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "ops", id: late.id }));
    expect(gone.code).toBe(5);
  });

  it("without a checkpoint, the restored WAL is replayed and still finds every memory", async () => {
    const data = makeDataDir("t4dm-backup-wal-");
    dirs.push(data);
    const { pod, c } = await start(data.dir);
    const memories: { namespace: string; id: string; content: string }[] = [];
    for (let i = 0; i < 7; i++) {
      const content = `incident timeline entry ${i} for the payment outage`;
      memories.push({ namespace: "inc", id: (await remember(c, "inc", content)).id, content });
    }
    const before = await settled(c, memories);
    const walOnly = path.join(scratch, "wal-only.tar.gz");
    const backup = await run("backup.sh", ["--data-dir", data.dir, "--no-checkpoint", "--output", walOnly]);
    expect(backup.code, backup.stderr).toBe(0);
    await Promise.all([pod.memory.kill("SIGKILL"), pod.sidecar.kill("SIGKILL")]);
    rmSync(data.dir, { recursive: true, force: true });

    expect((await run("restore.sh", ["--data-dir", data.dir, walOnly])).code).toBe(0);
    const { pod: restored, c: c2 } = await start(data.dir);
    const recovery = await restored.memory.waitForEvent("recovery.done");
    expect(recovery.recordsReplayed as number).toBeGreaterThan(memories.length);
    for (const m of memories) expect((await get(c2, m.namespace, m.id)).status).toBe(before.get(m.id));
    const recalled = await call(c2.memory.recall.bind(c2.memory), memoryV1.RecallRequest.fromPartial({ namespace: "inc", query: "payment outage timeline", topK: 20 }));
    expect(recalled.memories.map((r) => r.memory!.id).sort()).toEqual(memories.map((m) => m.id).sort());
  });

  it("under a steady stream of writes, loses nothing the copied WAL holds, wherever it lives (buffer or store)", async () => {
    const data = makeDataDir("t4dm-backup-busy-");
    dirs.push(data);
    const { pod, c } = await start(data.dir);
    const acked: { namespace: string; id: string; content: string; lsn: number }[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const content = `stream event ${i} from the ingest worker`;
        const response = await call(
          c.memory.remember.bind(c.memory),
          memoryV1.RememberRequest.fromPartial({ namespace: "busy", content, importance: 0.9, admission: ALWAYS }),
        );
        acked.push({ namespace: "busy", id: response.memory!.id, content, lsn: response.lsn });
      }
    })();
    while (acked.length < 20) await new Promise((resolve) => setTimeout(resolve, 10));
    const busy = path.join(scratch, "busy.tar.gz");
    const backup = await run("backup.sh", ["--data-dir", data.dir, "--http", pod.httpUrl, "--output", busy]);
    writing = false;
    await writer;
    expect(backup.code, backup.stderr).toBe(0);
    await Promise.all([pod.memory.kill("SIGKILL"), pod.sidecar.kill("SIGKILL")]);
    rmSync(data.dir, { recursive: true, force: true });

    expect((await run("restore.sh", ["--data-dir", data.dir, busy])).code).toBe(0);
    const { pod: restored, c: c2 } = await start(data.dir);
    // The last LSN of the copied WAL: the backup's point in time.
    const cut = Number((await restored.sidecar.waitForEvent("sidecar.ready")).durableLsn);
    const covered = acked.filter((m) => m.lsn <= cut);
    expect(covered.length).toBeGreaterThanOrEqual(20);
    expect(acked.length - covered.length, "writes went on after the WAL was copied").toBeGreaterThan(0);
    // Every memory the copied WAL acknowledged is there: promoted ones because the store was
    // copied after the WAL, the rest from the buffer the WAL rebuilds.
    const statuses = await settled(c2, covered);
    for (const m of covered) expect((await get(c2, m.namespace, m.id)).content).toBe(m.content);
    expect([...statuses.values()].filter((s) => s === STORED).length).toBeGreaterThan(0);
    // Whatever the restored service lists, it can read back.
    const listed = await call(c2.memory.listMemories.bind(c2.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: "busy", pageSize: 1000 }));
    for (const m of listed.memories) expect((await get(c2, "busy", m.id)).id).toBe(m.id);
  });

  it("backs up from the newest valid checkpoint while a kept one is corrupt, and says which it skipped", async () => {
    const data = makeDataDir("t4dm-backup-corrupt-");
    dirs.push(data);
    const { pod, c } = await start(data.dir);
    const memories: { namespace: string; id: string; content: string }[] = [];
    const checkpoint = () => fetch(`${pod.httpUrl}/api/v1/checkpoint`, { method: "POST" }).then((r) => r.json() as Promise<{ fileName: string }>);
    for (let i = 0; i < 4; i++) {
      const content = `release checklist step ${i}`;
      memories.push({ namespace: "rel", id: (await remember(c, "rel", content)).id, content });
      await checkpoint();
    }
    // Bit rot in a kept checkpoint: the service runs on, but the file no longer verifies.
    const checkpoints = path.join(data.dir, "checkpoints");
    const kept = readdirSync(checkpoints).filter((f) => f.endsWith(".bin.gz")).sort();
    expect(kept.length).toBeGreaterThanOrEqual(3);
    const rotten = kept.at(-2)!;
    const bytes = readFileSync(path.join(checkpoints, rotten));
    bytes[bytes.length - 10]! ^= 0xff;
    writeFileSync(path.join(checkpoints, rotten), bytes);

    const out = path.join(scratch, "corrupt.tar.gz");
    const backup = await run("backup.sh", ["--data-dir", data.dir, "--http", pod.httpUrl, "--output", out]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stderr).toContain(`skipped checkpoints/${rotten}`);
    expect(backup.stderr).not.toMatch(/attempt 2/);
    const peek = path.join(scratch, "peek-corrupt");
    mkdirSync(peek);
    await tar(["-xzf", out, "-C", peek]);
    const manifest = JSON.parse(readFileSync(path.join(peek, "t4dm-backup", "manifest.json"), "utf8")) as {
      checkpoint: { lsn: number; fileName: string };
      skippedCheckpoints: { fileName: string; problem: string }[];
      files: { path: string }[];
    };
    expect(manifest.files.map((f) => f.path)).not.toContain(`data/checkpoints/${rotten}`);
    expect(manifest.skippedCheckpoints.map((s) => s.fileName)).toEqual([rotten]);

    await Promise.all([pod.memory.kill("SIGKILL"), pod.sidecar.kill("SIGKILL")]);
    rmSync(data.dir, { recursive: true, force: true });
    const restore = await run("restore.sh", ["--data-dir", data.dir, out]);
    expect(restore.code, restore.stderr).toBe(0);
    const { pod: restored, c: c2 } = await start(data.dir);
    const recovery = await restored.memory.waitForEvent("recovery.done");
    expect(recovery.mode).toBe("warm");
    expect(recovery.checkpointLsn).toBe(manifest.checkpoint.lsn);
    for (const m of memories) expect((await get(c2, m.namespace, m.id)).content).toBe(m.content);
  });

  it("every script the docs name is committed executable, and scripts/README.md's commands work as written", async () => {
    const docs = ["README.md", "scripts/README.md", "deploy/systemd/README.md"].map((f) => readFileSync(path.join(REPO_ROOT, f), "utf8")).join("\n");
    const named = [...new Set([...docs.matchAll(/scripts\/[\w.-]+\.sh/g)].map((m) => m[0]))];
    expect(named).toEqual(expect.arrayContaining(["scripts/backup.sh", "scripts/restore.sh"]));
    const modes = await new Promise<string>((resolve, reject) =>
      execFile("git", ["ls-files", "-s", ...named], { cwd: REPO_ROOT }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
    for (const script of named) expect(modes, `${script} is committed with its execute bit`).toMatch(new RegExp(`^100755 \\S+ 0\\t${script}$`, "m"));

    const commands = documentedCommands(readFileSync(path.join(REPO_ROOT, "scripts/README.md"), "utf8"));
    expect(commands).toHaveLength(3);
    const data = makeDataDir("t4dm-backup-docs-");
    dirs.push(data);
    const { pod, c } = await start(data.dir);
    const { id } = await remember(c, "docs", "the README's backup commands work when pasted");
    // Only the places differ from the README: this pod's data directory, URL and a scratch archive.
    const archive = path.join(scratch, "docs", "t4dm.tar.gz");
    mkdirSync(path.dirname(archive));
    const localize = (command: string) =>
      command
        .replaceAll("T4DM_ADMIN_KEY=...", "T4DM_ADMIN_KEY=")
        .replaceAll("./data", data.dir)
        .replaceAll("http://127.0.0.1:8080", pod.httpUrl)
        .replaceAll("backups/t4dm.tar.gz", archive)
        .replace(/ && make run$/, "");
    const [backup, verify, restore] = commands.map(localize);
    expect(backup).toMatch(/^T4DM_ADMIN_KEY= scripts\/backup\.sh /);
    const backedUp = await shell(backup!);
    expect(backedUp.code, backedUp.stderr).toBe(0);
    const verified = await shell(verify!);
    expect(verified.code, verified.stderr).toBe(0);
    await Promise.all([pod.memory.kill("SIGKILL"), pod.sidecar.kill("SIGKILL")]);
    rmSync(data.dir, { recursive: true, force: true });
    const restored = await shell(restore!);
    expect(restored.code, restored.stderr).toBe(0);
    const { c: c2 } = await start(data.dir);
    expect((await get(c2, "docs", id)).content).toBe("the README's backup commands work when pasted");
  });

  it("with API keys configured, forces the checkpoint only with an admin key", async () => {
    const data = makeDataDir("t4dm-backup-keys-");
    dirs.push(data);
    const keysFile = path.join(scratch, "keys.json");
    const sha = (key: string) => createHash("sha256").update(key).digest("hex");
    writeFileSync(
      keysFile,
      JSON.stringify({
        keys: [
          { id: "ops-admin", sha256: sha("admin-secret"), namespaces: ["*"], admin: true },
          { id: "agent", sha256: sha("agent-secret"), namespaces: ["*"], admin: false },
        ],
      }),
    );
    const pod = await startPod({ dataDir: data.dir, env: { ...ENV, T4DM_API_KEYS_FILE: keysFile } });
    pods.push(pod);
    const out = path.join(scratch, "keys.tar.gz");
    const args = ["--data-dir", data.dir, "--http", pod.httpUrl, "--output", out];
    const anonymous = await run("backup.sh", args, { T4DM_ADMIN_KEY: "" });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/answered 401/);
    const notAdmin = await run("backup.sh", args, { T4DM_ADMIN_KEY: "agent-secret" });
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toMatch(/answered 403/);
    const keyFile = path.join(scratch, "admin.key");
    writeFileSync(keyFile, "admin-secret\n");
    const admin = await run("backup.sh", args, { T4DM_ADMIN_KEY: "", T4DM_ADMIN_KEY_FILE: keyFile });
    expect(admin.code, admin.stderr).toBe(0);
  });

  it("refuses an archive whose files do not match the manifest, and --force replaces a non-empty directory", async () => {
    // An archive of its own (tests pass alone and in any order), then one byte of a WAL segment changed.
    const data = makeDataDir("t4dm-backup-tamper-src-");
    dirs.push(data);
    const { pod, c } = await start(data.dir);
    await remember(c, "ops", "the tamper test's one memory");
    const archive = path.join(scratch, "tamper.tar.gz");
    const backup = await run("backup.sh", ["--data-dir", data.dir, "--http", pod.httpUrl, "--output", archive]);
    expect(backup.code, backup.stderr).toBe(0);
    const unpacked = path.join(scratch, "tamper");
    mkdirSync(unpacked);
    await tar(["-xzf", archive, "-C", unpacked]);
    const walDir = path.join(unpacked, "t4dm-backup", "data", "wal");
    const segment = path.join(walDir, readdirSync(walDir).sort()[0]!);
    const flipLastByte = () => writeFileSync(segment, readFileSync(segment).map((b, i, all) => (i === all.length - 1 ? b ^ 0xff : b)));
    flipLastByte();
    const tampered = path.join(scratch, "tampered.tar.gz");
    await tar(["-C", unpacked, "-czf", tampered, "t4dm-backup"]);
    const refused = await run("restore.sh", ["--verify-only", tampered]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/sha256 .* does not match the manifest/);

    // A stray file the manifest does not list is refused too.
    flipLastByte();
    writeFileSync(path.join(unpacked, "t4dm-backup", "data", "extra.bin"), "x");
    await tar(["-C", unpacked, "-czf", tampered, "t4dm-backup"]);
    const extra = await run("restore.sh", ["--verify-only", tampered]);
    expect(extra.code).toBe(1);
    expect(extra.stderr).toMatch(/not in the manifest: data\/extra\.bin/);

    // Empty directories (mount points, say) do not make a data directory non-empty.
    const mounts = makeDataDir("t4dm-backup-empty-");
    dirs.push(mounts);
    mkdirSync(path.join(mounts.dir, "store"));
    const intoEmpty = await run("restore.sh", ["--data-dir", mounts.dir, archive]);
    expect(intoEmpty.code, intoEmpty.stderr).toBe(0);

    const target = makeDataDir("t4dm-backup-force-");
    dirs.push(target);
    writeFileSync(path.join(target.dir, "stale.txt"), "old");
    mkdirSync(path.join(target.dir, "wal"));
    writeFileSync(path.join(target.dir, "wal", "segment_00000099.wal"), "stale");
    const forced = await run("restore.sh", ["--force", "--data-dir", target.dir, archive]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readdirSync(target.dir).sort()).toEqual(["checkpoints", "store", "wal"]);
    expect(readdirSync(path.join(target.dir, "wal"))).not.toContain("segment_00000099.wal");
  });
});
