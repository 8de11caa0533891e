import type { Command } from "commander";
import { plural, printJson } from "../../output/format";
import { resticServicesFor } from "../../services";

interface SetPasswordOptions {
  passwordFile: string;
  reindex: boolean;
  check: boolean;
  json?: boolean;
}

export function registerResticSetPassword(restic: Command): void {
  restic
    .command("set-password")
    .description("Replace a repository's password in Secrets Manager, then re-index its snapshots")
    .argument("<name>", "repository name")
    .requiredOption("--password-file <file>", "file holding the repository password")
    .option("--no-reindex", "only store the password")
    .option("--no-check", "store the password without checking that it opens the repository's keys")
    .option("--json", "print JSON for scripts")
    .action(setPassword);
}

async function setPassword(name: string, options: SetPasswordOptions, command: Command): Promise<void> {
  const { deployment, clients } = await resticServicesFor(command);
  const { readPasswordFile, reindexRepository, setRepositoryPassword } = await import(
    "../../operator/restic-repositories"
  );
  const password = await readPasswordFile(options.passwordFile);
  const repository = await setRepositoryPassword(name, password, deployment, clients, { check: options.check });
  if (!options.json) console.log(`Stored the new password of ${name} in ${repository.secretName}.`);
  const queued = options.reindex ? await reindexRepository(name, deployment, clients) : null;
  if (options.json) return printJson({ repository: name, secretName: repository.secretName, queued });
  if (queued !== null) console.log(`Queued ${plural(queued, "snapshot file")} for re-indexing.`);
}
