import type { Command } from "commander";
import { registerLocalStart } from "./start";

export function registerLocalCommands(program: Command): void {
  const local = program.command("local").description("Run restorable on this machine against an embedded AWS emulator");
  registerLocalStart(local);
}
