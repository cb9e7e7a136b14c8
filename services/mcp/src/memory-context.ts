/**
 * memory_context's text block: the recalled memories, best first, assembled into one
 * prompt-ready text within a token budget. Pure, so the budget rule is a unit property.
 *
 * Tokens are estimated as ceil(characters / 4), the usual rule of thumb for English with
 * BPE tokenizers: the MCP server does not know the agent's model, so the budget is a close
 * estimate, never an exact count.
 */

export interface ContextCandidate {
  id: string;
  content: string;
  score: number;
}

export interface AssembledContext {
  text: string;
  /** The ids in the text, in its order. */
  includedIds: string[];
  /** Recalled memories left out because they would not fit. */
  omittedCount: number;
  estimatedTokens: number;
}

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The entry for one memory: its id first, so the agent can name it in reinforce. */
export function contextEntry(candidate: ContextCandidate): string {
  return `[${candidate.id}] ${candidate.content}`;
}

/**
 * `header` opens the block and counts against the budget too. Takes the candidates in rank
 * order; one that would overflow the budget is left out and the next tried, so one long memory
 * never crowds out every shorter one below it. Empty text when no memory fits.
 */
export function assembleContext(header: string, candidates: readonly ContextCandidate[], tokenBudget: number): AssembledContext {
  const included: ContextCandidate[] = [];
  let text = header;
  if (estimateTokens(text) > tokenBudget) return { text: "", includedIds: [], omittedCount: candidates.length, estimatedTokens: 0 };
  for (const candidate of candidates) {
    const next = `${text}\n\n${contextEntry(candidate)}`;
    if (estimateTokens(next) > tokenBudget) continue;
    text = next;
    included.push(candidate);
  }
  if (included.length === 0) text = "";
  return {
    text,
    includedIds: included.map((c) => c.id),
    omittedCount: candidates.length - included.length,
    estimatedTokens: estimateTokens(text),
  };
}
