/**
 * The pure arithmetic around a BERT-style sentence model, as sentence-transformers does it for
 * all-MiniLM-L6-v2: fit each text's word pieces into the model window, pad a batch to its longest
 * text (not to a fixed length: a 12-token query padded to 128 costs 7x the compute), and turn the
 * model's token vectors into one unit sentence vector by a mean over the real tokens.
 */

/** One text's word-piece ids with [CLS] … [SEP], and whether words past the window were dropped. */
export interface WindowedIds {
  ids: number[];
  truncated: boolean;
}

/**
 * Wraps content ids (no special tokens) in [CLS] … [SEP], keeping the first
 * `maxTokens - 2` of them: the same cut as the reference tokenizer's
 * truncation at max_length for a single sequence.
 */
export function fitToWindow(contentIds: readonly number[], maxTokens: number, clsId: number, sepId: number): WindowedIds {
  const room = maxTokens - 2;
  const truncated = contentIds.length > room;
  const kept = truncated ? contentIds.slice(0, room) : contentIds;
  return { ids: [clsId, ...kept, sepId], truncated };
}

/** Row-major [batch, sequence] int64 tensors, the shape the ONNX export takes. */
export interface PaddedBatch {
  batch: number;
  sequence: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
}

/** Pads every row to the longest row with `padId` (mask 0); token types are all 0 (single sentences). */
export function padBatch(rows: readonly (readonly number[])[], padId: number): PaddedBatch {
  const batch = rows.length;
  const sequence = Math.max(0, ...rows.map((row) => row.length));
  const inputIds = new BigInt64Array(batch * sequence).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(batch * sequence);
  rows.forEach((row, r) => {
    row.forEach((id, t) => {
      inputIds[r * sequence + t] = BigInt(id);
      attentionMask[r * sequence + t] = 1n;
    });
  });
  return { batch, sequence, inputIds, attentionMask, tokenTypeIds: new BigInt64Array(batch * sequence) };
}

/**
 * Mean of the token vectors where the mask is 1, then L2-normalised, one
 * vector per row. `hidden` is the model's last_hidden_state, [batch, sequence, dims].
 */
export function meanPoolNormalize(hidden: Float32Array, mask: BigInt64Array, batch: number, sequence: number, dims: number): Float32Array[] {
  if (hidden.length !== batch * sequence * dims) throw new RangeError(`hidden state has ${hidden.length} values, expected ${batch}x${sequence}x${dims}`);
  const out: Float32Array[] = [];
  for (let r = 0; r < batch; r++) {
    // Sum in float64: the reference sums in float32 over at most 256 tokens; float64 is closer to exact, not further.
    const sum = new Float64Array(dims);
    let count = 0;
    for (let t = 0; t < sequence; t++) {
      if (mask[r * sequence + t] === 0n) continue;
      count++;
      const base = (r * sequence + t) * dims;
      for (let d = 0; d < dims; d++) sum[d]! += hidden[base + d]!;
    }
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      sum[d]! /= Math.max(count, 1);
      norm += sum[d]! * sum[d]!;
    }
    norm = Math.sqrt(norm);
    const vector = new Float32Array(dims);
    if (norm > 0) for (let d = 0; d < dims; d++) vector[d] = sum[d]! / norm;
    out.push(vector);
  }
  return out;
}
