import type { Command } from "commander";
import { printJson } from "../../output/format";
import { printCleared, printHeld } from "../../output/keys";
import { registryFor } from "./registry";

export function registerKeyRegister(key: Command): void {
  key
    .command("register")
    .description(
      "Record which master keys the service holds (every version of the secret), by id and fingerprint, and clear the flag of sets naming one",
    )
    .option("--json", "print JSON for scripts")
    .action(register);
}

async function register(options: { json?: boolean }, command: Command): Promise<void> {
  const { secrets, keyring, secretName, catalog } = await registryFor(command);
  const { recheckFlaggedSets, registerHeldKeys } = await import("../../operator/key-registry");
  const held = await registerHeldKeys(secrets, keyring, secretName, new Date());
  const cleared = await recheckFlaggedSets(catalog.backups, held, new Date());
  if (options.json) return printJson({ held, cleared });
  printHeld(held);
  printCleared(cleared);
}
