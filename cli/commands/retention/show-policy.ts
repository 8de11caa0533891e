import type { Command } from "commander";
import { usageError } from "../../context";
import { printJson } from "../../output/format";
import { printPolicy, printRepositoryPolicy, type RepositoryPolicy, type ShownPolicy } from "../../output/retention";
import { sourcesOfRepository, warnUnknownRepository } from "../names";
import { type RetentionServices, retentionFor, type SourceScope, warnIfNoBackups } from "./dependencies";

export function registerRetentionShowPolicy(retention: Command): void {
  retention
    .command("show-policy")
    .description("Show the retention that applies to a source, or a restic repository's policy and its sources")
    .option("--source <name>", "the source")
    .option("--repo <name>", "the restic repository: its own policy, and what each of its sources gets")
    .option("--json", "print JSON for scripts")
    .action(showPolicy);
}

async function showPolicy(options: SourceScope & { json?: boolean }, command: Command): Promise<void> {
  if (Boolean(options.source) === Boolean(options.repo)) usageError(command, "give exactly one of --source and --repo");
  const services = await retentionFor(command);
  if (options.repo) return showRepositoryPolicy(options.repo, services, options.json);
  const shown = await policyOf(options.source as string, services);
  await warnIfNoBackups(services, options.source as string, shown.entries.length);
  const { plan, origin, policyFlags } = shown;
  const policy = plan.status === "NO_POLICY" ? null : plan.policy;
  if (options.json) return printJson({ source: plan.source, policy, policyFlags, origin, floors: plan.floors });
  printPolicy(shown);
}

/** The policy that applies to the source (from its plan: NO_POLICY means none), as restic flags. */
async function policyOf(source: string, services: RetentionServices): Promise<ShownPolicy> {
  const { planFromCatalog } = await import("../../../shared/retention/apply");
  const { resticFlagsOf } = await import("../../../shared/retention/policy");
  const { plan, origin, entries } = await planFromCatalog(source, services.deps);
  const policyFlags = plan.status === "NO_POLICY" ? [] : resticFlagsOf(plan.policy);
  return { plan, origin, entries, policyFlags };
}

async function showRepositoryPolicy(
  repository: string,
  services: RetentionServices,
  json: boolean | undefined,
): Promise<void> {
  await warnUnknownRepository(services.catalog.repositories, repository);
  const shown = await repositoryPolicyOf(repository, services);
  if (json) return printJson(shown);
  printRepositoryPolicy(shown);
}

/** The repository's own policy, and for each of its sources whether it gets that one or its own. */
async function repositoryPolicyOf(repository: string, services: RetentionServices): Promise<RepositoryPolicy> {
  const { resticFlagsOf } = await import("../../../shared/retention/policy");
  const { effectiveFloors } = await import("../../../shared/retention/settings");
  const store = services.catalog.retention;
  const settings = await store.getSettings({ kind: "repository", repository });
  const sources = [];
  for (const source of await sourcesOfRepository(services.catalog.backups, repository)) {
    const own = await store.getSettings({ kind: "source", source });
    const applied = own ?? settings;
    sources.push({
      source,
      origin: own ? ("source" as const) : settings ? ("repository" as const) : ("none" as const),
      policyFlags: applied ? resticFlagsOf(applied.policy) : [],
    });
  }
  return {
    repository,
    policy: settings?.policy ?? null,
    policyFlags: settings ? resticFlagsOf(settings.policy) : [],
    floors: effectiveFloors(settings ?? { policy: {}, floors: {} }),
    sources,
  };
}
