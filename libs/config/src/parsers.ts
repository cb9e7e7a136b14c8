/**
 * Pure parsers for environment values. Each returns the parsed value or
 * throws a plain Error whose message explains what was expected; the loader
 * attaches the variable name.
 */

export interface ListenAddress {
  /** As given, for logs. */
  readonly raw: string;
  /** The address in grpc-js form: `host:port` or `unix:/abs/path`. */
  readonly grpcTarget: string;
  readonly kind: "tcp" | "unix";
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
}

export function parseInteger(raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected an integer, got "${raw}"`);
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`expected an integer from ${min} to ${max}, got ${raw}`);
  }
  return value;
}

export function parseChoice<T extends string>(raw: string, choices: readonly T[]): T {
  const value = raw.trim().toLowerCase();
  if (!(choices as readonly string[]).includes(value)) {
    throw new Error(`expected one of ${choices.join(", ")}, got "${raw}"`);
  }
  return value as T;
}

export function parseBoolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off", ""].includes(value)) return false;
  throw new Error(`expected true or false, got "${raw}"`);
}

/** `host:port` (IPv6 in brackets); port 0 asks the OS for a free one. */
export function parseHostPort(raw: string): ListenAddress {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw.trim());
  if (!match) throw new Error(`expected host:port, got "${raw}"`);
  const host = match[1]!.replace(/^\[|\]$/g, "");
  const port = Number(match[2]);
  if (port > 65535) throw new Error(`port ${port} is out of range`);
  return { raw, kind: "tcp", host, port, grpcTarget: `${match[1]}:${port}` };
}

/** `unix:/abs/path`, or `host:port` on a loopback address. */
export function parseSidecarAddress(raw: string, resolvePath: (p: string) => string): ListenAddress {
  const trimmed = raw.trim();
  if (trimmed.startsWith("unix:")) {
    const path = resolvePath(trimmed.slice("unix:".length));
    // sun_path holds 108 bytes including the terminator.
    if (Buffer.byteLength(path) > 107) throw new Error(`unix socket path is longer than 107 bytes: ${path}`);
    return { raw, kind: "unix", path, grpcTarget: `unix:${path}` };
  }
  const address = parseHostPort(trimmed);
  if (!isLoopback(address.host!)) {
    throw new Error(`the sidecar must never listen on a public address; use unix:… or a loopback host, got "${raw}"`);
  }
  return address;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** An http(s) URL, or undefined for an empty value. */
export function parseOptionalUrl(raw: string): string | undefined {
  const value = raw.trim();
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`expected an http or https URL, got "${raw}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`expected an http or https URL, got "${raw}"`);
  return value;
}
