import { createHash } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { stateV1 } from "@t4dm/proto";

// Encodes checkpoint snapshots for SnapshotEncoder, off the main event loop.
parentPort!.on("message", ({ id, snapshot }: { id: number; snapshot: stateV1.LearningState }) => {
  try {
    const body = stateV1.LearningState.encode(snapshot).finish();
    const hash = createHash("sha256").update(body).digest();
    parentPort!.postMessage({ id, body, hash }, [body.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message });
  }
});
