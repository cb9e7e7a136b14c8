import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");

function packages(): { dir: string; name: string; deps: string[] }[] {
  return ["libs", "services"].flatMap((group) =>
    readdirSync(path.join(root, group)).map((entry) => {
      const dir = `${group}/${entry}`;
      const json = JSON.parse(readFileSync(path.join(root, dir, "package.json"), "utf8")) as {
        name: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      const deps = Object.keys({ ...json.dependencies, ...json.devDependencies }).filter((d) => d.startsWith("@t4dm/"));
      return { dir, name: json.name, deps };
    }),
  );
}

describe("package layering", () => {
  const all = packages();
  const byName = new Map(all.map((p) => [p.name, p]));

  it("has services depend only on libs, and libs never on services", () => {
    for (const pkg of all) {
      for (const dep of pkg.deps) {
        const target = byName.get(dep);
        expect(target, `${pkg.name} depends on unknown ${dep}`).toBeDefined();
        expect(target!.dir.startsWith("libs/"), `${pkg.name} must not depend on ${dep}`).toBe(true);
      }
    }
  });

  it("has no dependency cycles among libs", () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, trail: string[]) => {
      if (done.has(name)) return;
      expect(visiting.has(name), `cycle: ${[...trail, name].join(" -> ")}`).toBe(false);
      visiting.add(name);
      for (const dep of byName.get(name)!.deps) visit(dep, [...trail, name]);
      visiting.delete(name);
      done.add(name);
    };
    for (const pkg of all) visit(pkg.name, []);
  });

  it("never imports another package's src/ internals", () => {
    const offenders: string[] = [];
    for (const pkg of all) {
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) walk(full);
          else if (entry.name.endsWith(".ts") && /from "@t4dm\/[^"]+\/(src|dist)\//.test(readFileSync(full, "utf8"))) offenders.push(full);
        }
      };
      for (const sub of ["src", "test"]) {
        try {
          walk(path.join(root, pkg.dir, sub));
        } catch {
          /* the package has no such folder */
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
