import type { Command } from "commander";
import { printJson } from "../../output/format";
import { printHeld } from "../../output/keys";
import { registryFor } from "./registry";

interface ImportOptions {
  keyFile: string;
  keyId?: string;
  json?: boolean;
}

export function registerKeyImport(key: Command): void {
  key
    .command("import")
    .description("Make an existing key the master key (the previous one stays held), then register")
    .requiredOption("--key-file <file>", "file holding the key as the application uses it")
    .option("--key-id <id>", "the id the application writes into master-key-id.txt (default: the key's fingerprint)")
    .option("--json", "print JSON for scripts")
    .action(importKey);
}

async function importKey(options: ImportOptions, command: Command): Promise<void> {
  const { secrets, keyring, secretName } = await registryFor(command);
  const { importMasterKey, readKeyFile, registerHeldKeys } = await import("../../operator/key-registry");
  await importMasterKey(secrets, secretName, await readKeyFile(options.keyFile, options.keyId));
  const held = await registerHeldKeys(secrets, keyring, secretName, new Date());
  if (options.json) return printJson({ held });
  printHeld(held);
}
