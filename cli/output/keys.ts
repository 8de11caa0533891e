import type { ReconstructedKey } from "../../shared/keys/escrow";
import type { SplitReport, StoredKey } from "../operator/key-escrow";
import type { ClearedFlag } from "../operator/key-registry";
import { printTable } from "./format";

export function printHeld(held: { keyId: string; fingerprint: string; labels: string[] }[]): void {
  printTable(
    ["KEY ID", "FINGERPRINT", "VERSION"],
    held.map((key) => [key.keyId, key.fingerprint, key.labels.join(",") || "older"]),
  );
}

/** Sets that were flagged for naming a master key not held, and no longer are: one line per key. */
export function printCleared(cleared: ClearedFlag[], report: (line: string) => void = console.log): void {
  const byKey = new Map<string, number>();
  for (const flag of cleared) byKey.set(flag.masterKeyId ?? "?", (byKey.get(flag.masterKeyId ?? "?") ?? 0) + 1);
  for (const [keyId, count] of byKey) {
    report(
      count === 1
        ? `1 set flagged for key ${keyId} is no longer flagged.`
        : `${count} sets flagged for key ${keyId} are no longer flagged.`,
    );
  }
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
  /** With --store: the sets that named this key and were flagged, no longer flagged. */
  cleared: ClearedFlag[];
  written: string | null;
  /** Print the key itself on stdout; the report then goes to stderr. */
  print: boolean;
}

export function combinedJson({ key, stored, cleared, written, print }: Combined): object {
  return {
    keyId: key.keyId,
    fingerprint: key.fingerprint,
    verified: true,
    shares: key.sources,
    stored,
    cleared,
    written,
    ...(print ? { key: key.secret.key } : {}),
  };
}

export function printCombined({ key, stored, cleared, written, print }: Combined): void {
  // With --print, stdout holds the key alone, so it can be piped or redirected as it is.
  const report = print ? console.error : console.log;
  report(`The ${key.sources.length} shares rebuild the master key ${key.keyId} (fingerprint ${key.fingerprint} ok).`);
  if (written) report(`Wrote the master key secret to ${written} (mode 0600).`);
  if (stored)
    report(`Stored it in ${stored.secretName} as a new version${stored.versionId ? ` (${stored.versionId})` : ""}.`);
  printCleared(cleared, report);
  if (print) process.stdout.write(`${key.secret.key}\n`);
}
