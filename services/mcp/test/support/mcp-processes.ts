import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { REPO_ROOT, writeApiKeysFile } from "@t4dm/testkit";

export const MCP_MAIN = path.join(REPO_ROOT, "services/mcp/dist/main.js");

/** API keys bound to namespaces, as the memory service's tenancy tests use them. */
export const KEYS = { alice: "alice-mcp-key-0123456789", bob: "bob-mcp-key-9876543210" } as const;

/** Writes a keys file granting alice the namespace "alice" and bob "bob"; returns its path. */
export function writeKeysFile(dir: string): string {
  return writeApiKeysFile(dir, [
    { id: "alice", key: KEYS.alice, namespaces: ["alice"] },
    { id: "bob", key: KEYS.bob, namespaces: ["bob"] },
  ]);
}

/** The MCP server over HTTP as a real process, its JSON log lines (stderr) collected. */
export class HttpMcpProcess {
  readonly lines: Record<string, unknown>[] = [];
  stderr = "";
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess, readonly url: Promise<string>) {
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  static start(env: Record<string, string>): HttpMcpProcess {
    const child = spawn(process.execPath, [MCP_MAIN], {
      env: { PATH: process.env.PATH ?? "", T4DM_LOG_LEVEL: "debug", T4DM_MCP_TRANSPORT: "http", T4DM_MCP_HTTP_ADDR: "127.0.0.1:0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let resolveUrl!: (url: string) => void;
    let rejectUrl!: (error: Error) => void;
    const url = new Promise<string>((resolve, reject) => ((resolveUrl = resolve), (rejectUrl = reject)));
    const mcp = new HttpMcpProcess(child, url);
    createInterface({ input: child.stderr! }).on("line", (text) => {
      mcp.stderr += text + "\n";
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        mcp.lines.push(line);
        if (line.event === "http.listening") resolveUrl(`http://${String(line.addr)}${String(line.path)}`);
      } catch {
        // plain text: a start-up refusal
      }
    });
    void mcp.exited.then((code) => rejectUrl(new Error(`the MCP server exited (code ${code}) before listening: ${mcp.stderr}`)));
    return mcp;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}

/** The SDK's own client over Streamable HTTP, with `key` as its bearer (none when undefined). */
export async function connectHttp(url: string, key: string | undefined): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: key ? { headers: { Authorization: `Bearer ${key}` } } : undefined,
  });
  const client = new Client({ name: "t4dm-mcp-test", version: "0.0.0" });
  await client.connect(transport);
  return client;
}

/** The SDK's own client over stdio: it spawns the MCP server with `env` (stderr kept for failures). */
export async function connectStdio(env: Record<string, string>): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_MAIN],
    env: { PATH: process.env.PATH ?? "", T4DM_LOG_LEVEL: "debug", ...env },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: "t4dm-mcp-test", version: "0.0.0" });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

/** Calls a tool and returns its result (tool errors included: they are results, not exceptions). */
export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}
