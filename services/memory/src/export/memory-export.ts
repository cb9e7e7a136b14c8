import type { BufferedItem, LearningState } from "@t4dm/learning";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { InvalidArgumentError, type FieldViolation } from "@t4dm/rpc";
import type { Stores } from "../storage/store-sync.js";
import { checkNamespaceValue } from "../core/validation.js";
import { decodeExportCursor, encodeExportCursor, EXPORT_PHASES, type ExportCursor, type ExportPhase } from "./export-cursor.js";
import { publicPolicy } from "../core/retention.js";
import { factToExport, heldToExport, policyToExport, procedureToExport, storedToExport } from "./export-items.js";
import { learnedScorerOf } from "./learned-scorer.js";

const DEFAULT_PAGE = 500;
const MAX_PAGE = 1000;

interface Row {
  time: number;
  id: string;
  /** Undefined for a memory whose delete is pending: it is gone, but still counts as read. */
  item?: adminV1.ExportItem;
}

/**
 * ExportMemories: one page at a time through the namespace's retention policy,
 * its memories held in the learning state (buffered, promoting), the episodic store, the graph's
 * memory nodes, then facts (all of history, by record time) and procedures.
 * Each source pages by its own (time, id) key, so a page costs at most one
 * page of memory whatever the namespace holds. Held memories are read first:
 * one promoted meanwhile is then found again in a store (a duplicate import
 * skips), never missed.
 */
export class MemoryExport {
  constructor(
    private readonly state: () => LearningState,
    private readonly stores: Stores,
    private readonly embedder: () => adminV1.EmbedderIdentity,
    /** A page's items stay below this many encoded bytes (half the gRPC message limit). */
    private readonly maxPageBytes: number,
  ) {}

  async page(request: adminV1.ExportMemoriesRequest): Promise<adminV1.ExportMemoriesResponse> {
    const violations: FieldViolation[] = [];
    checkNamespaceValue(request.namespace, violations);
    if (request.pageSize < 0) violations.push({ field: "page_size", description: "must not be negative" });
    if (request.pageSize > MAX_PAGE) violations.push({ field: "page_size", description: `must be at most ${MAX_PAGE}` });
    const start = request.pageToken ? decodeExportCursor(request.pageToken, request.namespace, violations) : { phase: EXPORT_PHASES[0] };
    if (violations.length > 0 || !start) throw new InvalidArgumentError(violations);

    const limit = request.pageSize || DEFAULT_PAGE;
    const items: adminV1.ExportItem[] = [];
    let bytes = 0;
    let cursor: ExportCursor | undefined = start;
    read: while (cursor && items.length < limit) {
      const want = limit - items.length;
      const rows = await this.read(request.namespace, cursor, want, request.includeLearningState);
      for (const row of rows) {
        const size = row.item ? adminV1.ExportItem.encode(row.item).finish().length : 0;
        // Large contents: the page ends before the answer outgrows the message limit (at least one item per page).
        if (items.length > 0 && bytes + size > this.maxPageBytes) break read;
        if (row.item) items.push(row.item);
        bytes += size;
        cursor = { phase: cursor.phase, after: { time: row.time, id: row.id } };
      }
      // A short read ends the source; the next page starts at the next one.
      if (rows.length < want) cursor = nextPhase(cursor.phase);
    }
    return { items, nextPageToken: cursor ? encodeExportCursor(request.namespace, cursor) : "", embedder: this.embedder() };
  }

  /** Every namespace with something to export: held in the learning state, or in either store. Sorted. */
  async namespaces(): Promise<string[]> {
    const state = this.state();
    const found = new Set<string>();
    for (const item of state.buffer.all()) found.add(item.memory.namespace);
    for (const item of state.buffer.promoting()) found.add(item.memory.namespace);
    const [episodic, graph] = await Promise.all([this.stores.episodic.namespaces(), this.stores.graph.namespaces()]);
    for (const namespace of [...episodic, ...graph]) found.add(namespace);
    return [...found].sort();
  }

  private async read(namespace: string, cursor: ExportCursor, limit: number, includeLearningState: boolean): Promise<Row[]> {
    const after = cursor.after;
    const pendingDelete = (id: string) => this.state().outbox.pendingDeletes.has(id);
    switch (cursor.phase) {
      case "policy": {
        // Only a policy of its own: a namespace on the service default follows the target's default.
        const policy = this.state().retention.get(namespace);
        return policy && !after ? [{ time: 0, id: "policy", item: policyToExport(namespace, publicPolicy(policy)) }] : [];
      }
      case "held":
        return this.held(namespace, after, limit);
      case "episodic": {
        const stored = await this.stores.episodic.list(namespace, {}, { after: after && { createTime: new Date(after.time), id: after.id }, limit });
        return stored.map((m) => ({ time: m.createTime.getTime(), id: m.id, item: pendingDelete(m.id) ? undefined : storedToExport(m) }));
      }
      case "nodes": {
        const nodes = await this.stores.graph.listMemoryNodes(namespace, { after: after && { createTime: new Date(after.time), id: after.id }, limit });
        return nodes.map((n) => ({ time: n.createTime.getTime(), id: n.id, item: pendingDelete(n.id) ? undefined : storedToExport(n) }));
      }
      case "facts": {
        const facts = await this.stores.graph.queryFacts({
          namespace,
          asOf: new Date(0),
          includeHistory: true,
          after: after && { recordTime: new Date(after.time), id: after.id },
          limit,
        });
        return facts.map((f) => ({ time: f.recordTime.getTime(), id: f.id, item: factToExport(f) }));
      }
      case "procedures": {
        // Procedures are few per namespace (the store lists them whole); paged here by id alone.
        const all = await this.stores.graph.listProcedures(namespace);
        return all
          .filter((p) => !after || p.id > after.id)
          .sort((a, b) => compare(a.id, b.id))
          .slice(0, limit)
          .map((p) => ({ time: 0, id: p.id, item: procedureToExport(p) }));
      }
      case "learning": {
        const scorer = includeLearningState && !after ? learnedScorerOf(this.state(), namespace) : undefined;
        return scorer ? [{ time: 0, id: "scorer", item: { item: { $case: "learnedScorer", value: scorer } } }] : [];
      }
    }
  }

  private held(namespace: string, after: ExportCursor["after"], limit: number): Row[] {
    const state = this.state();
    const rows: Row[] = [];
    const add = (item: BufferedItem, status: memoryV1.MemoryStatus) => {
      if (item.memory.namespace !== namespace) return;
      const time = item.memory.createTime?.getTime() ?? 0;
      if (after && !(time > after.time || (time === after.time && item.memory.id > after.id))) return;
      rows.push({ time, id: item.memory.id, item: heldToExport(item, status) });
    };
    for (const item of state.buffer.all()) add(item, memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED);
    for (const item of state.buffer.promoting()) add(item, memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION);
    return rows.sort((a, b) => a.time - b.time || compare(a.id, b.id)).slice(0, limit);
  }
}

function nextPhase(phase: ExportPhase): ExportCursor | undefined {
  const next = EXPORT_PHASES[EXPORT_PHASES.indexOf(phase) + 1];
  return next ? { phase: next } : undefined;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
