import type { Command } from "commander";
import { printJson } from "../../output/format";
import { printHeld } from "../../output/keys";
import { registryFor } from "./registry";

export function registerKeyRegister(key: Command): void {
  key
    .command("register")
    .description("Record which master keys the service holds (every version of the secret), by id and fingerprint")
    .option("--json", "print JSON for scripts")
    .action(register);
}

async function register(options: { json?: boolean }, command: Command): Promise<void> {
  const { secrets, keyring, secretName } = await registryFor(command);
  const { registerHeldKeys } = await import("../../operator/key-registry");
  const held = await registerHeldKeys(secrets, keyring, secretName, new Date());
  if (options.json) return printJson({ held });
  printHeld(held);
}
