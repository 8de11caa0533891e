import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { isMissingObject } from "../aws/s3-errors";
import type { AlertStore } from "../catalog/alerts";
import type { BackupEntry } from "../catalog/entry";
import type { CatalogStore } from "../catalog/store";
import { planKey, setPrefix } from "../contracts/layout";
import { releaseAllVersions } from "../dumpset/release";
import { describeError } from "../errors";
import type { Log } from "../log";
import { forgetSnapshots, RepositoryLockedError } from "../restic/forget";
import type { MasterKeyCache } from "../restic/key-cache";
import type { PasswordSource, RepositoryStore } from "../restic/ports";
import { repositoryKeyFiles } from "../restic/s3-repository";
import type { GroupBy, RetentionPolicy } from "./policy";
import type { RetentionStore } from "./ports";
import { defaultSettingsFor, effectiveFloors, type RetentionSettings, type SettingsOrigin } from "./settings";
import { diffPlans, type PlanDiff, planSource, type SourcePlan } from "./source-plan";

export interface RetentionDependencies {
  s3: S3Client;
  bucket: string;
  catalog: CatalogStore;
  retention: Pick<RetentionStore, "getSettings" | "lastPlan" | "recordPlan">;
  alerts: Pick<AlertStore, "raise">;
  repositories: Pick<RepositoryStore, "get" | "requestPrune">;
  passwords: PasswordSource;
  keys: MasterKeyCache;
  /** The newest backup of a source whose restore drill passed; no drills yet means none. */
  drills?: { newestPassed(source: string): Promise<string | null> };
  log: Log;
  now: () => Date;
  /** Who holds the restic locks retention writes. */
  holder: { hostname: string; username: string; pid: number };
}

/** A stored plan: the plan, and what applying it did. */
export interface StoredPlan extends SourcePlan {
  outcome: {
    removed: string[];
    /** Backups planned for removal that this run could not remove, with why; the next run tries again. */
    postponed: { id: string; reason: string }[];
  };
}

export interface PlanOverrides {
  /** Try a policy without storing it (`retention plan --keep-daily 7`). */
  policy?: RetentionPolicy;
  /** false shows the bare policy (`--no-safety-floors`). */
  floors?: boolean;
}

export interface PlannedSource {
  plan: SourcePlan;
  previous: StoredPlan | undefined;
  diff: PlanDiff;
  /** The source's catalog entries the plan was made from. */
  entries: BackupEntry[];
  /** Where the policy and floors came from (overrides aside). */
  origin: SettingsOrigin;
}

/** Plans one source from the catalog, without changing anything. */
export async function planFromCatalog(
  source: string,
  deps: RetentionDependencies,
  overrides: PlanOverrides = {},
): Promise<PlannedSource> {
  const entries = await deps.catalog.listBySource(source, { limit: Number.MAX_SAFE_INTEGER });
  const kind = entries[0]?.kind ?? "dumpset";
  const { settings, origin } = await settingsFor(source, entries, deps);
  const policy = overrides.policy ?? settings?.policy;
  const floors = overrides.floors === false ? null : effectiveFloors(settings ?? { policy: {}, floors: {} });
  const plan = planSource({
    source,
    kind,
    entries,
    policy,
    floors,
    newestDrillPassed: (await deps.drills?.newestPassed(source)) ?? null,
    now: deps.now(),
  });
  const previous = await readLastPlan(source, deps);
  return { plan, previous, diff: diffPlans(previous, plan), entries, origin };
}

/**
 * A dry run over a whole restic repository grouped as restic's `--group-by` would (host, paths,
 * tags), rather than by the sources the catalog keeps: what `restic forget --group-by …` on the
 * repository would do, plus the floors. Never applied; sources are what retention applies to.
 */
