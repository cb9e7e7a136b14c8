import { describe, expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, makeDataDir, ServiceProcess, startPod } from "@t4dm/testkit";

async function startBoth(env: Record<string, string>) {
  const sidecar = ServiceProcess.start("persistence", env);
  await sidecar.waitForEvent("grpc.listening");
  const memory = ServiceProcess.start("memory", env);
  const grpcAddr = String((await memory.waitForEvent("grpc.listening")).addr);
  await memory.waitFor((l) => l.event === "readiness" && l.ready === true);
  return { sidecar, memory, grpcAddr };
}

describe("graceful shutdown", () => {
  it("SIGTERM under load: both exit 0, the final checkpoint is written, nothing acknowledged is lost, and the next start is warm", async () => {
    const data = makeDataDir();
    const env = { T4DM_DATA_DIR: data.dir, T4DM_GRPC_ADDR: "127.0.0.1:0", T4DM_HTTP_ADDR: "127.0.0.1:0", T4DM_EMBEDDING_DIM: "32", T4DM_BUFFER_CAPACITY: "100000" };
    try {
      const first = await startBoth(env);
      const c = connectClients(first.grpcAddr);
      const acked = new Map<string, string>();
      let stop = false;
      let counter = 0;
      let enough!: () => void;
      const thirtyAcked = new Promise<void>((resolve) => (enough = resolve));
      const writers = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const content = `shutdown note ${++counter}`;
          try {
            const r = await call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: "sd", content, admission: 2 }));
            acked.set(r.memory!.id, content);
            if (acked.size >= 30) enough();
          } catch {
            return;
          }
        }
      });
      await thirtyAcked;
      // Both get the signal, as in a pod deletion.
      first.memory.child.kill("SIGTERM");
      first.sidecar.child.kill("SIGTERM");
      const [memoryExit, sidecarExit] = await Promise.all([first.memory.exited, first.sidecar.exited]);
      stop = true;
      await Promise.all(writers);
      c.close();
      expect(memoryExit.code).toBe(0);
      expect(sidecarExit.code).toBe(0);
      const phases = first.memory.lines.filter((l) => l.event === "shutdown.phase").map((l) => `${String(l.phase)}:${String(l.outcome)}`);
      expect(phases).toEqual(["drain:done", "checkpoint:done", "wal:done", "cleanup:done"]);
      expect(first.memory.lines.some((l) => l.event === "readiness" && l.ready === false && (l.unmet as string[]).includes("not shutting down"))).toBe(true);
      expect(first.memory.lines.some((l) => l.event === "checkpoint.done" && l.reason === "shutdown")).toBe(true);

      const second = await startBoth(env);
      const recovered = await second.memory.waitForEvent("recovery.done");
      expect(recovered.mode).toBe("warm");
      // Only the checkpoint's commit record and SYSTEM_SHUTDOWN follow the final checkpoint.
      expect(recovered.recordsReplayed).toBe(2);
      const c2 = connectClients(second.grpcAddr);
      for (const [id, content] of acked) {
        const found = await call(c2.memory.getMemory.bind(c2.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "sd", id }));
        expect(found.memory?.content, JSON.stringify(memoryV1.Memory.toJSON(found.memory!))).toBe(content);
      }
      c2.close();
      await second.memory.kill();
      await second.sidecar.kill();
    } finally {
      data.remove();
    }
  });

  it("a second signal exits at once", async () => {
    const data = makeDataDir();
    const env = { T4DM_DATA_DIR: data.dir, T4DM_GRPC_ADDR: "127.0.0.1:0", T4DM_HTTP_ADDR: "127.0.0.1:0", T4DM_EMBEDDING_DIM: "32" };
    try {
      const pod = await startBoth(env);
      pod.memory.child.kill("SIGTERM");
      await pod.memory.waitForEvent("shutdown.started");
      pod.memory.child.kill("SIGTERM");
      const exit = await pod.memory.exited;
      expect([0, 1]).toContain(exit.code);
      expect(pod.memory.lines.some((l) => l.event === "shutdown.forced") || exit.code === 0).toBe(true);
      await pod.sidecar.kill();
    } finally {
      data.remove();
    }
  });

  it("a drain that times out on writes stuck at the sidecar still ends in exit 0, with every phase and the final checkpoint attempted and logged", async () => {
    // Short budgets, so each phase runs out quickly while the sidecar is stopped.
    const pod = await startPod({ env: { T4DM_EMBEDDING_DIM: "32", T4DM_DRAIN_TIMEOUT: "1", T4DM_SHUTDOWN_CHECKPOINT_TIMEOUT: "1" } });
    const c = connectClients(pod.grpcAddr);
    try {
      pod.sidecar.child.kill("SIGSTOP");
      // Several memories in one call: each waits for its own WAL acknowledgement.
      const batch = memoryV1.BatchRememberRequest.fromPartial({
        requests: ["stuck one", "stuck two", "stuck three"].map((content) => ({ namespace: "sd", content, admission: 2 })),
      });
      // No deadline: the call waits as long as the service keeps it open.
      const stuck = call(c.memory.batchRemember.bind(c.memory), batch, undefined, {}).then(
        () => ({ code: 0 }),
        (error: { code: number }) => error,
      );
      for (;;) {
        const status = (await (await fetch(`${pod.httpUrl}/status`)).json()) as { inFlightOps?: number };
        if ((status.inFlightOps ?? 0) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      pod.memory.child.kill("SIGTERM");
      const exit = await pod.memory.exited;
      expect((await stuck).code, "the stuck call is told the service went away").toBe(14);
      expect(exit, pod.memory.stderr).toEqual({ code: 0, signal: null });
      expect(pod.memory.stderr).toBe("");
      const phases = pod.memory.lines.filter((l) => l.event === "shutdown.phase").map((l) => `${String(l.phase)}:${String(l.outcome)}`);
      expect(phases).toEqual(["drain:timed out", "checkpoint:timed out", "wal:timed out", "cleanup:done"]);
      expect(pod.memory.lines.at(-1)?.event).toBe("memory.stopped");
    } finally {
      pod.sidecar.child.kill("SIGCONT");
      c.close();
      await pod.stop();
    }
  });
});
