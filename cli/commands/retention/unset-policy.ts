import type { Command } from "commander";
import type { Catalog } from "../../../shared/catalog/dynamo/open";
import { InvalidInputError } from "../../../shared/errors";
import type { SettingsScope } from "../../../shared/retention/settings";
import { usageError } from "../../context";
import { printJson } from "../../output/format";
import { shellQuote } from "../../output/retention";
import { servicesFor } from "../../services";
import { sourceExists, unknownRepositoryMessage, unknownSourceMessage } from "../names";

export function registerRetentionUnsetPolicy(retention: Command): void {
  retention
    .command("unset-policy")
    .description("Remove the retention policy set for a source or a restic repository; the next one down applies again")
    .option("--source <name>", "the source")
    .option("--repo <name>", "the restic repository")
    .option("--json", "print JSON for scripts")
    .action(unsetPolicy);
}

async function unsetPolicy(options: { source?: string; repo?: string; json?: boolean }, command: Command) {
  if (Boolean(options.source) === Boolean(options.repo)) usageError(command, "give exactly one of --source and --repo");
  const scope: SettingsScope = options.source
    ? { kind: "source", source: options.source }
    : { kind: "repository", repository: options.repo as string };
  const { catalog } = await servicesFor(command);
  // No check that the name exists: a policy stored for a mistyped name is exactly what this removes.
  const removed = await catalog.retention.deleteSettings(scope);
  if (!removed) throw new InvalidInputError("no-policy", await nothingSetMessage(catalog, scope));
  const { resticFlagsOf } = await import("../../../shared/retention/policy");
  const flags = resticFlagsOf(removed.policy);
  if (options.json) return printJson({ scope, removed });
  const [what, option] =
    scope.kind === "source" ? [`source ${scope.source}`, "--source"] : [`repository ${scope.repository}`, "--repo"];
  const name = scope.kind === "source" ? scope.source : scope.repository;
  console.log(`Removed the retention policy of ${what} (${flags.join(" ")}).`);
  console.log(`What applies now: restorable retention show-policy ${option} ${shellQuote(name)}`);
}

/** Nothing was set for that name: say so, with the closest names that exist. */
async function nothingSetMessage(catalog: Catalog, scope: SettingsScope): Promise<string> {
  if (scope.kind === "repository") {
    const unknown = await unknownRepositoryMessage(catalog.repositories, scope.repository);
    return `no retention policy is set for repository ${scope.repository}${unknown ? `; ${unknown}` : ""}`;
  }
  const known = await sourceExists(catalog.backups, scope.source);
  const unknown = known ? "" : `; ${await unknownSourceMessage(catalog.backups, scope.source)}`;
  return `no retention policy is set for source ${scope.source}${unknown}`;
}
