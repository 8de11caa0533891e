import type { Command } from "commander";

/** The master key: where it is kept, its escrow among administrators. Commands are added below. */
export function registerKeyCommands(program: Command): Command {
  return program.command("key").description("The application's master key: Secrets Manager, fingerprint, Shamir escrow");
}