export async function planRepository(
  repository: string,
  groupBy: GroupBy,
  deps: RetentionDependencies,
  overrides: PlanOverrides = {},
): Promise<SourcePlan[]> {
  const entries = await deps.catalog.listByRepository(repository, { limit: Number.MAX_SAFE_INTEGER });
  const settings =
    (await deps.retention.getSettings({ kind: "repository", repository })) ?? defaultSettingsFor("restic");
  const policy = overrides.policy ?? settings?.policy;
  const floors = overrides.floors === false ? null : effectiveFloors(settings ?? { policy: {}, floors: {} });
  const groups = new Map<string, BackupEntry[]>();
  for (const entry of entries) {
    if (entry.kind !== "restic") continue;
    const key = [
      groupBy.host ? `host [${entry.hostname ?? ""}]` : "",
      groupBy.paths ? `paths [${[...entry.paths].sort().join(", ")}]` : "",
      groupBy.tags ? `tags [${[...entry.tags].sort().join(", ")}]` : "",
    ]
      .filter((part) => part !== "")
      .join(" ");
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, members]) =>
      planSource({
        source: `restic:${repository}${key ? ` ${key}` : ""}`,
        kind: "restic",
        entries: members,
        policy,
        floors,
        now: deps.now(),
      }),
    );
}

/**
 * Plans and applies retention for one source: dump sets lose their objects (the versioned bucket
 * keeps noncurrent versions until lifecycle expires them) and become REMOVED; restic snapshots are
 * forgotten in their repository under restic's lock protocol and become FORGOTTEN. A refused run
 * removes nothing and raises an alert. Every applied or refused plan is stored; a source without a
 * policy (or with one that has no rule) is returned as NO_POLICY, not stored, and nothing is removed.
 */
export async function applyRetention(source: string, deps: RetentionDependencies): Promise<StoredPlan> {
  const { plan, entries } = await planFromCatalog(source, deps);
  const stored: StoredPlan = { ...plan, outcome: { removed: [], postponed: [] } };
  // Nothing judged, nothing stored; a stored policy without a rule (as an older version could write) says so.
  if (plan.status === "NO_POLICY") {
    if (plan.policy && Object.keys(plan.policy).length > 0) {
      deps.log.warn("retention policy has no rule; nothing is removed", { source, reason: plan.refusal });
    }
    return stored;
  }
  if (plan.status === "REFUSED") {
    await deps.alerts.raise(
      {
        kind: "retention-refused",
        subject: source,
        message: `retention refused for ${source}: ${plan.refusal}`,
        details: { planned: plan.remove.length, kept: plan.keep.length, policy: plan.policy },
      },
      deps.now(),
    );
    deps.log.warn("retention refused by the circuit breaker", { source, refusal: plan.refusal });
  } else if (plan.remove.length > 0) {
    const byId = new Map(entries.map((entry) => [entry.id, entry]));
    const removals = plan.remove.flatMap((item) => byId.get(item.id) ?? []);
    if (plan.kind === "dumpset") await removeDumpSets(removals, stored, deps);
    else await forgetResticSnapshots(removals, stored, deps);
  }
  await storePlan(stored, deps);
  return stored;
}

async function removeDumpSets(entries: BackupEntry[], stored: StoredPlan, deps: RetentionDependencies): Promise<void> {
  for (const entry of entries) {
    if (entry.kind !== "dumpset") continue;
    try {
      // The manifest first: once it is gone, nobody takes the set for complete while its parts go.
      await deleteKeys(deps.s3, deps.bucket, [entry.manifestKey]);
      // Pinned versions never expire while their set is kept; once removed, every version may, after the grace.
      await releaseAllVersions(deps.s3, deps.bucket, setPrefix(entry.source, entry.id));
      await deleteKeys(
        deps.s3,
        deps.bucket,
        entry.components.map((component) => component.key),
      );
      await deps.catalog.setStatus(
        entry.id,
        "REMOVED",
        `removed by retention (plan of ${stored.plannedAt}): not kept by the policy`,
        deps.now(),
      );
      stored.outcome.removed.push(entry.id);
    } catch (error) {
      stored.outcome.postponed.push({ id: entry.id, reason: describeError(error) });
      deps.log.error("could not remove a dump set", { id: entry.id, error: describeError(error) });
    }
  }
}

