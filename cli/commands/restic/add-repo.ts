import { type Command, Option } from "commander";
import type { GroupByField } from "../../../shared/restic/repository";
import { groupByArgument, positiveInteger } from "../../context";
import { printJson } from "../../output/format";
import { printAddedRepository } from "../../output/restic";
import { resticServicesFor } from "../../services";

interface AddRepoOptions {
  passwordFile: string;
  groupBy: GroupByField[];
  verifySlices: number;
  check: boolean;
  json?: boolean;
}

export function registerResticAddRepo(restic: Command): void {
  restic
    .command("add-repo")
    .description(
      "Register a restic repository: stores its password in Secrets Manager and prints the -r URL for restic",
    )
    .argument("<name>", "repository name, e.g. workspaces")
    .requiredOption(
      "--password-file <file>",
      "file holding the repository password (read as restic reads --password-file)",
    )
    .addOption(
      new Option("--group-by <fields>", "how snapshots form sources, as restic's --group-by")
        .argParser(groupByArgument)
        .default(["host", "tags"], "host,tags"),
    )
    .option("--verify-slices <n>", "the verifier covers the repository once every n runs", positiveInteger, 30)
    .option("--no-check", "store the password without checking that it opens the repository's keys")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nThe password is stored in the secret restorable/<bucket>/restic/<name>. Then, on the hosts, with the\n" +
        "environment it prints (the region; credentials: placeholders for the local stack, the host's own on AWS):\n" +
        "  restic -r <printed URL> init      (or point existing backups at it)\n  restic -r <printed URL> backup ...\n" +
        "Workspaces using the Coder restic module: set auto_forget = false (hosts cannot forget, by design) and\n" +
        "keep their retention here: restorable retention set-policy --repo <name> --keep-…",
    )
    .action(addRepo);
}

async function addRepo(name: string, options: AddRepoOptions, command: Command): Promise<void> {
  const { deployment, clients } = await resticServicesFor(command);
  const { addRepository, readPasswordFile } = await import("../../operator/restic-repositories");
  const { resticEnvironment } = await import("../../operator/restic-environment");
  const repository = {
    name,
    password: await readPasswordFile(options.passwordFile),
    groupBy: options.groupBy,
    verifySlices: options.verifySlices,
    check: options.check,
  };
  const added = await addRepository(repository, deployment, clients, new Date());
  const { env, credentials } = resticEnvironment(added.repository.name, deployment);
  if (options.json) {
    const { repository, url, created, passwordCheck, backfilled } = added;
    return printJson({ repository, url, created, passwordCheck, backfilled, env, credentials });
  }
  printAddedRepository(name, added, { env, credentials });
}
