// @ts-check
/**
 * The one place bench/retrieval.mjs builds a Recall: which retrieval mode, and read_only so the
 * bench's own recalls leave no traces or evidence behind. Hybrid retrieval adds `mode`
 * (RecallMode) and `read_only` to RecallRequest; until this build's generated code has them,
 * only the service's default mode runs and the others are reported as not available.
 * Once they exist, build the object with the typed fields instead of the cast below.
 */
import { memoryV1 } from "@t4dm/proto";

const blank = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (memoryV1.RecallRequest.fromPartial({})));
/** Does this build's RecallRequest carry a field? ts-proto gives every known field a default. */
const hasField = (/** @type {string} */ name) => name in blank;

export const HAS_MODE = hasField("mode");
export const HAS_READ_ONLY = hasField("readOnly");

/** RecallMode values (proto/t4dm/memory/v1, hybrid retrieval); 0 = unspecified = hybrid. */
export const KEYWORD_MODE = 3;
export const MODES = /** @type {const} */ ([
  { name: "hybrid (default)", value: 0 },
  { name: "SEMANTIC", value: 2 },
  { name: "KEYWORD", value: KEYWORD_MODE },
]);

/** @param {number} mode */
export function modeAvailable(mode) {
  return mode === 0 || HAS_MODE;
}

/**
 * @param {{ namespace: string, query: string, topK: number, mode: number }} request
 */
export function recallRequest({ namespace, query, topK, mode }) {
  /** @type {Record<string, unknown>} */
  const fields = { namespace, query, topK };
  if (mode !== 0) fields.mode = mode;
  if (HAS_READ_ONLY) fields.readOnly = true;
  return memoryV1.RecallRequest.fromPartial(/** @type {any} */ (fields));
}
