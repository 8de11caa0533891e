import type { Command } from "commander";
import { registerLocalCommands } from "./commands/local";
import { buildHostProgram, runProgram } from "./program";

export { commanderExitCode } from "./program";

/**
 * The whole command tree, without running anything (cli/run.ts runs it): every host and operator command
 * (cli/program.ts) and `local`, which runs the local stack from a checkout of this repository.
 */
export function buildProgram(): Command {
  const program = buildHostProgram();
  registerLocalCommands(program);
  return program;
}

/** Runs the CLI on argv (as process.argv: node, script, arguments…) and returns the exit code. */
export function main(argv: string[]): Promise<number> {
  return runProgram(buildProgram(), argv);
}
