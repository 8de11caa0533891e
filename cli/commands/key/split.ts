import type { Command } from "commander";
import { secretsClient } from "../../aws";
import { deploymentFor, positiveInteger } from "../../context";
import { printJson } from "../../output/format";
import { printSplit } from "../../output/keys";

interface SplitOptions {
  shares: number;
  threshold: number;
  out: string;
  json?: boolean;
}

export function registerKeySplit(key: Command): void {
  key
    .command("split")
    .description("Split the current master key into Shamir shares, one file each, for administrators to keep apart")
    .requiredOption("--shares <n>", "how many shares to make (2 to 255)", positiveInteger)
    .requiredOption("--threshold <n>", "how many shares rebuild the key (2 to --shares)", positiveInteger)
    .option("--out <dir>", "directory to write the share files into", ".")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nEach share file is self-describing JSON with a checksum of its own content. Hand each to a different\n" +
        "administrator; any --threshold of them rebuild the key with `restorable key combine`. Existing files\n" +
        "are never overwritten. The key itself is never printed.",
    )
    .action(split);
}

async function split(options: SplitOptions, command: Command): Promise<void> {
  const deployment = await deploymentFor(command);
  const { splitCurrentMasterKey } = await import("../../operator/key-escrow");
  const { describeMasterKey } = await import("../../../shared/keys/escrow");
  const report = await splitCurrentMasterKey(
    { shares: options.shares, threshold: options.threshold, directory: options.out },
    deployment,
    await secretsClient(),
    new Date(),
  );
  if (options.json) return printJson(report);
  printSplit(report, describeMasterKey(report.keyId, report.fingerprint));
}
