import type { Command } from "commander";
import { printJson } from "../../output/format";
import { printRepositories } from "../../output/restic";
import { servicesFor } from "../../services";

export function registerResticListRepos(restic: Command): void {
  restic
    .command("list-repos")
    .description("List registered repositories with their health and verification coverage")
    .option("--json", "print JSON for scripts")
    .action(listRepos);
}

async function listRepos(options: { json?: boolean }, command: Command): Promise<void> {
  const { deployment, catalog } = await servicesFor(command);
  const { repositoryUrl } = await import("../../operator/restic-repositories");
  const repositories = (await catalog.repositories.list()).map((repository) => ({
    ...repository,
    url: repositoryUrl(repository.name, deployment),
  }));
  if (options.json) return printJson({ repositories });
  printRepositories(repositories);
}
