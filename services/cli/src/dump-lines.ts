import { adminV1, memoryV1 } from "@t4dm/proto";

/*
 * The dump format: one section per namespace, each one JSON object per line with a `type`:
 *   {"type":"header","format":"t4dm-export/1","namespace":…,"embedder":{…},"exportedAt":…}
 *   {"type":"retentionPolicy",…}  (the namespace's own retention policy, if it has one)
 *   {"type":"memory",…}  {"type":"fact",…}  {"type":"procedure",…}   (the proto JSON of
 *       ExportedMemory, t4dm.memory.v1.Fact, ExportedProcedure: embeddings as JSON numbers,
 *       float32 values written out in full, so they read back bit for bit)
 *   {"type":"learnedScorer","namespace":…,"adaptation":"<base64>"}   (with --learning-state: what
 *       the namespace's feedback taught its scorer, opaque)
 *   {"type":"end","items":N}   (the section's item count; a section without it was cut short)
 * Pure: no I/O.
 */

export const FORMAT = "t4dm-export/1";

export interface DumpHeader {
  namespace: string;
  embedder: adminV1.EmbedderIdentity;
  exportedAt: string;
}

export type DumpLine =
  | { type: "header"; header: DumpHeader }
  | { type: "item"; item: adminV1.ExportItem }
  | { type: "end"; items: number };

/** A line that cannot be imported, named by its number. */
export class DumpLineError extends Error {
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

const CODECS = {
  memory: adminV1.ExportedMemory,
  fact: memoryV1.Fact,
  procedure: adminV1.ExportedProcedure,
  retentionPolicy: adminV1.ExportedRetentionPolicy,
  learnedScorer: adminV1.ExportedScorer,
} as const;

type ItemType = keyof typeof CODECS;

export function headerLine(header: DumpHeader): string {
  return JSON.stringify({ type: "header", format: FORMAT, namespace: header.namespace, embedder: adminV1.EmbedderIdentity.toJSON(header.embedder), exportedAt: header.exportedAt });
}

export function itemLine(item: adminV1.ExportItem): string {
  const value = item.item!;
  const json = (CODECS[value.$case] as { toJSON(message: unknown): unknown }).toJSON(value.value) as object;
  return JSON.stringify({ type: value.$case, ...json });
}

export function endLine(items: number): string {
  return JSON.stringify({ type: "end", items });
}

/** Reads one line strictly: unknown types, unknown fields and wrongly typed values are errors naming the line. */
export function parseLine(text: string, line: number): DumpLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DumpLineError(line, `is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new DumpLineError(line, "is not a JSON object");
  const { type, ...fields } = parsed as Record<string, unknown>;
  if (type === "header") return { type: "header", header: parseHeader(fields, line) };
  if (type === "end") {
    if (typeof fields.items !== "number" || !Number.isInteger(fields.items) || fields.items < 0) throw new DumpLineError(line, "an end line needs a non-negative integer `items`");
    return { type: "end", items: fields.items };
  }
  if (typeof type !== "string" || !(type in CODECS)) throw new DumpLineError(line, `has type ${JSON.stringify(type)}; expected header, retentionPolicy, memory, fact, procedure, learnedScorer or end`);
  const itemType = type as ItemType;
  const codec = CODECS[itemType] as { fromJSON(json: unknown): object; fromPartial(json: object): object };
  const known = new Set(Object.keys(codec.fromPartial({})));
  const unknown = Object.keys(fields).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new DumpLineError(line, `has unknown ${itemType} field(s) ${unknown.join(", ")}`);
  let value: object;
  try {
    value = codec.fromJSON(fields);
  } catch (error) {
    throw new DumpLineError(line, `is not a valid ${itemType} (${(error as Error).message})`);
  }
  checkTypes(value, fields, itemType, line);
  return { type: "item", item: { item: { $case: itemType, value } } as adminV1.ExportItem };
}

/**
 * ts-proto's fromJSON is lenient (a string where a number belongs becomes a
 * number, a bad date becomes an invalid one): catch what it would bend.
 */
function checkTypes(value: object, fields: Record<string, unknown>, type: ItemType, line: number): void {
  for (const [key, decoded] of Object.entries(value)) {
    const given = fields[key];
    if (given === undefined) continue;
    if (decoded instanceof Date && Number.isNaN(decoded.getTime())) throw new DumpLineError(line, `${type}.${key} is not a time`);
    if (typeof decoded === "number" && (typeof given !== "number" && typeof given !== "string" || Number.isNaN(decoded))) throw new DumpLineError(line, `${type}.${key} is not a number`);
    if (typeof decoded === "string" && typeof given !== "string") throw new DumpLineError(line, `${type}.${key} is not a string`);
    if (Array.isArray(decoded) && !Array.isArray(given)) throw new DumpLineError(line, `${type}.${key} is not a list`);
    if (Array.isArray(decoded) && decoded.some((x) => typeof x === "number" && !Number.isFinite(x))) throw new DumpLineError(line, `${type}.${key} holds a value that is not a finite number`);
  }
}

function parseHeader(fields: Record<string, unknown>, line: number): DumpHeader {
  if (fields.format !== FORMAT) throw new DumpLineError(line, `is a header of format ${JSON.stringify(fields.format)}; this tool reads ${FORMAT}`);
  if (typeof fields.namespace !== "string" || !fields.namespace) throw new DumpLineError(line, "a header needs its namespace");
  if (typeof fields.embedder !== "object" || fields.embedder === null) throw new DumpLineError(line, "a header needs its embedder");
  return { namespace: fields.namespace, embedder: adminV1.EmbedderIdentity.fromJSON(fields.embedder), exportedAt: String(fields.exportedAt ?? "") };
}
