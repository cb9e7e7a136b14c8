import { adminV1, memoryV1, type walV1 } from "@t4dm/proto";
import { FailedPreconditionError } from "@t4dm/rpc";
import { StoreInputError } from "@t4dm/storage";
import type { CommitPipeline } from "../pipeline/commit-pipeline.js";
import type { Stores } from "../storage/store-sync.js";
import { validatePolicy } from "../core/retention.js";
import type { Limits } from "../core/validation.js";
import { factFromExport, importOperations, procedureFromExport } from "./export-items.js";
import { checkEmbedder, validateImport } from "./import-validation.js";
import { planLearnedScorer } from "./learned-scorer.js";

const GRAPH_KINDS = new Set<number>([memoryV1.MemoryType.MEMORY_TYPE_SEMANTIC, memoryV1.MemoryType.MEMORY_TYPE_PROCEDURAL]);

/**
 * ImportMemories: one batch of exported items into one namespace, idempotent
 * by id. The whole batch is checked before anything is written. Memories
 * enter through the WAL like any acknowledged write (existing records, see
 * importOperations), so they are durable before the answer and replay
 * exactly; a memory the namespace already holds is skipped. Facts and
 * procedures are written to the graph store exactly as exported (idempotent
 * upserts by id), after the memories.
 */
export class MemoryImport {
  constructor(
    private readonly pipeline: CommitPipeline,
    private readonly stores: Stores,
    private readonly limits: Limits,
    private readonly embedder: () => adminV1.EmbedderIdentity,
    private readonly clock: () => Date,
  ) {}

  async importBatch(request: adminV1.ImportMemoriesRequest): Promise<adminV1.ImportMemoriesResponse> {
    validateImport(request, { ...this.limits, embeddingDim: this.pipeline.durable.embeddingDim });
    checkEmbedder(request, this.embedder());
    const namespace = request.namespace;
    const memories: adminV1.ExportedMemory[] = [];
    const facts: memoryV1.Fact[] = [];
    const procedures: adminV1.ExportedProcedure[] = [];
    const policies: adminV1.ExportedRetentionPolicy[] = [];
    const scorers: { value: adminV1.ExportedScorer; field: string }[] = [];
    request.items.forEach(({ item }, i) => {
      if (item?.$case === "learnedScorer") scorers.push({ value: item.value, field: `items[${i}].learned_scorer` });
    });
    for (const { item } of request.items) {
      if (item?.$case === "memory") memories.push(item.value);
      else if (item?.$case === "fact") facts.push(item.value);
      else if (item?.$case === "procedure") procedures.push(item.value);
      else if (item?.$case === "retentionPolicy") policies.push(item.value);
    }
    await this.checkProcedureNames(namespace, procedures);

    const stored = await this.storedIds(namespace, memories);
    // From here to submit in one tick: planned against the projected state, like every write.
    const projected = this.pipeline.projected;
    let room = Math.max(0, projected.bufferCapacity - projected.buffer.size);
    const operations: NonNullable<walV1.WalEntry["operation"]>[] = [];
    let skipped = 0;
    // The policy goes first, through the same record SetRetentionPolicy writes; the one in force already is skipped.
    for (const exported of policies) {
      const record = validatePolicy({ namespace, policy: exported.policy });
      const current = projected.retention.get(namespace);
      if (current && current.mode === record.mode && current.maxMemories === record.maxMemories && current.maxAgeSeconds === record.maxAgeSeconds) skipped++;
      else operations.push({ $case: "retentionPolicySet", value: record });
    }
    // An export may list a memory twice (promoted while it ran): the first one counts.
    const planned = new Set<string>();
    for (const memory of memories) {
      const held = projected.buffer.get(memory.id) ?? projected.buffer.getPromoting(memory.id);
      const endedElsewhere = (projected.outbox.evictions.get(memory.id)?.namespace ?? namespace) !== namespace;
      if ((held && held.memory.namespace !== namespace) || endedElsewhere) {
        // The buffer and the eviction record key memories by id alone: an id another namespace uses cannot be imported. Not named, never revealed.
        throw new FailedPreconditionError(`memory id ${memory.id} is in use; nothing was imported from this batch`, "MEMORY_ID_IN_USE", { metadata: { id: memory.id } });
      }
      if (projected.outbox.pendingDeletes.has(memory.id)) {
        throw new FailedPreconditionError(`memory ${memory.id} is being deleted; retry the import shortly`, "MEMORY_BEING_DELETED", { metadata: { id: memory.id } });
      }
      // Ended here (evicted, merged) and still remembered as such: GetMemory would keep answering the ending, so it stays ended.
      const ended = projected.outbox.evictions.get(memory.id)?.namespace === namespace;
      if (held || ended || stored.has(memory.id) || planned.has(memory.id)) {
        skipped++;
        continue;
      }
      // A buffered memory stays buffered while there is room; it is never a reason to push out what the target holds.
      const keepBuffered = memory.status === memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED && room > 0;
      if (keepBuffered) room--;
      planned.add(memory.id);
      operations.push(...importOperations(memory, keepBuffered));
    }
    // The learned scorer last, after the memories it ranks; the adaptation in force already is skipped.
    for (const { value, field } of scorers) {
      const operation = planLearnedScorer(projected, value, field);
      if (operation) operations.push(operation);
      else skipped++;
    }
    const lsn = operations.length > 0 ? await this.pipeline.submit(operations, this.clock()) : 0;

    try {
      for (const fact of facts) await this.stores.graph.restoreFact(factFromExport(fact));
      for (const procedure of procedures) await this.stores.graph.restoreProcedure(procedureFromExport(procedure));
    } catch (error) {
      if (error instanceof StoreInputError) throw new FailedPreconditionError(`${error.message}; the batch's memories were imported`, "IMPORT_CONFLICT", { cause: error });
      throw error;
    }
    return { imported: memories.length + policies.length + scorers.length - skipped + facts.length + procedures.length, skipped, lsn };
  }

  /** Ids of the batch's memories the namespace's long-term stores already hold. */
  private async storedIds(namespace: string, memories: readonly adminV1.ExportedMemory[]): Promise<Set<string>> {
    const episodic = memories.filter((m) => !GRAPH_KINDS.has(m.kind)).map((m) => m.id);
    const found = new Set((await this.stores.episodic.getMany(namespace, episodic)).map((m) => m.id));
    for (const memory of memories) {
      if (GRAPH_KINDS.has(memory.kind) && (await this.stores.graph.getMemoryNode(namespace, memory.id))) found.add(memory.id);
    }
    return found;
  }

  /** Refused before anything is written: a name another procedure id holds. */
  private async checkProcedureNames(namespace: string, procedures: readonly adminV1.ExportedProcedure[]): Promise<void> {
    if (procedures.length === 0) return;
    const byName = new Map((await this.stores.graph.listProcedures(namespace)).map((p) => [p.name, p.id]));
    for (const procedure of procedures) {
      const holder = byName.get(procedure.name);
      if (holder !== undefined && holder !== procedure.id) {
        throw new FailedPreconditionError(`procedure name ${JSON.stringify(procedure.name)} is held by another procedure; nothing was imported from this batch`, "PROCEDURE_NAME_IN_USE", {
          metadata: { name: procedure.name },
        });
      }
    }
  }
}
