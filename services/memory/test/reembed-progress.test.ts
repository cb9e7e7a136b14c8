// The re-embed command's pure parts: the progress line's bookkeeping, and the marker that makes the
// memory service refuse a half re-embedded data directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ReembedProgress } from "../dist/reembed/reembed-progress.js";
import { readReembedMarker, ReembedInProgressError, refuseUnfinishedReembed, removeReembedMarker, writeReembedMarker } from "../dist/reembed/reembed-marker.js";
import { EmbedderStartupError } from "../dist/embedding/embedder-startup-error.js";

describe("ReembedProgress", () => {
  it("counts what a killed run staged as done, and the rate and time left from this run only", () => {
    const progress = new ReembedProgress("episodic", 1000, 300, 10_000);
    expect(progress.line(10_000)).toBe("re-embed episodic: 300/1000 (30%), 0.0/s (300 done before)");
    progress.advance(200);
    expect(progress.done).toBe(500);
    expect(progress.rate(12_000)).toBe(100);
    expect(progress.line(12_000)).toBe("re-embed episodic: 500/1000 (50%), 100.0/s, ~5 s left (300 done before)");
    progress.advance(500);
    expect(progress.line(15_000)).toBe("re-embed episodic: 1000/1000 (100%), 140.0/s (300 done before)");
  });

  it("an empty store is 100% at once", () => {
    expect(new ReembedProgress("graph", 0, 0, 0).line(0)).toBe("re-embed graph: 0/0 (100%), 0.0/s");
  });
});

describe("the re-embed marker", () => {
  it("while it exists the service refuses (an EmbedderStartupError: exit 2) naming the target and the command", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "t4dm-marker-"));
    try {
      await refuseUnfinishedReembed(dir);
      const to = { embedder: "minilm" as const, model: "sha256:abc", dimensions: 384 };
      await writeReembedMarker(dir, { to });
      expect(await readReembedMarker(dir)).toEqual({ to });
      const refusal = await refuseUnfinishedReembed(dir).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(ReembedInProgressError);
      expect(refusal).toBeInstanceOf(EmbedderStartupError);
      expect((refusal as Error).message).toMatch(/^re-embed in progress \(to the minilm embedder, sha256:abc, 384 dimensions\), run `node services\/memory\/dist\/reembed.js` again/);
      await removeReembedMarker(dir);
      await refuseUnfinishedReembed(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
