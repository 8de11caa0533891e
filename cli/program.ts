import { Command, CommanderError } from "commander";
import { ConfigurationError, describeError, InvalidInputError, RestorableError } from "../shared/errors";
import { registerAlerts } from "./commands/alerts";
import { registerBackupCommands } from "./commands/backup";
import { registerBucketCommands } from "./commands/bucket";
import { registerCatalogCommands } from "./commands/catalog";
import { registerDrillCommands } from "./commands/drill";
import { registerIngestCommands } from "./commands/ingest";
import { registerKeyCommands } from "./commands/key";
import { registerPush } from "./commands/push";
import { registerResticCommands } from "./commands/restic";
import { registerRestore } from "./commands/restore";
import { registerRetentionCommands } from "./commands/retention";
import { registerSourcesCommands } from "./commands/sources";
import { USAGE_EXIT_CODE } from "./context";
import { PROGRAM_VERSION } from "./version";

/**
 * Every command a backup host or an operator runs: all but `local`, which starts the local stack from a
 * checkout (the emulator, the CDK app). The host bundle (cli/host.ts, dist/restorable-host.mjs) is this;
 * cli/main.ts adds `local`. Errors throw a CommanderError instead of exiting, in every subcommand:
 * `exitOverride` and `showHelpAfterError` are set before the subcommands are added, which inherit them.
 */
export function buildHostProgram(): Command {
  const program = new Command("restorable")
    .description("Backup catalog, retention and restore drills for pg_dump sets and restic snapshots on AWS")
    .version(PROGRAM_VERSION)
    .option("--stack <name>", "read the deployment from this CloudFormation stack's outputs")
    .option("--bucket <name>", "backup bucket (default: RESTORABLE_BUCKET, the local stack, or the stack's output)")
    .option("--table <name>", "catalog table (default: RESTORABLE_TABLE, the local stack, or the stack's output)")
    .option("--region <region>", "AWS region (default: RESTORABLE_REGION or AWS_REGION)")
    .option("--endpoint <url>", "AWS endpoint, for an emulator (default: RESTORABLE_ENDPOINT or the local stack)")
    .exitOverride()
    .showHelpAfterError()
    .addHelpText(
      "after",
      "\nThe deployment is found from flags, then RESTORABLE_* variables, then .restorable/local.json\n" +
        "(written by `npm start`), then the outputs of the CloudFormation stack (--stack, default Restorable).",
    );
  registerPush(program);
  registerRestore(program);
  registerBackupCommands(program);
  registerCatalogCommands(program);
  registerResticCommands(program);
  registerRetentionCommands(program);
  registerDrillCommands(program);
  registerSourcesCommands(program);
  registerIngestCommands(program);
  registerAlerts(program);
  registerBucketCommands(program);
  registerKeyCommands(program);
  return program;
}

/** Commander's errors about the command line itself, which exit 2 as usage errors conventionally do. */
const USAGE_ERRORS = new Set([
  "commander.unknownOption",
  "commander.unknownCommand",
  "commander.missingMandatoryOptionValue",
  "commander.optionMissingArgument",
  "commander.missingArgument",
  "commander.invalidArgument",
  "commander.excessArguments",
  "commander.conflictingOption",
  // A command group given without its subcommand: commander shows the group's help on stderr.
  "commander.help",
]);

/** The exit code for an error commander raised: 0 after --help and --version, 2 for a bad command line. */
export function commanderExitCode(error: CommanderError): number {
  if (error.exitCode === 0) return 0;
  return USAGE_ERRORS.has(error.code) ? USAGE_EXIT_CODE : error.exitCode;
}

/** Runs a command tree on argv (as process.argv: node, script, arguments…) and returns the exit code. */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    // A command that found something wrong (a failed verification, say) sets the exit code itself.
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExitCode(error);
    process.stderr.write(`restorable: ${describeError(error)}\n`);
    if (error instanceof ConfigurationError || error instanceof InvalidInputError) return 2;
    if (!(error instanceof RestorableError) && process.env.RESTORABLE_DEBUG) console.error(error);
    return 1;
  }
}

/** The process's whole life as the `restorable` command: run the tree on process.argv, exit with its code. */
export async function runCommandLine(build: () => Command): Promise<void> {
  // `restorable catalog list | head` closes stdout early; that is the reader's choice, not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.exitCode = await runProgram(build(), process.argv);
}
