import { status, type ServiceError } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { decodeStatusDetails } from "@t4dm/rpc";
import { call, connectClients, makeDataDir, ServiceProcess } from "@t4dm/testkit";

/** How long the writers run; the issue asks for a minute (shorten locally with the variable). */
const SECONDS = Number(process.env.T4DM_TEST_WAL_CAP_SECONDS ?? 60);
/** A call that takes longer than this hung: the cap must answer fast, never hold a write. */
const CALL_DEADLINE_MS = 10_000;
/** A step of the test (start, restart, read-back) that takes longer than this is reported as stuck, by name. */
const STEP_MS = 90_000;

describe("catalog 15: the WAL at its cap recovers by itself", () => {
  it(`tiny segments, writers at full speed for ${SECONDS} s: passes the cap many times, no restart, nothing acknowledged lost`, { timeout: (SECONDS + 240) * 1000 }, async () => {
    const data = makeDataDir();
    const env = {
      T4DM_DATA_DIR: data.dir,
      T4DM_GRPC_ADDR: "127.0.0.1:0",
      T4DM_HTTP_ADDR: "127.0.0.1:0",
      T4DM_WAL_SYNC_MODE: "fdatasync",
      T4DM_WAL_SEGMENT_BYTES: "65536",
      T4DM_WAL_MAX_SEGMENTS: "4",
      T4DM_EMBEDDING_DIM: "64",
    };
    let sidecar = ServiceProcess.start("persistence", env);
    let memory: ServiceProcess | undefined;
    try {
      await within(STEP_MS, "sidecar listening", sidecar.waitForEvent("grpc.listening"));
      memory = ServiceProcess.start("memory", env);
      const grpcAddr = String((await within(STEP_MS, "memory listening", memory.waitForEvent("grpc.listening"))).addr);
      const httpUrl = `http://${String((await memory.waitForEvent("http.listening")).addr)}`;
      await within(STEP_MS, "memory ready", memory.waitFor((l) => l.event === "readiness" && l.ready === true));
      const started = { memory: memory.child.pid, sidecar: sidecar.child.pid };

      const acked = new Map<string, string>(); // memory id -> content
      const outcomes = { ok: 0, walFull: 0 };
      const unexpected: string[] = [];
      const readyAnswers = new Map<number, number>();
      const notReady: string[] = [];
      const degradedNotes = new Set<string>();
      const c = connectClients(grpcAddr);
      const until = Date.now() + SECONDS * 1000;
      let counter = 0;
      const request = () => {
        const content = `cap note ${++counter} ${"x".repeat(200)}`;
        // Important enough to be promoted to the store when the buffer is full, not evicted (the
        // service keeps only the newest 10,000 evictions, and this test outwrites that).
        return memoryV1.RememberRequest.fromPartial({ namespace: "cap", content, importance: 1, admission: memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS });
      };
      // A near-duplicate is MERGED into the memory it names, which keeps that memory's own content.
      const ack = (response: memoryV1.RememberResponse, content: string) => {
        if (response.decision !== memoryV1.AdmissionDecision.ADMISSION_DECISION_MERGED) acked.set(response.memory!.id, content);
      };
      const refused = (error: ServiceError) => {
        if (error.code === status.RESOURCE_EXHAUSTED && decodeStatusDetails(error).errorInfo?.reason === "WAL_FULL") {
          outcomes.walFull += 1;
          return true;
        }
        unexpected.push(`${status[error.code]}: ${error.details}`);
        return false;
      };
      const writer = async (batch: boolean) => {
        while (Date.now() < until) {
          const options = { deadline: Date.now() + CALL_DEADLINE_MS };
          try {
            if (batch) {
              const requests = Array.from({ length: 10 }, request);
              const response = await call(c.memory.batchRemember.bind(c.memory), { requests }, undefined, options);
              response.responses.forEach((r, i) => ack(r, requests[i]!.content));
            } else {
              const one = request();
              ack(await call(c.memory.remember.bind(c.memory), one, undefined, options), one.content);
            }
            outcomes.ok += 1;
          } catch (error) {
            if (!refused(error as ServiceError)) return;
            // A client's retry pause; the service itself needs nothing from us to recover.
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }
      };
      // Reads keep working at the cap: a reader's every call must succeed.
      let reads = 0;
      const reader = async () => {
        while (Date.now() < until) {
          try {
            await call(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "cap", query: "cap note", topK: 5 }), undefined, { deadline: Date.now() + CALL_DEADLINE_MS });
            reads += 1;
          } catch (error) {
            unexpected.push(`read: ${status[(error as ServiceError).code]}: ${(error as ServiceError).details}`);
            return;
          }
        }
      };
      const readyProbe = async () => {
        while (Date.now() < until) {
          const answer = await fetch(`${httpUrl}/ready`, { signal: AbortSignal.timeout(CALL_DEADLINE_MS) });
          readyAnswers.set(answer.status, (readyAnswers.get(answer.status) ?? 0) + 1);
          const body = (await answer.json()) as { degraded?: Record<string, string> };
          if (body.degraded) degradedNotes.add(JSON.stringify(body.degraded));
          // Which readiness part flipped, if one did (a rare 503 was once seen here under load).
          if (answer.status !== 200) notReady.push(`${new Date().toISOString()} ${JSON.stringify(body)}`);
          // Spells at the cap last tens of milliseconds; probe often enough to see some.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      await Promise.all([writer(false), writer(false), writer(true), writer(true), reader(), readyProbe()]);

      expect(unexpected).toEqual([]);
      expect(reads).toBeGreaterThan(0);
      // The cap was reached and left again several times, by checkpoints alone.
      const fullSpells = memory.lines.filter((l) => l.event === "wal.full").length;
      const freed = memory.lines.filter((l) => l.event === "wal.space_freed").length;
      expect(outcomes.walFull).toBeGreaterThan(0);
      expect(fullSpells).toBeGreaterThanOrEqual(3);
      expect(freed).toBeGreaterThanOrEqual(3);
      expect(memory.lines.filter((l) => l.event === "checkpoint.done").length).toBeGreaterThanOrEqual(3);
      // Reads stayed up: /ready never said 503 (it names the cap in its body instead).
      expect([...readyAnswers.keys()], `not-ready answers: ${notReady.join("; ")}`).toEqual([200]);
      expect([...degradedNotes]).toEqual([JSON.stringify({ wal: "WAL at its size cap; checkpoint pending: writes get RESOURCE_EXHAUSTED (WAL_FULL), reads work" })]);
      // No restart of either process.
      expect(memory.child.exitCode).toBeNull();
      expect(sidecar.child.exitCode).toBeNull();
      expect({ memory: memory.child.pid, sidecar: sidecar.child.pid }).toEqual(started);
      expect(memory.lines.filter((l) => l.event === "recovery.done")).toHaveLength(1);
      // Writes resume by themselves once the writers stop pushing: one more goes through.
      const last = request();
      const resumeBy = Date.now() + 30_000;
      for (;;) {
        try {
          ack(await call(c.memory.remember.bind(c.memory), last, undefined, { deadline: resumeBy }), last.content);
          break;
        } catch (error) {
          expect(refused(error as ServiceError) && Date.now() < resumeBy, "writes did not resume").toBe(true);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      await within(STEP_MS, "acknowledged memories read back", expectAllThere(c, acked));
      c.close();
      // Space is back: the gauge says so. The store sync may still be logging STORE_SYNCED records for
      // the writers' promotions (a sync writes at most 1,024), which can meet the cap again for a moment;
      // the checkpoint that follows frees it, so the gauge must come back to 0 by itself.
      const walFullGauge = async () =>
        (await (await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(CALL_DEADLINE_MS) })).text()).match(/^ww_wal_full(?:\{[^}]*\})? (\d+)$/m)?.[1];
      const spaceBackBy = Date.now() + STEP_MS;
      let gauge = await walFullGauge();
      while (gauge !== "0" && Date.now() < spaceBackBy) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        gauge = await walFullGauge();
      }
      expect(gauge).toBe("0");

      // ...and after a restart of both processes.
      await Promise.all([memory.kill("SIGKILL"), sidecar.kill("SIGKILL")]);
      sidecar = ServiceProcess.start("persistence", env);
      await within(STEP_MS, "sidecar listening after the restart", sidecar.waitForEvent("grpc.listening"));
      memory = ServiceProcess.start("memory", env);
      const again = connectClients(String((await within(STEP_MS, "memory listening after the restart", memory.waitForEvent("grpc.listening"))).addr));
      const restarted = memory;
      await within(STEP_MS, "memory ready after the restart", restarted.waitFor((l) => l.event === "readiness" && l.ready === true), restarted, sidecar);
      await within(STEP_MS, "acknowledged memories read back after the restart", expectAllThere(again, acked));
      again.close();
    } finally {
      await memory?.kill("SIGKILL");
      await sidecar.kill("SIGKILL");
      data.remove();
    }
  });
});

