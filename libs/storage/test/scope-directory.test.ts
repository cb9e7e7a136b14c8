/**
 * ScopeDirectory against a plain list of rows (the definition): counts and
 * candidate filtering agree after random upserts, kind changes and deletes.
 */
import { mulberry32 } from "@t4dm/testkit";
import { describe, expect, it } from "vitest";
import { ScopeDirectory } from "../src/embedded/scope-directory.js";

describe("ScopeDirectory", () => {
  it("agrees with a recount of the rows after random writes", () => {
    const random = mulberry32(7);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const namespaces = ["a", "b", "c"];
    const rows = new Map<number, { namespace: string; kind: number }>();
    const directory = new ScopeDirectory();
    for (let step = 0; step < 5000; step++) {
      const key = 1 + Math.floor(random() * 300);
      if (random() < 0.25) {
        rows.delete(key);
        directory.remove(key);
      } else {
        // A key keeps its namespace (ids are per namespace); an upsert may change its kind.
        const namespace = rows.get(key)?.namespace ?? pick(namespaces);
        const kind = pick([1, 2, 3]);
        rows.set(key, { namespace, kind });
        directory.set(key, namespace, kind);
      }
    }
    expect(directory.size).toBe(rows.size);
    const candidates = Array.from({ length: 400 }, (_, i) => 400 - i);
    for (const namespace of [...namespaces, "none"]) {
      for (const kinds of [undefined, [], [1], [2, 3]]) {
        const inScope = (key: number) => {
          const row = rows.get(key);
          return row !== undefined && row.namespace === namespace && (!kinds || kinds.length === 0 || kinds.includes(row.kind));
        };
        expect(directory.count(namespace, kinds)).toBe([...rows.keys()].filter(inScope).length);
        expect(directory.filter(candidates, namespace, kinds)).toEqual(candidates.filter(inScope));
      }
    }
  });
});
