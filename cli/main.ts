import { Command, CommanderError } from "commander";
import { ConfigurationError, describeError, InvalidInputError, RestorableError } from "../shared/errors";
import { registerBucketCommands } from "./commands/bucket";
import { registerCatalogCommands } from "./commands/catalog";
import { registerKeyCommands } from "./commands/key";
import { registerKeyRegistryCommands } from "./commands/key-registry";
import { registerLocalCommands } from "./commands/local";
import { registerPushCommands } from "./commands/push";
import { registerResticCommands } from "./commands/restic";
import { registerRetentionCommands } from "./commands/retention";
import { PROGRAM_VERSION } from "./version";

export function buildProgram(): Command {
  const program = new Command("restorable")
    .description("Backup catalog, retention and restore drills for pg_dump sets and restic snapshots on AWS")
    .version(PROGRAM_VERSION)
    .option("--stack <name>", "read the deployment from this CloudFormation stack's outputs")
    .option("--bucket <name>", "backup bucket (default: RESTORABLE_BUCKET, the local stack, or the stack's output)")
    .option("--table <name>", "catalog table (default: RESTORABLE_TABLE, the local stack, or the stack's output)")
    .option("--region <region>", "AWS region (default: RESTORABLE_REGION or AWS_REGION)")
    .option("--endpoint <url>", "AWS endpoint, for an emulator (default: RESTORABLE_ENDPOINT or the local stack)")
    .showHelpAfterError()
    .addHelpText(
      "after",
      "\nThe deployment is found from flags, then RESTORABLE_* variables, then .restorable/local.json\n" +
        "(written by `npm start`), then the outputs of the CloudFormation stack (--stack, default Restorable).",
    );
  registerPushCommands(program);
  registerCatalogCommands(program);
  registerResticCommands(program);
  registerRetentionCommands(program);
  registerBucketCommands(program);
  registerKeyRegistryCommands(registerKeyCommands(program));
  registerLocalCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
    // A command that found something wrong (a failed verification, say) sets the exit code itself.
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`restorable: ${describeError(error)}\n`);
    if (error instanceof ConfigurationError || error instanceof InvalidInputError) return 2;
    if (!(error instanceof RestorableError) && process.env.RESTORABLE_DEBUG) console.error(error);
    return 1;
  }
}

// `restorable catalog list | head` closes stdout early; that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv);
