import path from "node:path";
import {
  STATE_HASH_BYTES,
  WalFormatError,
  checkpointFileName,
  encodeCheckpointPrefix,
  parseCheckpointFile,
  parseCheckpointFileName,
  type CheckpointFileView,
  type DecodedCheckpointHeader,
} from "@t4dm/wal-format";
import type { FileHandle, FileLayer } from "../storage/file-layer.js";
import type { CheckpointCodec } from "./checkpoint-codec.js";
import {
  CheckpointInvalidError,
  CheckpointWriteError,
  CodecDataError,
  type CheckpointWriteStep,
} from "./checkpoint-errors.js";

const TEMP_SUFFIX = ".tmp";

/** The reason given for a checkpoint file the WAL never committed. */
export const NOT_COMMITTED = "not committed (no durable CHECKPOINT_COMPLETE)";

/** `<dataDir>/checkpoints`, the directory a CheckpointStore owns. */
export function checkpointDirectory(dataDir: string): string {
  return path.join(dataDir, "checkpoints");
}

export interface CheckpointInput {
  lsn: number;
  stateFormatVersion: number;
  /** Canonical hash of the state, at most STATE_HASH_BYTES (28); stored zero-padded. */
  stateHash: Buffer;
  body: Buffer;
}

export interface WrittenCheckpoint {
  fileName: string;
  /** The whole file. */
  sizeBytes: number;
  sha256: Buffer;
}

export interface LoadedCheckpoint {
  header: DecodedCheckpointHeader;
  body: Buffer;
}

export interface SelectedCheckpoint extends LoadedCheckpoint {
  lsn: number;
  fileName: string;
}

export interface RejectedCheckpoint {
  fileName: string;
  reason: string;
}

/** A rejected file the WAL had committed: a checkpoint that should have loaded and did not. */
export interface RejectedCommittedCheckpoint extends RejectedCheckpoint {
  lsn: number;
}

export interface CheckpointSelection {
  chosen?: SelectedCheckpoint;
  /** Every checkpoint newer than the chosen one, newest first, with why it was passed over. */
  rejected: RejectedCheckpoint[];
  /** The committed ones among `rejected`: corrupt, missing or unreadable. */
  corrupt: RejectedCommittedCheckpoint[];
}

export interface PruneResult {
  deleted: string[];
  /** The WAL must be retained back to this LSN; undefined when no committed checkpoint exists. */
  oldestKeptLsn: number | undefined;
}

/**
 * Checkpoint files in one directory. A file is written to a temp name, synced,
 * renamed and the directory synced, so a crash leaves either the whole file
 * under its final name or nothing there. A file is still not a checkpoint
 * until the WAL's CHECKPOINT_COMPLETE naming its LSN is durable: the caller
 * tracks that and passes the committed LSNs in.
 *
 * Mutations (open, write, prune) run one at a time; reads may overlap them.
 */
