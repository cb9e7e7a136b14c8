import { parentPort, workerData } from "node:worker_threads";
import type { IndexReply, IndexRequest, IndexWorkerData } from "./vector-index-messages.js";
import { VectorIndex } from "./vector-index.js";

// Owns one VectorIndex for ThreadedVectorIndex, so HNSW inserts (the largest
// share of the memory service's CPU per promoted memory) and searches run off
// the main event loop. Requests run one at a time in the order sent, so a
// search sees every insert sent before it.

const { dimensions, params } = workerData as IndexWorkerData;
const index = new VectorIndex(dimensions, params);

function run(request: IndexRequest): unknown {
  switch (request.op) {
    case "put":
      index.put(request.keys, request.vectors);
      return undefined;
    case "remove":
      index.remove(request.keys);
      return undefined;
    case "nearest":
      return index.nearest(request.query, request.count);
    case "clear":
      index.clear();
      return undefined;
    case "size":
      return index.size;
    case "save":
      return index.saveAtomically(request.path);
    case "load":
      return index.loadVerified(request.path, request.sha256);
  }
}

parentPort!.on("message", (request: IndexRequest) => {
  let reply: IndexReply;
  try {
    reply = { id: request.id, ok: true, value: run(request) };
  } catch (error) {
    reply = { id: request.id, ok: false, message: (error as Error).message };
  }
  parentPort!.postMessage(reply);
});
