/** The key of an `Authorization: Bearer <key>` header, or undefined when there is none or it is malformed. */
export function bearerKey(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match ? match[1] : undefined;
}
