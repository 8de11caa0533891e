import type { Command } from "commander";
import type { Catalog } from "../../../shared/catalog/dynamo/open";
import type { RetentionDependencies } from "../../../shared/retention/apply";
import { deploymentFor, usageError } from "../../context";
import { warn } from "../../output/format";
import { catalogOf } from "../../services";
import { sourceExists, sourcesOfRepository, warnUnknownRepository, warnUnknownSource } from "../names";

/** The same retention dependencies the scheduled Lambda uses, with the operator's credentials, and the catalog. */
export interface RetentionServices {
  deps: RetentionDependencies;
  /** The whole catalog, for what retention itself never reads (the registered repositories, say). */
  catalog: Catalog;
}

export async function retentionFor(command: Command): Promise<RetentionServices> {
  const deployment = await deploymentFor(command);
  const { operatorRetention } = await import("../../operator/retention");
  return { deps: await operatorRetention(deployment), catalog: await catalogOf(deployment) };
}

/** Which sources a retention command works on: one, every source of a restic repository, or every source. */
export interface SourceScope {
  source?: string;
  repo?: string;
}

/** At most one of --source and --repo (a usage error otherwise, exit 2). */
export function refuseBothScopes(command: Command, scope: SourceScope): void {
  if (scope.source && scope.repo) usageError(command, "give --source or --repo, not both");
}

/**
 * The sources the scope names. A repository that is not registered, or has no sources yet, is said on stderr
 * with the closest registered names (stdout stays the plan, for scripts): a typo must not pass for an empty
 * plan. A single source is returned as given: the caller sees from its entries whether it has backups
 * ({@link warnIfNoBackups}), without querying the catalog twice.
 */
export async function sourcesOf(services: RetentionServices, scope: SourceScope): Promise<string[]> {
  const { catalog } = services;
  if (scope.source) return [scope.source];
  if (scope.repo) {
    await warnUnknownRepository(catalog.repositories, scope.repo);
    const sources = await sourcesOfRepository(catalog.backups, scope.repo);
    if (sources.length === 0) warn(`no snapshots of restic repository ${scope.repo} in the catalog yet`);
    return sources;
  }
  return (await catalog.backups.listSources()).map((entry) => entry.source);
}

/** Says on stderr, with the closest existing sources, that the source given has no backups. */
export async function warnIfNoBackups(services: RetentionServices, source: string, entries: number): Promise<void> {
  if (entries === 0) await warnUnknownSource(services.catalog.backups, source);
}

/** Whether the catalog has a backup of the source; says so on stderr, with the closest sources, when not. */
export async function checkSourceHasBackups(services: RetentionServices, source: string): Promise<void> {
  if (!(await sourceExists(services.catalog.backups, source)))
    await warnUnknownSource(services.catalog.backups, source);
}
