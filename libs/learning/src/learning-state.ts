import { createHash } from "node:crypto";
import { stateV1, walV1 } from "@t4dm/proto";
import { MemoryBuffer } from "./buffer.js";
import { BuiltEffects } from "./built-effects.js";
import { Clusters } from "./clusters.js";
import { Gate } from "./gate.js";
import { Neuromodulators } from "./neuromodulators.js";
import { StoreOutbox } from "./outbox.js";
import { Prng } from "./prng.js";
import { rememberSteps } from "./remember-record.js";
import { RetentionPolicies } from "./retention.js";
import { RequestKeys } from "./request-keys.js";
import { Scorer } from "./scorer.js";
import { DEFAULT_MAX_SCORER_ADAPTATIONS, ScorerAdaptations } from "./scorer-adaptations.js";
import { Traces } from "./traces.js";

export const STATE_FORMAT_VERSION = 1;

/** The networks exist once the first SYSTEM_START has shaped the state. */
export interface Networks {
  gate: Gate;
  /** The global prior: ranks every namespace without an adaptation, and all of them under SHARED scope. */
  scorer: Scorer;
  /** Per-namespace copies of the prior, each trained only by its namespace's feedback. */
  adaptations: ScorerAdaptations;
}

/** A record was applied out of LSN order: the caller's pipeline is broken. */
export class LsnOrderError extends Error {
  constructor(readonly expected: number, readonly got: number) {
    super(`record LSN ${got} applied where ${expected} was expected`);
    this.name = "LsnOrderError";
  }
}

/**
 * The whole learning state, changed only by applying WAL entries in LSN
 * order. It is deterministic: the same entries give the same bytes, so a
 * checkpoint plus the WAL tail rebuilds it exactly (invariant I1).
 */
export class LearningState {
  appliedLsn = 0;
  seed = 0;
  embeddingDim = 0;
  bufferCapacity = 0;
  prng = Prng.fromSeed(0);
  /** Logical time of the last applied record; the only clock the state knows. */
  time: Date | undefined;
  buffer = new MemoryBuffer();
  networks: Networks | undefined;
  traces = new Traces();
  neuromodulators = new Neuromodulators();
  clusters = new Clusters();
  requestKeys = new RequestKeys();
  outbox = new StoreOutbox();
  retention = new RetentionPolicies();
  /** From the latest SYSTEM_START; UNSPECIFIED (older WALs) means NAMESPACE. */
  learningScope = walV1.LearningScope.LEARNING_SCOPE_UNSPECIFIED;
  /** From the latest SYSTEM_START; 0 (older WALs) means DEFAULT_MAX_SCORER_ADAPTATIONS. */
  maxScorerAdaptations = 0;

  get initialized(): boolean {
    return this.networks !== undefined;
  }

  /** True unless the operator chose to share learning across namespaces. */
  get learnsPerNamespace(): boolean {
    return this.learningScope !== walV1.LearningScope.LEARNING_SCOPE_SHARED;
  }

  /** The scorer that ranks `namespace`: its adaptation if it has one (and learning is per namespace), else the prior. */
  scorerFor(namespace: string): Scorer {
    const networks = this.requireNetworks();
    return this.scorerKeyFor(namespace) === "" ? networks.scorer : networks.adaptations.get(namespace)!;
  }

  /** The ScorerWeightUpdate.namespace naming the scorer that ranks `namespace` now ("" = the prior). */
  scorerKeyFor(namespace: string): string {
    return this.learnsPerNamespace && this.requireNetworks().adaptations.get(namespace) ? namespace : "";
  }

  /** The ScorerWeightUpdate.namespace a reward in `namespace` trains: itself, or the prior when learning is shared. */
  scorerTargetFor(namespace: string): string {
    return this.learnsPerNamespace ? namespace : "";
  }

  /**
   * The shadow guards' verdicts over every scorer (the prior and each
   * adaptation): the lowest trust, and how many scorers it backed off
   * (trust below 1). Trust 1 and none before any judgement.
   */
  get scorerTrust(): { minimum: number; backedOff: number } {
    let minimum = 1;
    let backedOff = 0;
    if (!this.networks) return { minimum, backedOff };
    for (const scorer of [this.networks.scorer, ...this.networks.adaptations.scorers()]) {
      minimum = Math.min(minimum, scorer.trust);
      if (scorer.trust < 1) backedOff += 1;
    }
    return { minimum, backedOff };
  }