export class CheckpointStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly layer: FileLayer,
    private readonly dir: string,
    private readonly codec: CheckpointCodec,
    private readonly keep: number,
  ) {
    if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError(`keep must be a positive integer, got ${keep}`);
  }

  /** Creates the directory and removes temp files left by writes that died. */
  open(): Promise<void> {
    return this.exclusive(async () => {
      await this.layer.mkdir(this.dir);
      // The directory's own entry must survive a power loss, or every file in it goes too.
      await this.layer.syncDir(path.dirname(this.dir));
      for (const name of await this.layer.readdir(this.dir)) {
        if (name.endsWith(TEMP_SUFFIX)) await this.layer.unlink(path.join(this.dir, name));
      }
      await this.layer.syncDir(this.dir);
    });
  }

  /**
   * Durably writes a checkpoint file; it still needs a durable
   * CHECKPOINT_COMPLETE before it counts. Rejects with CheckpointWriteError,
   * after which the caller must not commit this LSN.
   */
  write(input: CheckpointInput): Promise<WrittenCheckpoint> {
    if (!Number.isSafeInteger(input.lsn) || input.lsn < 0) return Promise.reject(new RangeError(`bad checkpoint LSN ${input.lsn}`));
    if (!Number.isInteger(input.stateFormatVersion) || input.stateFormatVersion < 0 || input.stateFormatVersion > 0xffff) {
      return Promise.reject(new RangeError(`state format version ${input.stateFormatVersion} does not fit in 16 bits`));
    }
    if (input.stateHash.length > STATE_HASH_BYTES) {
      return Promise.reject(new RangeError(`state hash is ${input.stateHash.length} bytes, at most ${STATE_HASH_BYTES}`));
    }
    return this.exclusive(() => this.writeNow(input));
  }

  /** LSNs of the checkpoint files present, newest first; uncommitted ones included. */
  async list(): Promise<number[]> {
    let names: string[];
    try {
      names = await this.layer.readdir(this.dir);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return [];
      throw error;
    }
    const lsns: number[] = [];
    for (const name of names) {
      const lsn = parseCheckpointFileName(name);
      if (lsn !== undefined) lsns.push(lsn);
    }
    return lsns.sort((a, b) => b - a);
  }

  /**
   * Reads and fully verifies one checkpoint, in either layout: header CRC,
   * LSN, file length, SHA-256 of the compressed bytes (before they reach
   * gunzip), the gzip CRC-32, body length.
   * Throws CheckpointInvalidError for anything wrong with the file;
   * CodecUnavailableError passes through, as it says nothing about the file.
   */
  async load(lsn: number): Promise<LoadedCheckpoint> {
    const fileName = checkpointFileName(lsn);
    const invalid = (reason: string, cause?: unknown): CheckpointInvalidError =>
      new CheckpointInvalidError(fileName, reason, cause === undefined ? undefined : { cause });

    let bytes: Buffer;
    try {
      bytes = await this.layer.readFile(path.join(this.dir, fileName));
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT") throw invalid("missing", error);
      throw invalid(`unreadable (${code ?? describe(error)})`, error);
    }
    if (bytes.length === 0) throw invalid("empty file");

    let file: CheckpointFileView;
    try {
      file = parseCheckpointFile(bytes);
    } catch (error) {
      if (error instanceof WalFormatError) throw invalid(error.message, error);
      throw error;
    }
    const header = file.header;
    if (header.lsn !== lsn) throw invalid(`header says LSN ${header.lsn}, file name says ${lsn}`);

    if (!(await this.codec.sha256(file.hashed)).equals(header.sha256)) {
      throw invalid("SHA-256 mismatch over the compressed body");
    }
    let body: Buffer;
    try {
      body = await this.codec.decompress(file.gzip, { maxBytes: header.bodyBytes });
    } catch (error) {
      if (!(error instanceof CodecDataError)) throw error;
      if (error.code === "ERR_BUFFER_TOO_LARGE") throw invalid(`body is larger than the ${header.bodyBytes} bytes the header says`, error);
      throw invalid(`gzip: ${error.message}`, error);
    }
    if (body.length !== header.bodyBytes) throw invalid(`body is ${body.length} bytes, header says ${header.bodyBytes}`);
    return { header, body };
  }

  /**
   * The newest committed checkpoint that loads. Files newer than it are
   * reported in `rejected` (corrupt, missing, or never committed); older
   * uncommitted files are not, as they could never have been chosen.
   */
  async selectNewestValid(committed: ReadonlySet<number>): Promise<CheckpointSelection> {
    const lsns = [...new Set([...(await this.list()), ...committed])].sort((a, b) => b - a);
    const rejected: RejectedCheckpoint[] = [];
    const corrupt: RejectedCommittedCheckpoint[] = [];
    for (const lsn of lsns) {
      const fileName = checkpointFileName(lsn);
      if (!committed.has(lsn)) {
        rejected.push({ fileName, reason: NOT_COMMITTED });
        continue;
      }
      try {
        const { header, body } = await this.load(lsn);
        return { chosen: { lsn, fileName, header, body }, rejected, corrupt };
      } catch (error) {
        if (!(error instanceof CheckpointInvalidError)) throw error;
        rejected.push({ fileName, reason: error.reason });
        corrupt.push({ lsn, fileName, reason: error.reason });
      }
    }
    return { rejected, corrupt };
  }

  /**
   * Keeps the newest `keep` committed checkpoints and deletes every file older
   * than the oldest of them, plus uncommitted files older than the newest
   * (newer uncommitted ones may be a checkpoint whose commit is in flight).
   * Validity is not checked here: that is what keeping more than one is for.
   */
  prune(committed: ReadonlySet<number>): Promise<PruneResult> {
    return this.exclusive(async () => {
      const onDisk = await this.list();
      const kept = onDisk.filter((lsn) => committed.has(lsn)).slice(0, this.keep);
      const newestKept = kept[0];
      const oldestKept = kept[kept.length - 1];
      if (newestKept === undefined || oldestKept === undefined) return { deleted: [], oldestKeptLsn: undefined };

      const doomed = onDisk.filter((lsn) => lsn < oldestKept || (lsn < newestKept && !committed.has(lsn))).reverse();
      const deleted: string[] = [];
      for (const lsn of doomed) {
        const fileName = checkpointFileName(lsn);
        try {
          await this.layer.unlink(path.join(this.dir, fileName));
          deleted.push(fileName);
        } catch (error) {
          if (errorCode(error) !== "ENOENT") throw error;
        }
      }
      if (deleted.length > 0) await this.layer.syncDir(this.dir);
      return { deleted, oldestKeptLsn: oldestKept };
    });
  }

  private async writeNow(input: CheckpointInput): Promise<WrittenCheckpoint> {
    const fileName = checkpointFileName(input.lsn);
    const finalPath = path.join(this.dir, fileName);
    const tempPath = finalPath + TEMP_SUFFIX;
    let step: CheckpointWriteStep = "compress";
    let tempExists = false;
    try {
      const { compressed, sha256 } = await this.codec.compress(input.body);
      const prefix = encodeCheckpointPrefix({
        lsn: input.lsn,
        stateFormatVersion: input.stateFormatVersion,
        compressedBytes: compressed.length,
        bodyBytes: input.body.length,
        sha256,
        stateHash: input.stateHash,
      });

      step = "create";
      const handle = await this.createTemp(tempPath);
      tempExists = true;
      try {
        step = "write";
        await handle.writev([prefix, compressed], 0);
        step = "sync";
        await handle.sync();
      } finally {
        await handle.close();
      }

      step = "rename";
      await this.layer.rename(tempPath, finalPath);
      tempExists = false;
      step = "syncDir";
      await this.layer.syncDir(this.dir);
      return { fileName, sizeBytes: prefix.length + compressed.length, sha256 };
    } catch (cause) {
      // Best effort, to give the space back (after ENOSPC, say); open() removes it otherwise.
      if (tempExists) await this.layer.unlink(tempPath).catch(() => undefined);
      throw new CheckpointWriteError(fileName, step, { cause });
    }
  }

  private async createTemp(tempPath: string): Promise<FileHandle> {
    try {
      return await this.layer.open(tempPath, "create");
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
      // Left by a write that died before its rename; its bytes are worthless.
      await this.layer.unlink(tempPath);
      return this.layer.open(tempPath, "create");
    }
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
