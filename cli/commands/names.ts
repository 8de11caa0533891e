import type { CatalogStore } from "../../shared/catalog/store";
import { InvalidInputError } from "../../shared/errors";
import { warn } from "../output/format";

/**
 * Source and repository names as users type them: a name that matches nothing is said so, with the closest
 * existing names (`did you mean codebolt-prod?`), instead of passing for an empty result.
 */

/** The restic repository a restic source belongs to: sources are named `restic:<repository> <group>`. */
export function repositoryOfSource(source: string): string | undefined {
  return /^restic:([^\s]+)(?:\s|$)/.exec(source)?.[1];
}

/** Levenshtein distance, case-insensitive. */
export function editDistance(a: string, b: string): number {
  const left = a.toLowerCase();
  const right = b.toLowerCase();
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let i = 1; i <= left.length; i++) {
    const current = [i];
    for (let j = 1; j <= right.length; j++) {
      const substitution = (previous[j - 1] as number) + (left[i - 1] === right[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length] as number;
}

/** The existing names closest to `name`, best first: a few edits away, or containing it (or contained in it). */
export function closestNames(name: string, candidates: readonly string[], limit = 3): string[] {
  const threshold = Math.max(2, Math.floor(name.length / 3));
  const lower = name.toLowerCase();
  return [...new Set(candidates)]
    .filter((candidate) => candidate !== name)
    .map((candidate) => {
      const other = candidate.toLowerCase();
      // "codebolt" for "codebolt-prod": many edits away, but plainly meant.
      const contains = lower.length >= 3 && (other.includes(lower) || lower.includes(other));
      return { candidate, distance: contains ? 1 : editDistance(name, candidate) };
    })
    .filter(({ distance }) => distance <= threshold)
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, limit)
    .map(({ candidate }) => candidate);
}

/** `did you mean a or b?`, or where to look when nothing is close. */
export function didYouMean(name: string, candidates: readonly string[], otherwise: string): string {
  const close = closestNames(name, candidates);
  if (close.length === 0) return otherwise;
  const quoted = close.map((candidate) => (/\s/.test(candidate) ? `'${candidate}'` : candidate));
  return `did you mean ${quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`}?`;
}

/** What the name checks read: the catalog's source listing and the registered repositories (listings, no scan). */
export type SourceListing = Pick<CatalogStore, "listSources">;
export interface RepositoryListing {
  list(): Promise<{ name: string }[]>;
}

/** Why a source name matches nothing, with the closest sources the catalog has. */
export async function unknownSourceMessage(sources: SourceListing, source: string): Promise<string> {
  const names = (await sources.listSources()).map((entry) => entry.source);
  return `no backups of source ${source} in the catalog; ${didYouMean(source, names, "restorable catalog list shows the sources")}`;
}

/** Warns on stderr (stdout stays what scripts read) that a source has no backups, naming the closest ones. */
export async function warnUnknownSource(sources: SourceListing, source: string): Promise<void> {
  warn(await unknownSourceMessage(sources, source));
}

/** Whether the catalog has any backup of the source. */
export async function sourceExists(catalog: Pick<CatalogStore, "listBySource">, source: string): Promise<boolean> {
  return (await catalog.listBySource(source, { limit: 1 })).length > 0;
}

export class UnknownRepositoryError extends InvalidInputError {}

/**
 * Why a repository name matches no registered repository, with the closest registered ones; `register` adds
 * how to register it (for commands that need it registered). undefined when it is registered.
 */
export async function unknownRepositoryMessage(
  repositories: RepositoryListing,
  repository: string,
  options: { register?: boolean } = {},
): Promise<string | undefined> {
  const registered = (await repositories.list()).map((entry) => entry.name);
  if (registered.includes(repository)) return undefined;
  const addRepo = `restorable restic add-repo ${repository} --password-file <file>`;
  const unknown = `no restic repository named ${repository} is registered`;
  if (registered.length === 0) return `${unknown} (none is yet): register it with ${addRepo}`;
  const hint = didYouMean(repository, registered, "restorable restic list-repos shows them");
  return `${unknown}; ${hint}${options.register ? ` (a new one is registered with ${addRepo})` : ""}`;
}

/** Refuses (exit 2) a repository name that is not registered, naming the closest registered ones. */
export async function requireRegisteredRepository(repositories: RepositoryListing, repository: string): Promise<void> {
  const message = await unknownRepositoryMessage(repositories, repository, { register: true });
  if (message) throw new UnknownRepositoryError("unknown-repository", message);
}

/** Warns on stderr when a repository name matches no registered repository. */
export async function warnUnknownRepository(repositories: RepositoryListing, repository: string): Promise<void> {
  const message = await unknownRepositoryMessage(repositories, repository);
  if (message) warn(message);
}

/** Every source of a restic repository in the catalog (one listing, no scan). */
export async function sourcesOfRepository(sources: SourceListing, repository: string): Promise<string[]> {
  return (await sources.listSources())
    .filter((entry) => entry.kind === "restic" && repositoryOfSource(entry.source) === repository)
    .map((entry) => entry.source);
}