  /** Namespaces that hold a scorer adaptation (learned state of their own). */
  get adaptedNamespaces(): number {
    return this.networks?.adaptations.size ?? 0;
  }

  /**
   * Applies the record at `lsn`. `built`: what an earlier apply of this same
   * decoded record (to another state) built from it, to take instead of
   * building again (see BuiltEffects); a record applied once needs none.
   */
  apply(lsn: number, entry: walV1.WalEntry, built: BuiltEffects = new BuiltEffects()): void {
    if (lsn !== this.appliedLsn + 1) throw new LsnOrderError(this.appliedLsn + 1, lsn);
    this.applyEntry(entry, built);
    this.appliedLsn = lsn;
    if (entry.time) this.time = entry.time;
  }

  snapshot(): stateV1.LearningState {
    const { buffer, promoting } = this.buffer.snapshot();
    const gate = this.networks?.gate.snapshot();
    return {
      formatVersion: STATE_FORMAT_VERSION,
      appliedLsn: this.appliedLsn,
      initialized: this.initialized,
      seed: this.seed,
      embeddingDim: this.embeddingDim,
      bufferCapacity: this.bufferCapacity,
      prngState: this.prng.words(),
      time: this.time,
      buffer,
      gate: gate?.gate,
      gateProjection: gate?.projection ?? [],
      scorer: this.networks?.scorer.snapshot(),
      scorerGuard: this.networks?.scorer.guardSnapshot(),
      traces: this.traces.snapshot(),
      neuromodulators: this.neuromodulators.snapshot(),
      clusters: this.clusters.snapshot(),
      requestKeys: this.requestKeys.entries(),
      pendingPromotions: [],
      promoting,
      ...this.outbox.snapshot(),
      defaultRetention: this.retention.defaultMode,
      retentionPolicies: this.retention.snapshot(),
      scorerAdaptations: this.networks?.adaptations.snapshot() ?? [],
      learningScope: this.learningScope,
      maxScorerAdaptations: this.maxScorerAdaptations,
    };
  }

  /** Canonical bytes of the state: the checkpoint body. */
  encode(): Buffer {
    return Buffer.from(stateV1.LearningState.encode(this.snapshot()).finish());
  }

  /** SHA-256 of the canonical encoding. */
  hash(): Buffer {
    return stateHash(this.encode());
  }

  static restore(snapshot: stateV1.LearningState): LearningState {
    if (snapshot.formatVersion !== STATE_FORMAT_VERSION) {
      throw new Error(`checkpoint state format ${snapshot.formatVersion} is not supported (expected ${STATE_FORMAT_VERSION})`);
    }
    const state = new LearningState();
    state.appliedLsn = snapshot.appliedLsn;
    state.seed = snapshot.seed;
    state.embeddingDim = snapshot.embeddingDim;
    state.bufferCapacity = snapshot.bufferCapacity;
    state.prng = Prng.fromWords(snapshot.prngState);
    state.time = snapshot.time;
    state.buffer = MemoryBuffer.restore(snapshot.buffer, snapshot.promoting);
    if (snapshot.initialized) {
      state.networks = {
        gate: Gate.restore({ gate: snapshot.gate!, projection: snapshot.gateProjection }, snapshot.embeddingDim),
        scorer: Scorer.restore(snapshot.scorer!, snapshot.scorerGuard),
        adaptations: ScorerAdaptations.restore(snapshot.scorerAdaptations),
      };
    }
    state.traces = Traces.restore(snapshot.traces);
    state.neuromodulators = Neuromodulators.restore(snapshot.neuromodulators!);
    state.clusters = Clusters.restore(snapshot.clusters);
    // Unscoped keys of older checkpoints stay as they are (the state hash holds); see matchRequest.
    // The hash is copied: decoded bytes are a view that would keep the whole checkpoint body alive.
    for (const key of snapshot.requestKeys) state.requestKeys.add({ ...key, bodySha256: new Uint8Array(key.bodySha256) });
    state.outbox = StoreOutbox.restore(snapshot);
    state.retention = RetentionPolicies.restore(snapshot.defaultRetention, snapshot.retentionPolicies);
    state.learningScope = snapshot.learningScope;
    state.maxScorerAdaptations = snapshot.maxScorerAdaptations;
    return state;
  }

