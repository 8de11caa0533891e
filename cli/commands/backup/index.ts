import type { Command } from "commander";
import { registerBackupPostgres } from "./postgres";

export function registerBackupCommands(program: Command): void {
  const backup = program.command("backup").description("Back up a database straight into the bucket");
  registerBackupPostgres(backup);
}
