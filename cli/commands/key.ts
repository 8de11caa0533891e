import type { Command } from "commander";
import { dynamoClient, secretsClient } from "../aws";
import { deploymentFor, positiveInteger } from "../context";
import { printJson } from "../output";

/** The master key: where it is kept, its escrow among administrators. Commands are added below. */
export function registerKeyCommands(program: Command): Command {
  const key = program
    .command("key")
    .description("The application's master key: Secrets Manager, fingerprint, Shamir escrow");

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
    .action(async (options: { shares: number; threshold: number; out: string; json?: boolean }, command: Command) => {
      const deployment = await deploymentFor(command);
      const { splitCurrentMasterKey } = await import("../operator/key-escrow");
      const { describeMasterKey } = await import("../../shared/keys/escrow");
      const report = await splitCurrentMasterKey(
        { shares: options.shares, threshold: options.threshold, directory: options.out },
        deployment,
        await secretsClient(),
        new Date(),
      );
      if (options.json) return printJson(report);
      console.log(
        `Split the master key ${describeMasterKey(report.keyId, report.fingerprint)} from ${report.secretName} into ` +
          `${report.shares} shares; any ${report.threshold} rebuild it:`,
      );
      for (const file of report.files) console.log(`  ${file}`);
      console.log("\nGive each share to a different administrator, then delete these files here.");
    });

  key
    .command("combine")
    .description("Rebuild the master key from share files and verify it against its fingerprint")
    .argument("<files...>", "share files written by `restorable key split`")
    .option("--store", "put the key back into Secrets Manager as a new version of the master key secret")
    .option("--out <file>", "write the master key secret's JSON to this new file, readable by its owner only")
    .option("--print", "print the key itself on stdout (the report goes to stderr)")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nWithout --store, --out or --print, only says whether the shares rebuild the key. Nothing is stored,\n" +
        "written or printed unless the result matches the fingerprint recorded in the shares.",
    )
    .action(
      async (
        files: string[],
        options: { store?: boolean; out?: string; print?: boolean; json?: boolean },
        command: Command,
      ) => {
        const { combineShareFiles, masterKeySecretName, storeMasterKey, writeSecretFile } = await import(
          "../operator/key-escrow"
        );
        // Where to store is settled before anything happens; without --store no AWS access is needed at all.
        const deployment = options.store ? await deploymentFor(command) : null;
        if (deployment) masterKeySecretName(deployment);
        const key = await combineShareFiles(files);
        // Local first: a refused --out must not leave the key stored and the operator unsure what happened.
        if (options.out) await writeSecretFile(options.out, key);
        const stored = deployment ? await storeMasterKey(key, deployment, await secretsClient()) : null;
        if (deployment && stored) {
          // The stored key is now the current version: the keyring must know it before the next set arrives.
          const { registerHeldKeys } = await import("../operator/key-registry");
          const { DynamoKeyring } = await import("../../shared/catalog/dynamo/keyring");
          await registerHeldKeys(
            await secretsClient(),
            new DynamoKeyring(await dynamoClient(), deployment.table),
            stored.secretName,
            new Date(),
          );
        }

        if (options.json)
          return printJson({
            keyId: key.keyId,
            fingerprint: key.fingerprint,
            verified: true,
            shares: key.sources,
            stored,
            written: options.out ?? null,
            ...(options.print ? { key: key.secret.key } : {}),
          });
        // With --print, stdout holds the key alone, so it can be piped or redirected as it is.
        const report = options.print ? console.error : console.log;
        report(
          `The ${key.sources.length} shares rebuild the master key ${key.keyId} (fingerprint ${key.fingerprint} ok).`,
        );
        if (options.out) report(`Wrote the master key secret to ${options.out} (mode 0600).`);
        if (stored)
          report(
            `Stored it in ${stored.secretName} as a new version${stored.versionId ? ` (${stored.versionId})` : ""}.`,
          );
        if (options.print) process.stdout.write(`${key.secret.key}\n`);
      },
    );

  return key;
}
