import path from "node:path";
import type { FileHandle, FileLayer } from "../../src/storage/file-layer.js";

/** Thrown by every call once the simulated process has "died". */
export class SimulatedCrash extends Error {
  constructor(readonly atOp: number) {
    super(`simulated crash before operation ${atOp}`);
    this.name = "SimulatedCrash";
  }
}

interface Inode {
  /** What a reader sees now (the page cache). */
  data: Buffer;
  /** What survives a power loss: the data as of the last sync. */
  durable: Buffer;
}

interface Directory {
  /** Entries as seen now. */
  current: Map<string, Inode>;
  /** Entries as of the last syncDir: what survives a power loss. */
  durable: Map<string, Inode>;
}

export type MutatingOp = "create" | "writev" | "datasync" | "sync" | "truncate" | "rename" | "unlink" | "syncDir";

interface Fault {
  op: MutatingOp;
  code: "EIO" | "ENOSPC";
  path?: RegExp;
  remaining: number;
}

/** How unsynced appended bytes look after a power loss. */
export type UnsyncedFate =
  /** They are gone. */
  | "drop"
  /** A random-length prefix of them survived. */
  | "prefix"
  /** The file kept its new size but the bytes read as zeros. */
  | "zeros";

/**
 * An in-memory file system that models what a real one may lose, after
 * RocksDB's FaultInjectionTestFS and LazyFS: unsynced data vanishes on
 * power loss, as do directory entries made after the last directory sync;
 * calls can be made to fail (EIO, ENOSPC) and the process to "die" before
 * any numbered mutating call.
 */
export class MemoryFileLayer implements FileLayer {
  private readonly dirs = new Map<string, Directory>();
  private readonly faults: Fault[] = [];
  /** Mutating calls made so far; `crashBeforeOp` counts in these. */
  opCount = 0;
  private crashAt: number | undefined;
  crashed = false;
  /** Every mutating call, in order, for tests that step through a protocol. */
  readonly trace: string[] = [];

  /** The process dies just before mutating call number `op` (1-based). */
  crashBeforeOp(op: number): void {
    this.crashAt = op;
  }

  /** The next `times` calls of `op` (on a path matching `path`) fail with `code`. */
  inject(op: MutatingOp, code: "EIO" | "ENOSPC", options: { path?: RegExp; times?: number } = {}): void {
    this.faults.push({ op, code, path: options.path, remaining: options.times ?? 1 });
  }

  /** The disk as the next process sees it after this one was SIGKILLed: the page cache survives. */
  afterProcessCrash(): MemoryFileLayer {
    const next = new MemoryFileLayer();
    const copies = new Map<Inode, Inode>();
    const copy = (inode: Inode): Inode => {
      let kept = copies.get(inode);
      if (!kept) copies.set(inode, (kept = { data: Buffer.from(inode.data), durable: Buffer.from(inode.durable) }));
      return kept;
    };
    for (const [name, dir] of this.dirs) {
      next.dirs.set(name, {
        current: new Map([...dir.current].map(([entry, inode]) => [entry, copy(inode)])),
        durable: new Map([...dir.durable].map(([entry, inode]) => [entry, copy(inode)])),
      });
    }
    return next;
  }

  /** The disk after a power loss or OS crash: only synced data and synced entries remain. */
  afterPowerLoss(fate: UnsyncedFate = "drop", random: () => number = Math.random): MemoryFileLayer {
    const next = new MemoryFileLayer();
    const survivors = new Map<Inode, Inode>();
    const survive = (inode: Inode): Inode => {
      let kept = survivors.get(inode);
      if (kept) return kept;
      let data = Buffer.from(inode.durable);
      const extra = inode.data.length - inode.durable.length;
      const sameBase = inode.data.subarray(0, inode.durable.length).equals(inode.durable);
      if (extra > 0 && sameBase && fate !== "drop") {
        const keep = fate === "zeros" ? extra : Math.floor(random() * (extra + 1));
        const tail = fate === "zeros" ? Buffer.alloc(keep) : inode.data.subarray(inode.durable.length, inode.durable.length + keep);
        data = Buffer.concat([data, tail]);
      }
      kept = { data, durable: Buffer.from(data) };
      survivors.set(inode, kept);
      return kept;
    };
    for (const [name, dir] of this.dirs) {
      const copy: Directory = { current: new Map(), durable: new Map() };
      for (const [entry, inode] of dir.durable) {
        const kept = survive(inode);
        copy.current.set(entry, kept);
        copy.durable.set(entry, kept);
      }
      next.dirs.set(name, copy);
    }
    return next;
  }

  /** Test access: a file's current bytes. */
  peek(file: string): Buffer {
    return Buffer.from(this.inode(file).data);
  }

  /** Test access: overwrite a file's bytes as if the disk had been damaged (durably). */
  poke(file: string, bytes: Buffer): void {
    const inode = this.inode(file);
    inode.data = Buffer.from(bytes);
    inode.durable = Buffer.from(bytes);
  }