  static decode(bytes: Uint8Array): LearningState {
    return LearningState.restore(stateV1.LearningState.decode(bytes));
  }

  /** An independent copy (through the canonical encoding). */
  clone(): LearningState {
    return LearningState.decode(this.encode());
  }

  private applyEntry(entry: walV1.WalEntry, built: BuiltEffects): void {
    const operation = entry.operation;
    if (!operation) return;
    switch (operation.$case) {
      case "systemStart":
        return this.start(operation.value);
      case "stateReset":
        return this.reset(operation.value);
      case "remember":
        // The same change as the records it stands for, one after another, at this record's time.
        if (operation.value.memory) built.primeBodyHash(operation.value.memory, operation.value.requestBodySha256);
        for (const step of rememberSteps(operation.value)) this.applyEntry({ time: entry.time, operation: step }, built);
        return;
      case "bufferAdd": {
        this.buffer.apply(operation, built);
        const memory = operation.value.memory!;
        if (memory.requestId) {
          this.requestKeys.add({ namespace: memory.namespace, requestId: memory.requestId, memoryId: memory.id, bodySha256: built.bodyHashOf(memory) });
        }
        return;
      }
      case "bufferRemove": {
        const id = operation.value.memoryId;
        const namespace = (this.buffer.get(id) ?? this.buffer.getPromoting(id))?.memory.namespace ?? "";
        this.buffer.apply(operation);
        this.outbox.recordEviction({ memoryId: id, namespace, reason: operation.value.reason, time: entry.time, mergedIntoId: "" });
        return;
      }
      case "bufferPromote":
      case "bufferEvidence":
      case "bufferReembed":
        return this.buffer.apply(operation);
      case "embeddingSwitch":
        return this.switchEmbedding(operation.value);
      case "memoryDelete":
        return this.forget(operation.value, entry.time);
      case "storeSynced":
        for (const id of operation.value.storedIds) this.buffer.confirmStored(id);
        this.outbox.synced(operation.value);
        return;
      case "conceptForm":
        this.outbox.addConcept(operation.value);
        return;
      case "retentionPolicySet":
        return this.retention.apply(operation.value);
      case "memoryMerge":
        return this.merge(operation.value, entry.time);
      case "gateWeightUpdate":
        return this.requireNetworks().gate.apply(operation.value);
      case "scorerWeightUpdate":
        return this.applyScorerUpdate(operation.value);
      case "dopamineExpectation":
      case "serotoninMood":
      case "norepinephrineArousal":
      case "acetylcholineEncoding":
        this.neuromodulators.apply(operation);
        return;
      case "traceCreate":
      case "traceUpdate":
      case "traceDecay":
        this.traces.apply(operation);
        return;
      case "clusterUpdate":
        return this.clusters.apply(operation.value, built);
      case "checkpointComplete":
      case "systemShutdown":
        return;
    }
  }

  /**
   * Forgotten memories leave the buffer at once; any that may be in a store
   * (promoted, or never in the buffer) wait in the outbox for their store
   * delete. Expired and merged ones are remembered as evictions; forgotten
   * ones are simply gone.
   */
  private forget(record: walV1.MemoryDelete, time: Date | undefined): void {
    for (const id of record.memoryIds) {
      const buffered = this.buffer.get(id) !== undefined;
      this.buffer.apply({ $case: "bufferRemove", value: { memoryId: id, reason: record.reason } });
      if (!buffered) this.outbox.addDelete(id, record.namespace);
      if (record.reason !== walV1.RemovalReason.REMOVAL_REASON_FORGOTTEN && record.reason !== walV1.RemovalReason.REMOVAL_REASON_UNSPECIFIED) {
        this.outbox.recordEviction({ memoryId: id, namespace: record.namespace, reason: record.reason, time, mergedIntoId: "" });
      } else {
        this.outbox.evictions.delete(id);
      }
    }
  }

