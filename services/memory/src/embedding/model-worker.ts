/**
 * Worker thread entry: one copy of the sentence model (tokenizer + ONNX session) that embeds
 * batches off the event loop. Protocol (see model-worker-client.ts):
 *   → workerData { modelPath, tokenizerPath, maxTokens }
 *   ← { type: "ready", dimensions } | { type: "failed", file, problem }
 *   → { id, texts }   ← { id, vectors, truncated } | { id, error }
 */
import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { Tokenizer } from "@huggingface/tokenizers";
import ort from "onnxruntime-node";
import { fitToWindow, meanPoolNormalize, padBatch } from "./sentence-encoding.js";

export interface ModelWorkerData {
  modelPath: string;
  tokenizerPath: string;
  maxTokens: number;
}
export type WorkerReply =
  | { type: "ready"; dimensions: number }
  | { type: "failed"; file: string; problem: string }
  | { type: "embedded"; id: number; vectors: Float32Array[]; truncated: boolean[] }
  | { type: "error"; id: number; message: string };
export interface WorkerRequest {
  id: number;
  texts: string[];
}

const { modelPath, tokenizerPath, maxTokens } = workerData as ModelWorkerData;
const port = parentPort!;

interface Model {
  tokenizer: Tokenizer;
  session: ort.InferenceSession;
  /** The ids the tokenizer wraps a text in ([CLS] … [SEP] for BERT) and pads with. */
  open: number;
  close: number;
  pad: number;
  dimensions: number;
}

async function load(): Promise<Model | undefined> {
  let tokenizer: Tokenizer;
  let open: number;
  let close: number;
  try {
    tokenizer = new Tokenizer(JSON.parse(readFileSync(tokenizerPath, "utf8")), {});
    // The empty text encodes to exactly the special tokens around every text.
    const specials = tokenizer.encode("", { add_special_tokens: true }).ids;
    if (specials.length !== 2) throw new Error(`wraps a text in ${specials.length} special tokens, expected 2 ([CLS] and [SEP])`);
    [open, close] = specials as [number, number];
  } catch (error) {
    port.postMessage({ type: "failed", file: tokenizerPath, problem: `is not a usable tokenizer.json: ${(error as Error).message}` } satisfies WorkerReply);
    return undefined;
  }
  let session: ort.InferenceSession;
  try {
    // One thread per worker: the pool size is the parallelism knob, and the event loop keeps a core.
    session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ["cpu"] });
    for (const input of ["input_ids", "attention_mask"]) {
      if (!session.inputNames.includes(input)) throw new Error(`has no ${input} input (inputs: ${session.inputNames.join(", ")})`);
    }
  } catch (error) {
    port.postMessage({ type: "failed", file: modelPath, problem: `is not a loadable sentence-transformers ONNX model: ${(error as Error).message}` } satisfies WorkerReply);
    return undefined;
  }
  const pad = tokenizer.token_to_id("[PAD]") ?? tokenizer.token_to_id("<pad>") ?? 0;
  const model: Model = { tokenizer, session, open, close, pad, dimensions: 0 };
  try {
    const probe = await run(model, ["dimension probe"]);
    model.dimensions = probe.vectors[0]!.length;
  } catch (error) {
    port.postMessage({ type: "failed", file: modelPath, problem: `does not embed a test sentence: ${(error as Error).message}` } satisfies WorkerReply);
    return undefined;
  }
  return model;
}

async function run(model: Model, texts: readonly string[]): Promise<{ vectors: Float32Array[]; truncated: boolean[] }> {
  const windows = texts.map((text) => fitToWindow(model.tokenizer.encode(text, { add_special_tokens: false }).ids, maxTokens, model.open, model.close));
  const batch = padBatch(
    windows.map((w) => w.ids),
    model.pad,
  );
  const shape = [batch.batch, batch.sequence];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor("int64", batch.inputIds, shape),
    attention_mask: new ort.Tensor("int64", batch.attentionMask, shape),
  };
  if (model.session.inputNames.includes("token_type_ids")) feeds.token_type_ids = new ort.Tensor("int64", batch.tokenTypeIds, shape);
  const outputs = await model.session.run(feeds);
  const hidden = outputs[model.session.outputNames[0]!]!;
  const dims = hidden.dims;
  if (dims.length !== 3 || dims[0] !== batch.batch || dims[1] !== batch.sequence) {
    throw new Error(`first output ${model.session.outputNames[0]} has shape [${dims.join(", ")}], expected [${shape.join(", ")}, dims] (token vectors)`);
  }
  const vectors = meanPoolNormalize(hidden.data as Float32Array, batch.attentionMask, batch.batch, batch.sequence, dims[2]!);
  return { vectors, truncated: windows.map((w) => w.truncated) };
}

const model = await load();
if (model) {
  port.postMessage({ type: "ready", dimensions: model.dimensions } satisfies WorkerReply);
  port.on("message", (request: WorkerRequest) => {
    run(model, request.texts).then(
      ({ vectors, truncated }) => {
        const reply: WorkerReply = { type: "embedded", id: request.id, vectors, truncated };
        port.postMessage(
          reply,
          vectors.map((v) => v.buffer as ArrayBuffer),
        );
      },
      (error: unknown) => port.postMessage({ type: "error", id: request.id, message: (error as Error).message } satisfies WorkerReply),
    );
  });
}
