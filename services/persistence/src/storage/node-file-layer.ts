import { constants } from "node:fs";
import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle as NodeHandle } from "node:fs/promises";
import type { FileHandle, FileLayer } from "./file-layer.js";

const MODES = {
  create: constants.O_RDWR | constants.O_CREAT | constants.O_EXCL,
  // Positional writes are ignored in append mode on Linux, so never O_APPEND.
  write: constants.O_RDWR,
  read: constants.O_RDONLY,
} as const;

/** The real file system, through fs/promises (libuv's thread pool, off the event loop). */
export class NodeFileLayer implements FileLayer {
  async open(path: string, mode: "create" | "write" | "read"): Promise<FileHandle> {
    return new NodeFileHandle(await open(path, MODES[mode], 0o600));
  }

  readFile(path: string): Promise<Buffer> {
    return readFile(path);
  }

  readdir(dir: string): Promise<string[]> {
    return readdir(dir);
  }

  async mkdir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }

  rename(from: string, to: string): Promise<void> {
    return rename(from, to);
  }

  unlink(path: string): Promise<void> {
    return unlink(path);
  }

  async syncDir(dir: string): Promise<void> {
    const handle = await open(dir, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

class NodeFileHandle implements FileHandle {
  constructor(private readonly handle: NodeHandle) {}

  async writev(buffers: readonly Buffer[], position: number): Promise<void> {
    let pending = buffers.filter((b) => b.length > 0);
    let at = position;
    // writev may write less than asked (for example near ENOSPC); finish the rest.
    while (pending.length > 0) {
      const { bytesWritten } = await this.handle.writev(pending, at);
      at += bytesWritten;
      pending = skipBytes(pending, bytesWritten);
    }
  }

  async read(length: number, position: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await this.handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  sync(): Promise<void> {
    return this.handle.sync();
  }

  truncate(length: number): Promise<void> {
    return this.handle.truncate(length);
  }

  async size(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

function skipBytes(buffers: Buffer[], count: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = count;
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}
