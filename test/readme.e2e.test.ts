import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcurlPath, REPO_ROOT, startPod, type Pod } from "@t4dm/testkit";

// The README's operator examples, pasted into a shell against a real pod:
// only the addresses and grpcurl's path differ from what the README says.

/** The ```sh block of README.md that starts with `startsWith`. */
function block(startsWith: string): string {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const found = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.startsWith(startsWith));
  if (!found) throw new Error(`README.md has no sh block starting with ${startsWith}`);
  return found;
}

describe("README examples", () => {
  let pod: Pod;
  beforeAll(async () => {
    pod = await startPod({ env: { T4DM_EMBEDDING_DIM: "32" } });
  });
  afterAll(() => pod?.stop());

  it("the grpcurl and curl commands work when pasted, Recall's id feeding Reinforce", async () => {
    const script = block("G=.tools/bin/grpcurl")
      .replace("G=.tools/bin/grpcurl", `G=${grpcurlPath()}`)
      .replaceAll("127.0.0.1:50051", pod.grpcAddr)
      .replaceAll("http://127.0.0.1:8080", pod.httpUrl);
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile("bash", ["-e", "-o", "pipefail", "-c", script], { cwd: REPO_ROOT, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/RECALL_NOT_FOUND|ERROR/);
    // Reinforce credited the memory that Recall returned.
    const reinforced = [...result.stdout.matchAll(/"creditedMemories": (\d+)/g)].map((m) => Number(m[1]));
    expect(reinforced).toEqual([1]);
    expect(result.stdout).toMatch(/^ww_buffer_size /m);
  });
});
