import { InvalidInputError } from "../errors";

/** The files a host's backup script writes beside its data (see the seed "A complete backup script"). */
export const HOST_CHECKSUMS_FILE = "SHA256SUMS";
export const HOST_MANIFEST_FILE = "manifest.txt";
export const MASTER_KEY_ID_FILE = "master-key-id.txt";

export interface ChecksumLine {
  sha256: string;
  /** The path exactly as `sha256sum` printed it: often absolute, as in the seed script. */
  path: string;
}

/**
 * Parses `sha256sum` output in both forms `sha256sum -c` accepts: GNU (`<hex>  <path>`, text or binary
 * mode) and BSD (`SHA256 (<path>) = <hex>`, what `sha256sum --tag` and `shasum -a 256 --tag` print), each
 * with the escaped form sha256sum uses for names holding a backslash or newline.
 */
export function parseChecksums(text: string): ChecksumLine[] {
  const lines: ChecksumLine[] = [];
  for (const [index, raw] of text.split("\n").entries()) {
    if (raw.trim() === "") continue;
    const escaped = raw.startsWith("\\");
    const line = (escaped ? raw.slice(1) : raw).replace(/\r$/, "");
    const gnu = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    const bsd = gnu ? null : /^SHA256 \((.+)\) ?= ([0-9a-fA-F]{64})$/.exec(line);
    if (!gnu && !bsd) {
      throw new InvalidInputError(
        "invalid-checksums",
        `${HOST_CHECKSUMS_FILE} line ${index + 1} is neither "<sha256>  <path>" nor "SHA256 (<path>) = <sha256>"`,
      );
    }
    const [sha256, rawPath] = gnu ? [gnu[1] as string, gnu[2] as string] : [bsd?.[2] as string, bsd?.[1] as string];
    const path = escaped ? rawPath.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c)) : rawPath;
    lines.push({ sha256: sha256.toLowerCase(), path });
  }
  return lines;
}

/**
 * Maps a path from SHA256SUMS to a name inside the backup directory. The seed script hashes
 * "$DEST/main.dump" with an absolute path from the host, which may no longer exist where the
 * directory is pushed from, so only the last segment is meaningful.
 */
export function checksumPathToName(path: string): string {
  const trimmed = path.replace(/^\.\//, "");
  const segments = trimmed.split("/").filter((segment) => segment !== "");
  return segments[segments.length - 1] ?? trimmed;
}

/**
 * Parses the seed's `key: value` manifest.txt; lines without a colon are ignored, values are trimmed. A manifest
 * written as a JSON object (a helper's manifest.json) gives its top-level strings, numbers and booleans.
 */
export function parseHostManifest(text: string): Record<string, string> {
  const json = parseJsonManifest(text);
  if (json) return json;
  const fields: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    if (key === "" || /\s/.test(key)) continue;
    fields[key] = line.slice(colon + 1).trim();
  }
  return fields;
}

function parseJsonManifest(text: string): Record<string, string> | undefined {
  if (!text.trimStart().startsWith("{")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const fields: Record<string, string> = {};
  for (const [key, field] of Object.entries(value)) {
    if (["string", "number", "boolean"].includes(typeof field)) fields[key] = String(field).trim();
  }
  return fields;
}
