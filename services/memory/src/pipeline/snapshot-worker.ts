import { createHash, type Hash } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { stateV1 } from "@t4dm/proto";
import { ENCODING_ORDER, type SlicedPart, type SnapshotMessage } from "./snapshot-messages.js";

// Encodes checkpoint snapshots for SnapshotEncoder, off the main event loop.
// Each group of fields and each slice is encoded and hashed as it arrives and
// then dropped, so the worker never holds the decoded state (holding it made
// its young-generation collections copy the whole snapshot, CPU the main
// thread needs on a small machine).

const EMPTY = stateV1.LearningState.fromPartial({});
const covered = new Set(ENCODING_ORDER.flatMap((entry) => (typeof entry === "string" ? [entry] : entry)));
const missing = Object.keys(EMPTY).filter((key) => !covered.has(key as keyof stateV1.LearningState));
if (missing.length > 0) throw new Error(`snapshot encoding order misses LearningState fields: ${missing.join(", ")}`);

interface InProgress {
  rest: stateV1.LearningState;
  /** Index into ENCODING_ORDER of the next entry to write. */
  next: number;
  chunks: Buffer[];
  hash: Hash;
}

const inProgress = new Map<number, InProgress>();

function write(snapshot: InProgress, fields: Partial<stateV1.LearningState>): void {
  const bytes = stateV1.LearningState.encode({ ...EMPTY, ...fields }).finish();
  const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  snapshot.chunks.push(chunk);
  snapshot.hash.update(chunk);
}

/** Writes the field groups before `part` (or all that are left), passing over sliced parts that had no more slices. */
function advanceTo(snapshot: InProgress, part: SlicedPart | undefined): void {
  while (snapshot.next < ENCODING_ORDER.length) {
    const entry = ENCODING_ORDER[snapshot.next]!;
    if (entry === part) return;
    if (typeof entry !== "string") write(snapshot, Object.fromEntries(entry.map((key) => [key, snapshot.rest[key]])));
    snapshot.next += 1;
  }
  if (part !== undefined) throw new Error(`slice of ${part} out of order`);
}

parentPort!.on("message", (message: SnapshotMessage) => {
  const { id } = message;
  try {
    if (message.kind === "start") {
      inProgress.set(id, { rest: message.rest, next: 0, chunks: [], hash: createHash("sha256") });
      return;
    }
    const snapshot = inProgress.get(id);
    if (!snapshot) throw new Error(`snapshot ${id} was never started`);
    if (message.kind === "slice") {
      advanceTo(snapshot, message.part);
      write(snapshot, { [message.part]: message.entries });
      return;
    }
    advanceTo(snapshot, undefined);
    inProgress.delete(id);
    // Its own ArrayBuffer, never Node's shared pool (Buffer.concat of a small state would use it),
    // because it is transferred.
    const body = new Uint8Array(snapshot.chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    let offset = 0;
    for (const chunk of snapshot.chunks) {
      body.set(chunk, offset);
      offset += chunk.length;
    }
    const hash = snapshot.hash.digest();
    parentPort!.postMessage({ id, body, hash }, [body.buffer as ArrayBuffer]);
  } catch (error) {
    inProgress.delete(id);
    parentPort!.postMessage({ id, error: (error as Error).message });
  }
});
