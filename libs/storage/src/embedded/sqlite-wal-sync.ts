import { open } from "node:fs/promises";

/** Makes a file's written data durable (fdatasync). A seam so a test can hold a sync back. */
export type SyncFile = (path: string) => Promise<void>;

/**
 * The durability barrier of a SQLite database opened with synchronous=NORMAL
 * in WAL mode: such a commit is atomic and survives a crash of the process
 * (its frames are in the OS's page cache), but not a power loss until the
 * `-wal` file is synced. One fdatasync of that file makes every commit made
 * before it durable, and it runs on libuv's thread pool, not the event loop,
 * where a synchronous=FULL commit would block for its fsync.
 *
 * A missing `-wal` file holds nothing to sync: SQLite removes it only after
 * checkpointing it into the database file, and syncs that file when it
 * checkpoints (synchronous=NORMAL does).
 */
export class SqliteWalSync {
  private readonly walPath: string;

  constructor(
    databasePath: string,
    private readonly syncFile: SyncFile = fdatasyncFile,
  ) {
    this.walPath = `${databasePath}-wal`;
  }

  /** Resolves once every commit made before the call is durable. */
  sync(): Promise<void> {
    return this.syncFile(this.walPath);
  }
}

/** fdatasync through a fresh descriptor: on Linux it flushes the file's dirty pages whoever wrote them. */
export async function fdatasyncFile(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