  exists(file: string): boolean {
    return this.dirs.get(path.dirname(file))?.current.has(path.basename(file)) ?? false;
  }

  // FileLayer

  async open(file: string, mode: "create" | "write" | "read"): Promise<FileHandle> {
    const dir = this.dir(path.dirname(file));
    const name = path.basename(file);
    if (mode === "create") {
      this.mutate("create", file);
      if (dir.current.has(name)) throw fsError("EEXIST", file);
      const inode: Inode = { data: Buffer.alloc(0), durable: Buffer.alloc(0) };
      dir.current.set(name, inode);
      return new MemoryFileHandle(this, inode, file, true);
    }
    this.alive();
    const inode = dir.current.get(name);
    if (!inode) throw fsError("ENOENT", file);
    return new MemoryFileHandle(this, inode, file, mode === "write");
  }

  async readFile(file: string): Promise<Buffer> {
    this.alive();
    return Buffer.from(this.inode(file).data);
  }

  async readdir(dirPath: string): Promise<string[]> {
    this.alive();
    const dir = this.dirs.get(dirPath);
    if (!dir) throw fsError("ENOENT", dirPath);
    return [...dir.current.keys()].sort();
  }

  async mkdir(dirPath: string): Promise<void> {
    this.alive();
    this.ensureDir(dirPath);
  }

  async rename(from: string, to: string): Promise<void> {
    this.mutate("rename", from);
    const source = this.dir(path.dirname(from));
    const inode = source.current.get(path.basename(from));
    if (!inode) throw fsError("ENOENT", from);
    source.current.delete(path.basename(from));
    this.dir(path.dirname(to)).current.set(path.basename(to), inode);
  }

  async unlink(file: string): Promise<void> {
    this.mutate("unlink", file);
    const dir = this.dir(path.dirname(file));
    if (!dir.current.delete(path.basename(file))) throw fsError("ENOENT", file);
  }

  async syncDir(dirPath: string): Promise<void> {
    this.mutate("syncDir", dirPath);
    const dir = this.dir(dirPath);
    dir.durable = new Map(dir.current);
  }

  // internals shared with handles

  /** Counts a mutating call; crashes or fails it as configured. */
  mutate(op: MutatingOp, file: string): void {
    this.alive();
    this.opCount += 1;
    if (this.crashAt !== undefined && this.opCount >= this.crashAt) {
      this.crashed = true;
      throw new SimulatedCrash(this.opCount);
    }
    this.trace.push(`${op} ${path.basename(file)}`);
    const fault = this.faults.find((f) => f.op === op && f.remaining > 0 && (!f.path || f.path.test(file)));
    if (fault) {
      fault.remaining -= 1;
      throw fsError(fault.code, file);
    }
  }

  alive(): void {
    if (this.crashed) throw new SimulatedCrash(this.opCount);
  }

  private inode(file: string): Inode {
    const inode = this.dirs.get(path.dirname(file))?.current.get(path.basename(file));
    if (!inode) throw fsError("ENOENT", file);
    return inode;
  }

  private dir(dirPath: string): Directory {
    const dir = this.dirs.get(dirPath);
    if (!dir) throw fsError("ENOENT", dirPath);
    return dir;
  }

  private ensureDir(dirPath: string): void {
    if (!this.dirs.has(dirPath)) this.dirs.set(dirPath, { current: new Map(), durable: new Map() });
  }
}

class MemoryFileHandle implements FileHandle {
  constructor(
    private readonly layer: MemoryFileLayer,
    private readonly inode: Inode,
    private readonly file: string,
    private readonly writable: boolean,
  ) {}

  async writev(buffers: readonly Buffer[], position: number): Promise<void> {
    if (!this.writable) throw fsError("EBADF", this.file);
    this.layer.mutate("writev", this.file);
    const bytes = Buffer.concat(buffers as Buffer[]);
    const end = position + bytes.length;
    if (end > this.inode.data.length) {
      const grown = Buffer.alloc(end);
      this.inode.data.copy(grown);
      this.inode.data = grown;
    }
    bytes.copy(this.inode.data, position);
  }

  async read(length: number, position: number): Promise<Buffer> {
    this.layer.alive();
    return Buffer.from(this.inode.data.subarray(position, position + length));
  }

  async datasync(): Promise<void> {
    this.layer.mutate("datasync", this.file);
    this.inode.durable = Buffer.from(this.inode.data);
  }

  async sync(): Promise<void> {
    this.layer.mutate("sync", this.file);
    this.inode.durable = Buffer.from(this.inode.data);
  }

  async truncate(length: number): Promise<void> {
    this.layer.mutate("truncate", this.file);
    const next = Buffer.alloc(length);
    this.inode.data.copy(next, 0, 0, Math.min(length, this.inode.data.length));
    this.inode.data = next;
  }

  async size(): Promise<number> {
    this.layer.alive();
    return this.inode.data.length;
  }

  async close(): Promise<void> {}
}

function fsError(code: string, file: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: simulated, ${file}`) as NodeJS.ErrnoException;
  error.code = code;
  error.path = file;
  return error;
}