  /**
   * A near-duplicate joins its keeper: the keeper takes the combined values;
   * a merged memory (deep consolidation) leaves the buffer and answers
   * GetMemory as merged into the keeper; a merged Remember's request id
   * answers the keeper on a retry.
   */
  private merge(record: walV1.MemoryMerge, time: Date | undefined): void {
    this.buffer.apply({ $case: "memoryMerge", value: record });
    if (record.mergedId) {
      this.outbox.recordEviction({ memoryId: record.mergedId, namespace: record.namespace, reason: walV1.RemovalReason.REMOVAL_REASON_DUPLICATE, time, mergedIntoId: record.intoId });
    }
    if (record.requestId) {
      this.requestKeys.add({ namespace: record.namespace, requestId: record.requestId, memoryId: record.intoId, bodySha256: new Uint8Array(record.requestBodySha256) });
    }
  }

  /** An update without a namespace trains the prior (older records, SHARED scope); with one, that namespace's adaptation. */
  private applyScorerUpdate(update: walV1.ScorerWeightUpdate): void {
    const networks = this.requireNetworks();
    if (update.namespace === "") return networks.scorer.apply(update);
    networks.adaptations.apply(update.namespace, update, networks.scorer, this.adaptationBound());
  }

  private adaptationBound(): number {
    return this.maxScorerAdaptations === 0 ? DEFAULT_MAX_SCORER_ADAPTATIONS : this.maxScorerAdaptations;
  }

  /**
   * The first start shapes the state from its seed; later starts may only
   * change the capacity, the retention default and the learning scope and
   * bound (a lower bound drops the least recently updated adaptations).
   * Switching to SHARED keeps the adaptations (unused) so switching back
   * restores each namespace's ranking.
   */
  private start(start: walV1.SystemStart): void {
    this.bufferCapacity = start.bufferCapacity;
    this.retention.defaultMode = start.defaultRetention;
    this.learningScope = start.learningScope;
    this.maxScorerAdaptations = start.maxScorerAdaptations;
    if (this.initialized) {
      this.networks!.adaptations.trim(this.adaptationBound());
      return;
    }
    this.seed = start.seed;
    this.embeddingDim = start.embeddingDim;
    this.prng = Prng.fromSeed(start.seed);
    this.networks = freshNetworks(this.prng, start.embeddingDim);
  }

  /** Fresh networks (continuing the PRNG), no traces, baseline modulators and clusters. */
  private reset(reset: walV1.StateReset): void {
    if (reset.namespace && reset.deleteMemories) {
      for (const item of this.buffer.inNamespace(reset.namespace)) {
        this.buffer.apply({ $case: "bufferRemove", value: { memoryId: item.memory.id, reason: walV1.RemovalReason.REMOVAL_REASON_FORGOTTEN } });
      }
    }
    if (this.initialized) this.networks = freshNetworks(this.prng, this.embeddingDim);
    this.traces = new Traces();
    this.neuromodulators = new Neuromodulators();
    this.clusters = new Clusters();
  }

  /**
   * A re-embed moved the data directory to another embedder. Traces are
   * dropped: their features (cosines) were measured in the old geometry, so a
   * Reinforce of an older recall answers RECALL_NOT_FOUND. Clusters are
   * emptied: ClusterUpdate records with centroids recomputed from the members'
   * new vectors follow. A new dimension redraws the gate's projection from the
   * PRNG; the same dimension keeps it (a random projection serves any
   * embedder of that size), so logging the switch twice changes nothing more.
   */
  private switchEmbedding(change: walV1.EmbeddingSwitch): void {
    const networks = this.requireNetworks();
    if (change.embeddingDim !== this.embeddingDim) {
      networks.gate = networks.gate.reproject(this.prng, change.embeddingDim);
      this.embeddingDim = change.embeddingDim;
    }
    this.traces = new Traces();
    this.clusters = new Clusters();
  }

  private requireNetworks(): Networks {
    if (!this.networks) throw new Error("a weight update arrived before the first SYSTEM_START initialised the networks");
    return this.networks;
  }
}

/** Xavier-initialised gate and scorer (drawn in that order from `prng`), no adaptations. */
function freshNetworks(prng: Prng, embeddingDim: number): Networks {
  return { gate: Gate.init(prng, embeddingDim), scorer: Scorer.init(prng), adaptations: new ScorerAdaptations() };
}

export function stateHash(encoded: Uint8Array): Buffer {
  return createHash("sha256").update(encoded).digest();
}
