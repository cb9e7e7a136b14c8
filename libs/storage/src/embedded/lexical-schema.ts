import { lexicalTerms } from "@t4dm/learning";
import type { SqliteDatabase } from "./sqlite-database.js";

/**
 * The keyword index of the embedded episodic store (schema version 2).
 *
 * Each row keeps its lexical terms (the shared tokenizer's output, joined by
 * spaces) and their count; an external-content FTS5 table indexes the terms
 * and `lexical_stats` keeps each namespace's document count and total length
 * for BM25. Triggers keep both in step with every insert, update and delete
 * of a row, in the same transaction, so no write path can forget them.
 * FTS5's `unicode61 remove_diacritics 2` is a no-op on terms the tokenizer
 * already folded; it is named so a hand-written MATCH folds the same way.
 */
const LEXICAL_INDEX = `
CREATE VIRTUAL TABLE memories_fts USING fts5(
  lexical_terms, content = 'memories', content_rowid = 'key', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO memories_fts (memories_fts) VALUES ('rebuild');
CREATE TABLE lexical_stats (
  namespace    TEXT PRIMARY KEY,
  documents    INTEGER NOT NULL,
  total_length INTEGER NOT NULL
);
INSERT INTO lexical_stats (namespace, documents, total_length)
  SELECT namespace, count(*), sum(lexical_length) FROM memories GROUP BY namespace;
CREATE TRIGGER memories_lexical_insert AFTER INSERT ON memories BEGIN
  INSERT INTO memories_fts (rowid, lexical_terms) VALUES (new.key, new.lexical_terms);
  INSERT INTO lexical_stats (namespace, documents, total_length) VALUES (new.namespace, 1, new.lexical_length)
    ON CONFLICT (namespace) DO UPDATE SET documents = documents + 1, total_length = total_length + excluded.total_length;
END;
CREATE TRIGGER memories_lexical_delete AFTER DELETE ON memories BEGIN
  INSERT INTO memories_fts (memories_fts, rowid, lexical_terms) VALUES ('delete', old.key, old.lexical_terms);
  UPDATE lexical_stats SET documents = documents - 1, total_length = total_length - old.lexical_length WHERE namespace = old.namespace;
END;
CREATE TRIGGER memories_lexical_update AFTER UPDATE OF namespace, lexical_terms, lexical_length ON memories BEGIN
  INSERT INTO memories_fts (memories_fts, rowid, lexical_terms) VALUES ('delete', old.key, old.lexical_terms);
  INSERT INTO memories_fts (rowid, lexical_terms) VALUES (new.key, new.lexical_terms);
  UPDATE lexical_stats SET documents = documents - 1, total_length = total_length - old.lexical_length WHERE namespace = old.namespace;
  INSERT INTO lexical_stats (namespace, documents, total_length) VALUES (new.namespace, 1, new.lexical_length)
    ON CONFLICT (namespace) DO UPDATE SET documents = documents + 1, total_length = total_length + excluded.total_length;
END;
`;

/** A row's lexical columns, from its content. */
export function lexicalColumns(content: string): { lexical_terms: string; lexical_length: number } {
  const terms = lexicalTerms(content);
  return { lexical_terms: terms.join(" "), lexical_length: terms.length };
}

/**
 * Builds the keyword index over the rows already there: a store created by
 * schema version 1 gets its terms computed from each row's content, then the
 * index, the statistics and the triggers. Runs inside the caller's
 * transaction; a crash half-way leaves version 1, and the next open starts over.
 */
export function buildLexicalIndex(db: SqliteDatabase, fromVersion: number): void {
  if (fromVersion < 2) {
    const columns = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('memories')").all().map((c) => c.name);
    if (!columns.includes("lexical_terms")) db.exec("ALTER TABLE memories ADD COLUMN lexical_terms TEXT NOT NULL DEFAULT ''");
    if (!columns.includes("lexical_length")) db.exec("ALTER TABLE memories ADD COLUMN lexical_length INTEGER NOT NULL DEFAULT 0");
    const update = db.prepare("UPDATE memories SET lexical_terms = ?, lexical_length = ? WHERE key = ?");
    const batch = db.prepare<[number], { key: number; content: string }>("SELECT key, content FROM memories WHERE key > ? ORDER BY key LIMIT 4096");
    // In batches: a statement cannot write while another still iterates.
    for (let rows = batch.all(0); rows.length > 0; rows = batch.all(rows[rows.length - 1]!.key)) {
      for (const row of rows) {
        const lexical = lexicalColumns(row.content);
        update.run(lexical.lexical_terms, lexical.lexical_length, row.key);
      }
    }
  }
  db.exec(LEXICAL_INDEX);
}
