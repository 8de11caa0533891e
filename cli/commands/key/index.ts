import type { Command } from "commander";
import { registerKeyCombine } from "./combine";
import { registerKeyImport } from "./import";
import { registerKeyRegister } from "./register";
import { registerKeySplit } from "./split";
import { registerKeyStatus } from "./status";

/** The master key: where it is kept, which keys the service holds, its escrow among administrators. */
export function registerKeyCommands(program: Command): void {
  const key = program
    .command("key")
    .description("The application's master key: Secrets Manager, fingerprint, Shamir escrow");
  registerKeySplit(key);
  registerKeyCombine(key);
  registerKeyRegister(key);
  registerKeyImport(key);
  registerKeyStatus(key);
}
