import { createHash } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { stateV1 } from "@t4dm/proto";
import type { SnapshotMessage } from "./snapshot-messages.js";

// Encodes checkpoint snapshots for SnapshotEncoder, off the main event loop:
// reassembles the slices of each snapshot, then encodes and hashes it.
const assembling = new Map<number, stateV1.LearningState>();

parentPort!.on("message", (message: SnapshotMessage) => {
  const { id } = message;
  try {
    if (message.kind === "start") {
      assembling.set(id, message.rest);
      return;
    }
    const snapshot = assembling.get(id);
    if (!snapshot) throw new Error(`snapshot ${id} was never started`);
    if (message.kind === "slice") {
      const part = snapshot[message.part] as unknown[];
      for (const entry of message.entries) part.push(entry);
      return;
    }
    assembling.delete(id);
    const body = stateV1.LearningState.encode(snapshot).finish();
    const hash = createHash("sha256").update(body).digest();
    parentPort!.postMessage({ id, body, hash }, [body.buffer as ArrayBuffer]);
  } catch (error) {
    assembling.delete(id);
    parentPort!.postMessage({ id, error: (error as Error).message });
  }
});
