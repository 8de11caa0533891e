import type { Command } from "commander";
import { printJson } from "../../output/format";
import { printHeld } from "../../output/keys";
import { registryFor } from "./registry";

export function registerKeyStatus(key: Command): void {
  key
    .command("status")
    .description("Show the master keys the service holds, as last registered")
    .option("--json", "print JSON for scripts")
    .action(status);
}

async function status(options: { json?: boolean }, command: Command): Promise<void> {
  const { keyring } = await registryFor(command);
  const held = await keyring.held();
  if (options.json) return printJson({ held: held ?? null });
  if (!held) return console.log("No master key registered yet: run restorable key register");
  printHeld(held);
}
