import { Worker } from "node:worker_threads";
import { CodecDataError, CodecUnavailableError } from "./checkpoint-errors.js";

/*
 * Plain JavaScript run with `eval: true`: vitest runs our TypeScript sources
 * directly, and a Worker cannot load a .ts file. Results are moved back
 * (transferred), not cloned; a result that is a view on a shared backing store
 * (small Buffers come from a per-thread pool) is copied first, because moving
 * the pool would break the worker's later allocations.
 */
const WORKER_SOURCE = `"use strict";
const { parentPort } = require("node:worker_threads");
const { deflateRawSync, gunzipSync, crc32, constants } = require("node:zlib");

// Huffman coding only, no string matching: a checkpoint body is mostly
// float32 vectors, which LZ77 barely shrinks, and the CPU it spent is taken
// from live traffic while a checkpoint is written. bench/checkpoint.mjs's
// 20,000-memory state: 1.25-1.5 s per checkpoint and 42.5 MiB on disk, against
// 1.9-2.6 s and 37.7 MiB at zlib's default level. Any gunzip reads it.
const DEFLATE_OPTIONS = { strategy: constants.Z_HUFFMAN_ONLY };
const { createHash } = require("node:crypto");

function movable(bytes) {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

function sha256(bytes) {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

parentPort.on("message", ({ id, op, data, maxBytes }) => {
  try {
    const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (op === "compress") {
      // The deflate stream and gzip trailer (CRC-32, length mod 2^32) of a gzip
      // member whose header the store writes (FORMAT.md, checkpoint file).
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc32(input) >>> 0, 0);
      trailer.writeUInt32LE(input.length % 2 ** 32, 4);
      const compressed = movable(Buffer.concat([deflateRawSync(input, DEFLATE_OPTIONS), trailer]));
      const digest = sha256(compressed);
      parentPort.postMessage({ id, ok: true, data: compressed, sha256: digest }, [compressed.buffer, digest.buffer]);
    } else if (op === "decompress") {
      const options = maxBytes === undefined ? {} : { maxOutputLength: Math.max(1, maxBytes) };
      const body = movable(gunzipSync(input, options));
      parentPort.postMessage({ id, ok: true, data: body }, [body.buffer]);
    } else if (op === "sha256") {
      const digest = sha256(input);
      parentPort.postMessage({ id, ok: true, data: digest }, [digest.buffer]);
    } else {
      throw new Error("unknown codec operation " + op);
    }
  } catch (error) {
    parentPort.postMessage({
      id,
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      code: error && typeof error.code === "string" ? error.code : undefined,
    });
  }
});
`;

type Operation = "compress" | "decompress" | "sha256";

interface Success {
  id: number;
  ok: true;
  data: Uint8Array;
  sha256?: Uint8Array;
}

interface Failure {
  id: number;
  ok: false;
  message: string;
  code?: string;
}

interface Pending {
  resolve(reply: Success): void;
  reject(error: Error): void;
}

/**
 * gzip and SHA-256 for checkpoint bodies, in one long-lived worker thread so
 * a large checkpoint never stalls the sidecar's event loop (and its fsyncs).
 *
 * The worker is referenced only while a request is outstanding: an idle codec
 * never keeps the process alive, but a process awaiting a result does not exit
 * under it. If the worker dies, outstanding requests reject with
 * CodecUnavailableError and the next request starts a new one.
 */
export class CheckpointCodec {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor() {
    this.worker = this.spawn();
  }

  /** The worker's thread id (never the caller's); starts a worker if the last one died. */
  get workerThreadId(): number {
    return this.live().threadId;
  }

  /**
   * Deflate plus the gzip trailer: a gzip member without its header, which
   * encodeCheckpointPrefix supplies; then SHA-256 over these bytes (what the
   * checkpoint header records).
   */
  async compress(body: Buffer): Promise<{ compressed: Buffer; sha256: Buffer }> {
    const reply = await this.request("compress", body);
    if (!reply.sha256) throw new CodecUnavailableError("checkpoint codec worker sent no digest");
    return { compressed: toBuffer(reply.data), sha256: toBuffer(reply.sha256) };
  }

  /**
   * gunzip of a whole gzip stream. Rejects with CodecDataError (zlib's message and code) on truncated or
   * garbage input, or when the output would exceed `maxBytes`, so a corrupt
   * length never turns into a huge allocation.
   */
  async decompress(compressed: Buffer, options: { maxBytes?: number } = {}): Promise<Buffer> {
    return toBuffer((await this.request("decompress", compressed, options.maxBytes)).data);
  }

  async sha256(bytes: Buffer): Promise<Buffer> {
    return toBuffer((await this.request("sha256", bytes)).data);
  }

  /** Terminates the worker; outstanding and later requests reject with CodecUnavailableError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.rejectAll(new CodecUnavailableError("checkpoint codec is closed"));
    if (worker) await worker.terminate();
  }

  private request(op: Operation, input: Buffer, maxBytes?: number): Promise<Success> {
    return new Promise<Success>((resolve, reject) => {
      const worker = this.live();
      const id = this.nextId++;
      // Copy once into a buffer we own, then move it: moving the caller's
      // buffer would detach it under them, and cloning a view clones its
      // whole backing store (a slice of a large read, say).
      const data = new Uint8Array(input);
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      try {
        worker.postMessage({ id, op, data, maxBytes }, [data.buffer]);
      } catch (error) {
        this.settle({ id, ok: false, message: error instanceof Error ? error.message : String(error) });
      }
    });
  }

  private live(): Worker {
    if (this.closed) throw new CodecUnavailableError("checkpoint codec is closed");
    this.worker ??= this.spawn();
    return this.worker;
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on("message", (reply: Success | Failure) => this.settle(reply));
    worker.on("error", (error) =>
      this.abandon(worker, new CodecUnavailableError(`checkpoint codec worker failed: ${error.message}`, { cause: error })),
    );
    worker.on("messageerror", (error) =>
      this.abandon(worker, new CodecUnavailableError(`checkpoint codec reply unreadable: ${error.message}`, { cause: error })),
    );
    worker.on("exit", (code) => this.abandon(worker, new CodecUnavailableError(`checkpoint codec worker exited (code ${code})`)));
    // Only after the listeners: adding a 'message' listener refs the worker again.
    worker.unref();
    return worker;
  }

  private settle(reply: Success | Failure): void {
    const entry = this.pending.get(reply.id);
    if (!entry) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.ok) entry.resolve(reply);
    else entry.reject(new CodecDataError(reply.message, reply.code));
  }

  /** Gives up on a worker that failed; a later request starts a fresh one. */
  private abandon(worker: Worker, error: CodecUnavailableError): void {
    // 'error' is followed by 'exit' for the same worker; act once, and never on a successor's requests.
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.rejectAll(error);
    void worker.terminate();
  }

  private rejectAll(error: Error): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) entry.reject(error);
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
