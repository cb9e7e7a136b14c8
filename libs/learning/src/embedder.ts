/**
 * The built-in embedder: feature hashing of words, word pairs and character
 * trigrams. No model, no download, the same vector on every machine — a
 * baseline that works offline, not a substitute for a semantic model.
 */

const UNIGRAM_WEIGHT = 1.0;
const BIGRAM_WEIGHT = 0.7;
const TRIGRAM_WEIGHT = 0.3;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Letters, digits and combining marks in any script make up a word.
const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/** A unit-length float32 embedding of `text`; all zeros when it has no words. */
export function embedText(text: string, dim: number): Float32Array {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim must be a positive integer, got ${dim}`);
  // NFKC folds compatibility forms (ligatures, full-width letters) so they hash alike.
  const words = text.normalize("NFKC").toLowerCase().match(WORD) ?? [];
  const counts = new Map<string, { weight: number; tf: number }>();
  const add = (feature: string, weight: number): void => {
    const seen = counts.get(feature);
    if (seen === undefined) counts.set(feature, { weight, tf: 1 });
    else seen.tf++;
  };
  for (const [i, word] of words.entries()) {
    // Prefixes keep the three kinds apart: the word "ab" is not the trigram "ab".
    add(`w:${word}`, UNIGRAM_WEIGHT);
    const next = words[i + 1];
    if (next !== undefined) add(`b:${word} ${next}`, BIGRAM_WEIGHT);
    const chars = Array.from(`<${word}>`);
    for (let j = 0; j + 3 <= chars.length; j++) add(`c:${chars.slice(j, j + 3).join("")}`, TRIGRAM_WEIGHT);
  }

  const sum = new Float64Array(dim);
  // Map order is first-occurrence order, so the float sums are reproducible.
  for (const [feature, { weight, tf }] of counts) {
    const hash = fnv1a(feature);
    // The sign comes from differently mixed bits, so features colliding in a
    // bucket tend to cancel rather than pile up.
    const sign = (mix(hash) & 1) === 0 ? 1 : -1;
    sum[hash % dim]! += sign * weight * (1 + Math.log(tf));
  }
  let squares = 0;
  for (const value of sum) squares += value * value;
  const out = new Float32Array(dim);
  if (squares === 0) return out;
  const length = Math.sqrt(squares);
  for (let i = 0; i < dim; i++) out[i] = sum[i]! / length;
  return out;
}

/** Why `values` cannot be used as an embedding of `dim` dimensions, or undefined when it can. */
export function validateEmbedding(values: ArrayLike<number>, dim: number): string | undefined {
  if (values.length !== dim) return `embedding has ${values.length} dimensions, expected ${dim}`;
  let nonZero = false;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (Number.isNaN(value)) return `embedding value at index ${i} is NaN`;
    if (!Number.isFinite(value)) return `embedding value at index ${i} is infinite`;
    // Stored as float32: what overflows or underflows there is what counts.
    const stored = Math.fround(value);
    if (!Number.isFinite(stored)) return `embedding value at index ${i} is too large for float32`;
    if (stored !== 0) nonZero = true;
  }
  if (!nonZero) return "embedding is all zeros";
  return undefined;
}

/** FNV-1a, 32-bit, over the UTF-8 bytes of `text`. */
function fnv1a(text: string): number {
  let hash = FNV_OFFSET;
  const byte = (b: number): void => {
    hash = Math.imul(hash ^ b, FNV_PRIME) >>> 0;
  };
  for (const char of text) {
    let code = char.codePointAt(0)!;
    // A lone surrogate encodes as U+FFFD, as TextEncoder would.
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
    if (code < 0x80) {
      byte(code);
    } else if (code < 0x800) {
      byte(0xc0 | (code >> 6));
      byte(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      byte(0xe0 | (code >> 12));
      byte(0x80 | ((code >> 6) & 0x3f));
      byte(0x80 | (code & 0x3f));
    } else {
      byte(0xf0 | (code >> 18));
      byte(0x80 | ((code >> 12) & 0x3f));
      byte(0x80 | ((code >> 6) & 0x3f));
      byte(0x80 | (code & 0x3f));
    }
  }
  return hash;
}

/** murmur3's 32-bit finalizer: spreads every input bit over the output. */
function mix(hash: number): number {
  let h = hash;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
