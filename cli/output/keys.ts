import type { ReconstructedKey } from "../../shared/keys/escrow";
import type { SplitReport, StoredKey } from "../operator/key-escrow";
import { printTable } from "./format";

export function printHeld(held: { keyId: string; fingerprint: string; labels: string[] }[]): void {
  printTable(
    ["KEY ID", "FINGERPRINT", "VERSION"],
    held.map((key) => [key.keyId, key.fingerprint, key.labels.join(",") || "older"]),
  );
}

/** Where the shares went; `key` describes the key by id and fingerprint, never the key itself. */
export function printSplit(report: SplitReport, key: string): void {
  console.log(
    `Split the master key ${key} from ${report.secretName} into ${report.shares} shares; any ${report.threshold} rebuild it:`,
  );
  for (const file of report.files) console.log(`  ${file}`);
  console.log("\nGive each share to a different administrator, then delete these files here.");
}

export interface Combined {
  key: ReconstructedKey;
  stored: StoredKey | null;
  written: string | null;
  /** Print the key itself on stdout; the report then goes to stderr. */
  print: boolean;
}

export function combinedJson({ key, stored, written, print }: Combined): object {
  return {
    keyId: key.keyId,
    fingerprint: key.fingerprint,
    verified: true,
    shares: key.sources,
    stored,
    written,
    ...(print ? { key: key.secret.key } : {}),
  };
}

export function printCombined({ key, stored, written, print }: Combined): void {
  // With --print, stdout holds the key alone, so it can be piped or redirected as it is.
  const report = print ? console.error : console.log;
  report(`The ${key.sources.length} shares rebuild the master key ${key.keyId} (fingerprint ${key.fingerprint} ok).`);
  if (written) report(`Wrote the master key secret to ${written} (mode 0600).`);
  if (stored)
    report(`Stored it in ${stored.secretName} as a new version${stored.versionId ? ` (${stored.versionId})` : ""}.`);
  if (print) process.stdout.write(`${key.secret.key}\n`);
}
