import type { Log } from "../../shared/log";
import type { LocalStack } from "../local/local-stack";
import { EMULATOR_CREDENTIALS } from "../operator/restic-environment";
import { resticEnvironmentLines } from "./restic";

/** The banner `local start` prints once the stack is up: where everything is and what to run next. */
export function printLocalStackReady(
  stack: Pick<LocalStack, "deployment" | "heldKeys" | "emulator">,
  stateFile: string,
): void {
  const { deployment, heldKeys } = stack;
  const masterKeys = heldKeys.map((key) => `${key.keyId} (fingerprint ${key.fingerprint})`).join(", ");
  console.log(`
ready
  emulator   ${deployment.endpoint} ${
    stack.emulator.external
      ? "(already running; the resources stay in it when this stops)"
      : "(moto server; state lives in memory until you stop it)"
  }
  bucket     ${deployment.bucket}
  table      ${deployment.table}
  queue      ${deployment.queueUrl}
  state file ${stateFile}
  master key ${masterKeys}: sets naming another key in master-key-id.txt are flagged;
             restorable key import --key-file F --key-id <id> makes your application's key the held one

In another terminal, from this repository:
  npx restorable push <backup-dir> --source <name>
  npx restorable backup postgres --source <name> --dbname <database>
  npx restorable catalog list

restic needs credentials and a region to reach this stack (any values work against the emulator):
${resticEnvironmentLines({ ...EMULATOR_CREDENTIALS, AWS_DEFAULT_REGION: deployment.region }).join("\n")}
  npx restorable restic add-repo <name> --password-file <file>   (prints restic's -r URL)

The CLI finds this stack through the state file. Stop with Ctrl-C.`);
}

/** The Lambdas' log lines on stderr: warnings and errors, and everything with --verbose. */
export function consoleLog(verbose: boolean): Log {
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