async function forgetResticSnapshots(
  entries: BackupEntry[],
  stored: StoredPlan,
  deps: RetentionDependencies,
): Promise<void> {
  const byRepository = new Map<string, string[]>();
  for (const entry of entries) {
    if (entry.kind !== "restic") continue;
    byRepository.set(entry.repository, [...(byRepository.get(entry.repository) ?? []), entry.id]);
  }
  for (const [name, ids] of byRepository) {
    const postpone = (reason: string) => stored.outcome.postponed.push(...ids.map((id) => ({ id, reason })));
    const repository = await deps.repositories.get(name);
    const password = repository ? await deps.passwords.get(repository) : undefined;
    if (!repository || password === undefined) {
      postpone(`no password for repository ${name}`);
      continue;
    }
    try {
      const key = await deps.keys.open(name, password, () => repositoryKeyFiles(deps.s3, deps.bucket, name));
      const forgotten = await forgetSnapshots({
        s3: deps.s3,
        bucket: deps.bucket,
        repository: name,
        key,
        snapshotIds: ids,
        now: deps.now,
        holder: deps.holder,
      });
      for (const id of forgotten) {
        await deps.catalog.setStatus(
          id,
          "FORGOTTEN",
          `forgotten by retention (plan of ${stored.plannedAt}): not kept by the policy`,
          deps.now(),
          {
            forgottenAt: deps.now().toISOString(),
          },
        );
        stored.outcome.removed.push(id);
      }
      // Forget leaves the snapshots' data in the repository: the drill runner's prune job removes it.
      if (forgotten.length > 0) await deps.repositories.requestPrune(name, deps.now());
    } catch (error) {
      postpone(describeError(error));
      const log = error instanceof RepositoryLockedError ? deps.log.warn : deps.log.error;
      log.call(deps.log, "restic forget did not proceed", { repository: name, error: describeError(error) });
    }
  }
}

async function settingsFor(
  source: string,
  entries: BackupEntry[],
  deps: RetentionDependencies,
): Promise<{ settings: RetentionSettings | undefined; origin: SettingsOrigin }> {
  const own = await deps.retention.getSettings({ kind: "source", source });
  if (own) return { settings: own, origin: { kind: "source" } };
  const restic = entries.find((entry) => entry.kind === "restic");
  if (restic?.kind === "restic") {
    const { repository } = restic;
    const shared = await deps.retention.getSettings({ kind: "repository", repository });
    if (shared) return { settings: shared, origin: { kind: "repository", repository } };
  }
  const settings = defaultSettingsFor(entries[0]?.kind ?? "dumpset");
  return { settings, origin: { kind: settings ? "default" : "none" } };
}

async function storePlan(plan: StoredPlan, deps: RetentionDependencies): Promise<void> {
  const key = planKey(plan.source, plan.plannedAt);
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.bucket,
      Key: key,
      Body: JSON.stringify(plan),
      ContentType: "application/json",
    }),
  );
  await deps.retention.recordPlan({
    source: plan.source,
    plannedAt: plan.plannedAt,
    planKey: key,
    status: plan.status,
    kept: plan.keep.length,
    removed: plan.outcome.removed.length,
  });
}

async function readLastPlan(source: string, deps: RetentionDependencies): Promise<StoredPlan | undefined> {
  const pointer = await deps.retention.lastPlan(source);
  if (!pointer) return undefined;
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: pointer.planKey }));
    return JSON.parse((await object.Body?.transformToString("utf-8")) ?? "null") as StoredPlan;
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

async function deleteKeys(s3: S3Client, bucket: string, keys: string[]): Promise<void> {
  for (let offset = 0; offset < keys.length; offset += 1000) {
    const batch = keys.slice(offset, offset + 1000);
    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
    );
    if (result.Errors?.length) {
      throw new Error(
        `S3 refused to delete ${result.Errors.length} objects: ${result.Errors[0]?.Key} ${result.Errors[0]?.Message}`,
      );
    }
  }
}
