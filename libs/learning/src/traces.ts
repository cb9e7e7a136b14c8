import { stateV1, walV1 } from "@t4dm/proto";

/** A WAL operation (the `WalEntry.operation` oneof), never undefined. */
type Operation = NonNullable<walV1.WalEntry["operation"]>;

/** λ: how much of a trace survives one recall tick in its namespace. */
export const TRACE_DECAY = 0.9;
/** Traces at or below this carry too little credit to keep. */
export const TRACE_FLOOR = 0.01;
export const MAX_TRACED_RECALLS = 512;
/**
 * Items kept per recall, best ranked first. Rank 256 starts at 1/65 ≈ 0.015,
 * just above the floor, so nothing credit-worthy is cut.
 */
export const MAX_TRACE_ITEMS = 256;

/** A recalled memory to trace, in rank order; `features` are the scorer's inputs for it. */
export interface TraceInput {
  memoryId: string;
  features: ArrayLike<number>;
  /** 1-based position in the results, and ranks among every candidate by the fused base and by the full learned score (shadow-guard.ts); 0 = unknown. */
  servedRank?: number;
  baseRank?: number;
  learnedRank?: number;
}

export interface TraceItemState {
  readonly memoryId: string;
  readonly strength: number;
  readonly features: Float32Array;
  /** 0 in traces recorded before the shadow guard. */
  readonly servedRank: number;
  readonly baseRank: number;
  readonly learnedRank: number;
}

export interface TraceState {
  readonly recallId: string;
  readonly namespace: string;
  readonly context: string;
  readonly items: readonly TraceItemState[];
}

interface Entry {
  namespace: string;
  context: string;
  items: { memoryId: string; strength: number; features: Float32Array; servedRank: number; baseRank: number; learnedRank: number }[];
}

/**
 * Eligibility traces, one per recall id, oldest first. A reward for a recall
 * credits its items by strength; each later recall in the namespace decays
 * them, so credit goes to what was recalled recently.
 */
export class Traces {
  // Insertion order is creation order: the first key is the oldest recall.
  private readonly recalls = new Map<string, Entry>();

  /** The TraceCreate a recall returning `items` (best first) would log. */
  planCreate(recallId: string, namespace: string, context: string, items: readonly TraceInput[]): Operation {
    const seen = new Set<string>();
    const traced: walV1.TraceItem[] = [];
    for (const [rank, item] of items.entries()) {
      if (traced.length >= MAX_TRACE_ITEMS) break;
      // One trace per memory: TraceUpdate addresses items by memory id.
      if (seen.has(item.memoryId)) continue;
      seen.add(item.memoryId);
      traced.push({
        memoryId: item.memoryId,
        strength: Math.fround(1 / (1 + rank * 0.25)),
        features: Array.from(Float32Array.from(item.features)),
        servedRank: item.servedRank ?? 0,
        baseRank: item.baseRank ?? 0,
        learnedRank: item.learnedRank ?? 0,
      });
    }
    return { $case: "traceCreate", value: { recallId, namespace, context, items: traced } };
  }

  /**
   * The TraceDecay one recall tick in `namespace` would log; a Recall logs
   * it before its own TraceCreate. An empty namespace decays every trace.
   */
  planDecay(namespace: string): Operation {
    return {
      $case: "traceDecay",
      value: { factor: Math.fround(TRACE_DECAY), floor: Math.fround(TRACE_FLOOR), namespace },
    };
  }

  /** TraceUpdates that zero every item of a recall once its reward is credited; none if unknown. */
  planConsume(recallId: string): Operation[] {
    const entry = this.recalls.get(recallId);
    if (entry === undefined) return [];
    return entry.items.map((item) => ({
      $case: "traceUpdate",
      value: { recallId, memoryId: item.memoryId, strength: 0 },
    }));
  }

  get(recallId: string): TraceState | undefined {
    const entry = this.recalls.get(recallId);
    return entry === undefined ? undefined : view(recallId, entry);
  }

