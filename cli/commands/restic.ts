import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import type { GroupByField } from "../../shared/restic/repository";
import { dynamoClient, s3Client, secretsClient, sqsClient } from "../aws";
import { deploymentFor, positiveInteger } from "../context";
import type { OperatorClients } from "../operator/restic-repositories";
import { printJson, printTable, shortTime } from "../output";

export function groupByArgument(value: string): GroupByField[] {
  const fields = value === "" ? [] : value.split(",").map((field) => field.trim());
  for (const field of fields) {
    if (!["host", "paths", "tags"].includes(field))
      throw new InvalidArgumentError("group by host, paths and/or tags, comma-separated");
  }
  return fields as GroupByField[];
}

export function registerResticCommands(program: Command): void {
  const restic = program
    .command("restic")
    .description("Restic repositories in the backup bucket: registered here, written by plain restic on the hosts");

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
    .option("--group-by <fields>", "how snapshots form sources, as restic's --group-by", groupByArgument, [
      "host",
      "tags",
    ])
    .option("--verify-slices <n>", "the verifier covers the repository once every n runs", positiveInteger, 30)
    .option("--no-check", "store the password without checking that it opens the repository's keys")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nThe password is stored in the secret restorable/<bucket>/restic/<name>. Then, on the hosts:\n" +
        "  restic -r <printed URL> init      (or point existing backups at it)\n  restic -r <printed URL> backup ...",
    )
    .action(
      async (
        name: string,
        options: {
          passwordFile: string;
          groupBy: GroupByField[];
          verifySlices: number;
          check: boolean;
          json?: boolean;
        },
        command: Command,
      ) => {
        const deployment = await deploymentFor(command);
        const { addRepository, readPasswordFile } = await import("../operator/restic-repositories");
        const added = await addRepository(
          {
            name,
            password: await readPasswordFile(options.passwordFile),
            groupBy: options.groupBy,
            verifySlices: options.verifySlices,
            check: options.check,
          },
          deployment,
          await operatorClients(deployment.table),
          new Date(),
        );
        if (options.json) {
          const { repository, url, created, passwordCheck } = added;
          return printJson({ repository, url, created, passwordCheck });
        }
        console.log(
          `${added.created ? "Registered" : "Updated"} restic repository ${name}; its password is in the secret ${added.repository.secretName}.`,
        );
        if (added.passwordCheck === "opens") console.log("The password opens the repository's keys.");
        const init = added.passwordCheck === "not-initialised" ? `  restic -r ${added.url} init\n` : "";
        console.log(
          `\nGive restic this repository:\n${init}  restic -r ${added.url} ...\n  export RESTIC_REPOSITORY=${added.url}`,
        );
      },
    );

  restic
    .command("set-password")
    .description("Replace a repository's password in Secrets Manager, then re-index its snapshots")
    .argument("<name>", "repository name")
    .requiredOption("--password-file <file>", "file holding the repository password")
    .option("--no-reindex", "only store the password")
    .option("--no-check", "store the password without checking that it opens the repository's keys")
    .action(
      async (name: string, options: { passwordFile: string; reindex: boolean; check: boolean }, command: Command) => {
        const deployment = await deploymentFor(command);
        const { readPasswordFile, reindexRepository, setRepositoryPassword } = await import(
          "../operator/restic-repositories"
        );
        const clients = await operatorClients(deployment.table);
        const password = await readPasswordFile(options.passwordFile);
        const repository = await setRepositoryPassword(name, password, deployment, clients, { check: options.check });
        console.log(`Stored the new password of ${name} in ${repository.secretName}.`);
        if (options.reindex) {
          const count = await reindexRepository(name, deployment, clients);
          console.log(`Queued ${count} snapshot file${count === 1 ? "" : "s"} for re-indexing.`);
        }
      },
    );

  restic
    .command("reindex")
    .description("Hand every snapshot file of a repository to the indexer again (after fixing its password)")
    .argument("<name>", "repository name")
    .action(async (name: string, _options: unknown, command: Command) => {
      const deployment = await deploymentFor(command);
      const { reindexRepository } = await import("../operator/restic-repositories");
      const count = await reindexRepository(name, deployment, await operatorClients(deployment.table));
      console.log(`Queued ${count} snapshot file${count === 1 ? "" : "s"} of ${name} for re-indexing.`);
    });

  restic
    .command("list-repos")
    .description("List registered repositories with their health and verification coverage")
    .option("--json", "print JSON for scripts")
    .action(async (options: { json?: boolean }, command: Command) => {
      const deployment = await deploymentFor(command);
      const { repositoryUrl } = await import("../operator/restic-repositories");
      const repositories = await (await operatorClients(deployment.table)).repositories.list();
      const rows = repositories.map((repository) => ({
        ...repository,
        url: repositoryUrl(repository.name, deployment),
      }));
      if (options.json) return printJson({ repositories: rows });
      if (rows.length === 0)
        return console.log(
          "No restic repository is registered: restorable restic add-repo <name> --password-file <file>",
        );
      printTable(
        ["NAME", "READABLE", "VERIFIED", "INTEGRITY", "GROUP BY", "URL"],
        rows.map((r) => [
          r.name,
          r.health ? `${r.health.status}${r.health.reason ? ` (${r.health.reason})` : ""}` : "no snapshot yet",
          verifiedSummary(r),
          integritySummary(r),
          r.groupBy.join(",") || "-",
          r.url,
        ]),
      );
    });

  restic
    .command("verify")
    .description("Verify the next slice of a repository now (what the scheduled verifier does), without its password")
    .argument("<name>", "repository name")
    .option("--all", "verify every slice, i.e. the whole repository")
    .option("--json", "print JSON for scripts")
    .action(async (name: string, options: { all?: boolean; json?: boolean }, command: Command) => {
      const deployment = await deploymentFor(command);
      const { verifyNextSlice } = await import("../../shared/restic/verifier");
      const { requireRepository } = await import("../operator/restic-repositories");
      const clients = await operatorClients(deployment.table);
      const runs = options.all ? (await requireRepository(name, clients)).verifySlices : 1;
      const reports = [];
      for (let run = 0; run < runs; run++) {
        reports.push(
          await verifyNextSlice(name, {
            s3: clients.s3,
            bucket: deployment.bucket,
            repositories: clients.repositories,
            log: { debug() {}, info() {}, warn() {}, error() {} },
            now: () => new Date(),
          }),
        );
      }
      const last = reports[reports.length - 1];
      if (options.json) return printJson({ reports });
      const checked = reports.reduce((sum, report) => sum + report.objectsChecked, 0);
      console.log(
        `Checked ${checked} file${checked === 1 ? "" : "s"} in ${reports.length} slice${reports.length === 1 ? "" : "s"}.`,
      );
      if (last) {
        console.log(
          `Coverage: ${last.slicesCovered} of ${last.slices} slices${last.fullyVerifiedSince ? `, whole repository verified since ${shortTime(last.fullyVerifiedSince)}` : ""}.`,
        );
        if (last.openMismatches.length > 0) {
          console.log(`\n${last.openMismatches.length} file(s) do not hash to their name:`);
          for (const key of last.openMismatches) console.log(`  ${key}`);
          process.exitCode = 1;
        } else {
          console.log("Every file checked hashes to its name.");
        }
      }
    });
}

function verifiedSummary(repository: {
  verifySlices: number;
  verification: { sliceCheckedAt: Record<string, string> } | null;
}): string {
  const covered = Object.keys(repository.verification?.sliceCheckedAt ?? {}).length;
  return `${covered}/${repository.verifySlices} slices`;
}

function integritySummary(repository: { verification: { openMismatches: Record<string, string> } | null }): string {
  const mismatches = Object.keys(repository.verification?.openMismatches ?? {}).length;
  if (!repository.verification) return "not verified yet";
  return mismatches === 0
    ? "OK"
    : `CORRUPT: ${mismatches} file${mismatches === 1 ? " does" : "s do"} not hash to their name`;
}

async function operatorClients(table: string): Promise<OperatorClients> {
  const { DynamoRepositoryStore } = await import("../../shared/catalog/dynamo/repository-store");
  return {
    s3: await s3Client(),
    secrets: await secretsClient(),
    repositories: new DynamoRepositoryStore(await dynamoClient(), table),
    sqs: await sqsClient(),
  };
}
