import { walV1 } from "@t4dm/proto";
import { encodeEntry, LearningState, type EncodedEntry, type Operation, type PlanContext } from "../../src/index.js";
import { mulberry32 } from "@t4dm/testkit";
export { mulberry32 };


export interface DriverOptions {
  /** Hash the state after every record (for replay checks); costly, off by default. */
  recordHashes?: boolean;
  /** Logical clock start, ms since the epoch. */
  startTime?: number;
}

/**
 * Drives a state the way the memory service does: plan, encode to WAL bytes,
 * decode, apply in LSN order. Every change reaches the state through a record,
 * so `log` replays to the same state.
 */
export class Driver {
  readonly state = new LearningState();
  readonly log: EncodedEntry[] = [];
  readonly hashes: Buffer[] = [];
  private ids = 0;
  private clock: number;
  private readonly recordHashes: boolean;

  constructor(
    readonly random: () => number,
    options: DriverOptions = {},
  ) {
    this.clock = options.startTime ?? Date.UTC(2026, 0, 1);
    this.recordHashes = options.recordHashes ?? false;
  }

  /** Advances the logical clock by a random step below `maxStepMs` and returns it. */
  now(maxStepMs = 60_000): Date {
    this.clock += Math.floor(this.random() * maxStepMs);
    return new Date(this.clock);
  }

  /** The SYSTEM_START that shapes a fresh state. */
  start(
    value: { seed: number; embeddingDim: number; bufferCapacity: number; defaultRetention?: walV1.RetentionMode; learningScope?: walV1.LearningScope; maxScorerAdaptations?: number },
    time = this.now(),
  ): void {
    const defaults = { version: "t", recoveryMode: "cold", recoveredLsn: 0, defaultRetention: walV1.RetentionMode.RETENTION_MODE_UNSPECIFIED, learningScope: walV1.LearningScope.LEARNING_SCOPE_UNSPECIFIED, maxScorerAdaptations: 0 };
    this.commit([{ $case: "systemStart", value: { ...defaults, ...value } }], time);
  }

  commit(operations: readonly Operation[], time: Date): void {
    for (const operation of operations) {
      const encoded = encodeEntry(operation, time);
      this.log.push(encoded);
      this.state.apply(this.log.length, encoded.entry);
      if (this.recordHashes) this.hashes.push(this.state.hash());
    }
  }

  context(time: Date): PlanContext {
    return { now: time, newId: () => `id-${++this.ids}` };
  }

  /** A cold replay of the whole log into a fresh state. */
  replay(): LearningState {
    const cold = new LearningState();
    this.log.forEach((encoded, i) => cold.apply(i + 1, walV1.WalEntry.decode(encoded.payload)));
    return cold;
  }
}
