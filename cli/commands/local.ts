import * as path from "node:path";
import type { Command } from "commander";
import type { Log } from "../../shared/log";
import { positiveInteger } from "../context";
import { DEFAULT_LOCAL_PORT, DEFAULT_STATE_FILE } from "../local/defaults";

export function registerLocalCommands(program: Command): void {
  const local = program.command("local").description("Run restorable on this machine against an embedded AWS emulator");
  local
    .command("start")
    .description("Start the emulator, create the stack's resources, run the Lambdas in-process; stop with Ctrl-C")
    .option("--port <port>", "the emulator's port", positiveInteger, DEFAULT_LOCAL_PORT)
    .option("--state-file <path>", "where to write the file the CLI finds this stack by", DEFAULT_STATE_FILE)
    .option("--verbose", "print every Lambda log line, not only warnings and errors")
    .action(async (options: { port: number; stateFile: string; verbose?: boolean }) => {
      process.env.POWERTOOLS_LOG_LEVEL ??= options.verbose ? "INFO" : "WARN";
      const log: Log = consoleLog(options.verbose ?? false);
      console.log(`starting the local stack on port ${options.port} ...`);
      const { startLocalStack } = await import("../local/local-stack");
      const stack = await startLocalStack({
        port: options.port,
        stateFile: path.resolve(options.stateFile),
        log,
        progress: (line) => console.log(line),
      });
      const { deployment, heldKeys } = stack;
      const masterKeys = heldKeys.map((key) => `${key.keyId} (fingerprint ${key.fingerprint})`).join(", ");
      console.log(`
ready
  emulator   ${deployment.endpoint} (moto server; state lives in memory until you stop it)
  bucket     ${deployment.bucket}
  table      ${deployment.table}
  queue      ${deployment.queueUrl}
  state file ${path.resolve(options.stateFile)}
  master key ${masterKeys}: sets naming another key in master-key-id.txt are flagged;
             restorable key import --key-file F --key-id <id> makes your application's key the held one

In another terminal, from this repository:
  npx restorable push <backup-dir> --source <name>
  npx restorable backup postgres --source <name> --dbname <database>
  npx restorable catalog list
The CLI finds this stack through the state file. Stop with Ctrl-C.`);

      const reason = await new Promise<"interrupted" | "emulator exited">((resolve) => {
        const stop = () => resolve("interrupted");
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        // Without its emulator the stack can only log connection errors forever: say so and stop.
        stack.emulator.process.once("exit", () => resolve("emulator exited"));
      });
      if (reason === "emulator exited") {
        console.error("the emulator (moto server) exited unexpectedly and everything it held is gone: start again");
        process.exitCode = 1;
      }
      console.log("stopping ...");
      await stack.stop();
      console.log("stopped");
    });
}

function consoleLog(verbose: boolean): Log {
  const write =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      console.error(
        `[${level}] ${message}${extra.length > 0 ? ` ${JSON.stringify(Object.assign({}, ...extra))}` : ""}`,
      );
  return {
    debug: verbose ? write("debug") : () => {},
    info: verbose ? write("info") : () => {},
    warn: write("warn"),
    error: write("error"),
  };
}
