import type { HnswParams } from "./vector-index.js";

/** What the vector index worker is started with. */
export interface IndexWorkerData {
  dimensions: number;
  params: HnswParams;
}

/** One operation on the worker's VectorIndex; the worker runs them in the order sent. */
export type IndexRequest =
  | { id: number; op: "put"; keys: number[]; vectors: Float32Array }
  | { id: number; op: "remove"; keys: number[] }
  | { id: number; op: "nearest"; query: Float32Array; count: number }
  | { id: number; op: "clear" }
  | { id: number; op: "size" }
  | { id: number; op: "save"; path: string }
  | { id: number; op: "load"; path: string; sha256: string | undefined };

export type IndexReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };
