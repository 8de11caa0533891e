import * as path from "node:path";
import type { Command } from "commander";
import { positiveInteger } from "../../context";
import { DEFAULT_LOCAL_PORT, DEFAULT_STATE_FILE } from "../../local/defaults";
import type { LocalStack } from "../../local/local-stack";
import { consoleLog, printLocalStackReady } from "../../output/local";

interface StartOptions {
  port: number;
  endpoint?: string;
  stateFile: string;
  verbose?: boolean;
}

export function registerLocalStart(local: Command): void {
  local
    .command("start")
    .description(
      "Start the emulator, create the stack's resources, run the Lambdas in-process; stop with Ctrl-C. " +
        "With --endpoint <url> (e.g. LocalStack at http://localhost:4566), use an emulator that is already running " +
        "instead of starting moto; it is left running at stop",
    )
    .option("--port <port>", "the embedded emulator's port", positiveInteger, DEFAULT_LOCAL_PORT)
    .option("--state-file <path>", "where to write the file the CLI finds this stack by", DEFAULT_STATE_FILE)
    .option("--verbose", "print every Lambda log line, not only warnings and errors")
    .action((options: StartOptions, command: Command) => {
      // --endpoint is the CLI's global flag: for `local start` it names the emulator to provision into.
      const endpoint = (command.optsWithGlobals() as { endpoint?: string }).endpoint;
      if (endpoint && command.getOptionValueSource("port") === "cli")
        command.error(
          "error: --port starts the embedded emulator on that port; --endpoint uses one already running: give one of them",
          { exitCode: 2 },
        );
      return start({ ...options, ...(endpoint ? { endpoint } : {}) });
    });
}

async function start(options: StartOptions): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= options.verbose ? "INFO" : "WARN";
  console.log(
    options.endpoint
      ? `starting the local stack against ${options.endpoint} ...`
      : `starting the local stack on port ${options.port} ...`,
  );
  const { startLocalStack } = await import("../../local/local-stack");
  const stateFile = path.resolve(options.stateFile);
  const stack = await startLocalStack({
    ...(options.endpoint ? { endpoint: options.endpoint } : { port: options.port }),
    stateFile,
    log: consoleLog(options.verbose ?? false),
    progress: (line) => console.log(line),
  });
  printLocalStackReady(stack, stateFile);
  if ((await untilStopped(stack)) === "emulator exited") {
    console.error("the emulator (moto server) exited unexpectedly and everything it held is gone: start again");
    process.exitCode = 1;
  }
  console.log("stopping ...");
  await stack.stop();
  console.log("stopped");
}

/**
 * Runs until Ctrl-C (or SIGTERM), or until the emulator it started dies: without it the stack can only log
 * errors. An external emulator is not watched; its failures show as the handlers' errors.
 */
function untilStopped(stack: LocalStack): Promise<"interrupted" | "emulator exited"> {
  return new Promise((resolve) => {
    const stop = () => resolve("interrupted");
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    void stack.emulator.exited.then(() => resolve("emulator exited"));
  });
}