/** Every acknowledged memory reads back with its content (buffered or stored): nothing acknowledged is evicted. */
async function expectAllThere(c: ReturnType<typeof connectClients>, acked: Map<string, string>): Promise<void> {
  const ids = [...acked.keys()];
  const missing: string[] = [];
  for (let i = 0; i < ids.length; i += 200) {
    await Promise.all(
      ids.slice(i, i + 200).map(async (id) => {
        try {
          const request = memoryV1.GetMemoryRequest.fromPartial({ namespace: "cap", id });
          const found = (await call(c.memory.getMemory.bind(c.memory), request, undefined, { deadline: Date.now() + CALL_DEADLINE_MS })).memory!;
          if (found.content !== acked.get(id)) missing.push(`${id}: status ${found.status}, content ${JSON.stringify(found.content.slice(0, 20))}`);
        } catch (error) {
          missing.push(`${id}: ${(error as ServiceError).details}`);
        }
      }),
    );
  }
  expect(missing.slice(0, 5), `${missing.length} of ${ids.length} acknowledged memories`).toEqual([]);
}

/** `promise`, or a failure naming the step that did not finish within `ms`. */
async function within<T>(ms: number, step: string, promise: Promise<T>, ...processes: ServiceProcess[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    // The processes' last log lines and their threads' kernel state say what they were waiting for
    // (a rare hang after the restart is not understood yet: the memory service logged nothing after
    // "gRPC listening", not even HTTP listening or a sidecar retry).
    const describe = () =>
      processes.map((p) => `\n${p.name}'s last log lines:\n${p.lines.slice(-20).map((line) => JSON.stringify(line)).join("\n")}\n${p.name}'s threads:\n${p.kernelState()}\nstderr: ${p.stderr.slice(-2000)}`).join("");
    timer = setTimeout(() => reject(new Error(`stuck: ${step} took more than ${ms} ms${describe()}`)), ms);
  });
  try {
    return await Promise.race([promise, stuck]);
  } finally {
    clearTimeout(timer);
  }
}
