import type { Command } from "commander";
import { printJson } from "../../output/format";
import { printCleared, printHeld } from "../../output/keys";
import { registryFor } from "./registry";

interface ImportOptions {
  keyFile: string;
  keyId?: string;
  json?: boolean;
}

export function registerKeyImport(key: Command): void {
  key
    .command("import")
    .description(
      "Make an existing key the master key (the previous one stays held), register, and clear the flag of sets naming it",
    )
    .requiredOption("--key-file <file>", "file holding the key as the application uses it")
    .option("--key-id <id>", "the id the application writes into master-key-id.txt (default: the key's fingerprint)")
    .option("--json", "print JSON for scripts")
    .action(importKey);
}

async function importKey(options: ImportOptions, command: Command): Promise<void> {
  const { secrets, keyring, secretName, catalog } = await registryFor(command);
  const { importMasterKey, readKeyFile, recheckFlaggedSets, registerHeldKeys } = await import(
    "../../operator/key-registry"
  );
  const { masterKeyId } = await import("../../../shared/keys/master-key");
  const secret = await readKeyFile(options.keyFile, options.keyId);
  const keyId = masterKeyId(secret);
  // The key already current adds no version: each version would push the older ones out of their labels.
  const outcome = await importMasterKey(secrets, secretName, secret);
  const held = await registerHeldKeys(secrets, keyring, secretName, new Date());
  const cleared = await recheckFlaggedSets(catalog.backups, held, new Date());
  if (options.json) return printJson({ keyId, imported: outcome === "imported", held, cleared });
  console.log(
    outcome === "imported"
      ? `Imported ${keyId} as the current master key; the previous one stays held.`
      : `${keyId} is already the current master key; nothing imported.`,
  );
  printHeld(held);
  printCleared(cleared);
}