  /** Every live trace of a namespace, newest first. */
  live(namespace: string): TraceState[] {
    const out: TraceState[] = [];
    for (const [recallId, entry] of this.recalls) {
      if (entry.namespace === namespace) out.push(view(recallId, entry));
    }
    return out.reverse();
  }

  get size(): number {
    return this.recalls.size;
  }

  /** Applies a trace record; returns false (and changes nothing) for any other kind. */
  apply(operation: walV1.WalEntry["operation"]): boolean {
    switch (operation?.$case) {
      case "traceCreate":
        this.create(operation.value);
        return true;
      case "traceUpdate":
        this.update(operation.value);
        return true;
      case "traceDecay":
        this.decay(operation.value);
        return true;
      default:
        return false;
    }
  }

  /** Recalls oldest first, items in rank order. */
  snapshot(): stateV1.Trace[] {
    return [...this.recalls].map(([recallId, entry]) => ({
      recallId,
      namespace: entry.namespace,
      context: entry.context,
      items: entry.items.map((item) => ({
        memoryId: item.memoryId,
        strength: item.strength,
        features: Array.from(item.features),
        servedRank: item.servedRank,
        baseRank: item.baseRank,
        learnedRank: item.learnedRank,
      })),
    }));
  }

  /** Rebuilds from a snapshot by replaying it as creates, so the same bounds hold. */
  static restore(part: readonly stateV1.Trace[]): Traces {
    const restored = new Traces();
    for (const trace of part) restored.create(trace);
    return restored;
  }

  private create(record: walV1.TraceCreate | stateV1.Trace): void {
    // A re-used recall id replaces the old trace and counts as the newest.
    this.recalls.delete(record.recallId);
    const seen = new Set<string>();
    const items: Entry["items"] = [];
    const floor = Math.fround(TRACE_FLOOR);
    for (const item of record.items) {
      if (items.length >= MAX_TRACE_ITEMS) break;
      if (seen.has(item.memoryId)) continue;
      seen.add(item.memoryId);
      const strength = Math.fround(item.strength);
      if (!(strength > floor)) continue;
      items.push({ memoryId: item.memoryId, strength, features: Float32Array.from(item.features), servedRank: item.servedRank, baseRank: item.baseRank, learnedRank: item.learnedRank });
    }
    if (items.length === 0) return;
    this.recalls.set(record.recallId, { namespace: record.namespace, context: record.context, items });
    if (this.recalls.size > MAX_TRACED_RECALLS) {
      const oldest = this.recalls.keys().next();
      if (!oldest.done) this.recalls.delete(oldest.value);
    }
  }

  private update(record: walV1.TraceUpdate): void {
    const entry = this.recalls.get(record.recallId);
    if (entry === undefined) return;
    const index = entry.items.findIndex((item) => item.memoryId === record.memoryId);
    const item = entry.items[index];
    if (item === undefined) return;
    const strength = Math.fround(record.strength);
    if (strength > Math.fround(TRACE_FLOOR)) {
      item.strength = strength;
      return;
    }
    entry.items.splice(index, 1);
    if (entry.items.length === 0) this.recalls.delete(record.recallId);
  }

  private decay(record: walV1.TraceDecay): void {
    for (const [recallId, entry] of [...this.recalls]) {
      if (record.namespace !== "" && entry.namespace !== record.namespace) continue;
      for (const item of entry.items) item.strength = Math.fround(item.strength * record.factor);
      // `!(x > floor)` also drops NaN strengths from a corrupt factor.
      entry.items = entry.items.filter((item) => item.strength > record.floor);
      if (entry.items.length === 0) this.recalls.delete(recallId);
    }
  }
}

/** A copy, so callers cannot change the state behind apply()'s back. */
function view(recallId: string, entry: Entry): TraceState {
  return {
    recallId,
    namespace: entry.namespace,
    context: entry.context,
    items: entry.items.map((item) => ({
      memoryId: item.memoryId,
      strength: item.strength,
      features: item.features.slice(),
      servedRank: item.servedRank,
      baseRank: item.baseRank,
      learnedRank: item.learnedRank,
    })),
  };
}
