/**
 * The sidecar's only door to the file system. Everything durable goes
 * through it, so tests can swap in a layer that loses unsynced data, forgets
 * directory entries that were never synced, and fails calls (EIO, ENOSPC).
 *
 * Contract: a write is durable only after `datasync`/`sync` on its handle
 * resolves; a created, renamed or deleted name is durable only after
 * `syncDir` on its directory resolves. Errors are Node-style (`code`).
 */
export interface FileLayer {
  /**
   * Opens a file. `create` makes a new empty file and fails with EEXIST if one
   * is there; `write` opens an existing file for reading and writing; `read`
   * opens read-only.
   */
  open(path: string, mode: "create" | "write" | "read"): Promise<FileHandle>;
  readFile(path: string): Promise<Buffer>;
  /** Names in a directory (no `.` or `..`); ENOENT if it does not exist. */
  readdir(dir: string): Promise<string[]>;
  /** Creates a directory and its parents; no error if it exists. */
  mkdir(dir: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Makes the directory's entries (creates, renames, unlinks) durable. */
  syncDir(dir: string): Promise<void>;
}

export interface FileHandle {
  /** Writes every buffer, in order, starting at `position`. Not durable until synced. */
  writev(buffers: readonly Buffer[], position: number): Promise<void>;
  /** Reads up to `length` bytes at `position`; resolves with the bytes read. */
  read(length: number, position: number): Promise<Buffer>;
  /** fdatasync(2): the data and the metadata needed to read it. */
  datasync(): Promise<void>;
  /** fsync(2): data and all metadata. */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}
