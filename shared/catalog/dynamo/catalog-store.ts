import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { mapConcurrently } from "../../concurrency";
import { CATALOG_INDEXES } from "../../contracts/catalog-table";
import { RestorableError } from "../../errors";
import { parseWith } from "../../validation";
import {
  type BackupEntry,
  BackupEntrySchema,
  type BackupStatus,
  type BackupSummary,
  BackupSummarySchema,
  FINAL_STATUSES,
  type LastDrill,
  PROVISIONAL_STATUSES,
  type ProvenRestorable,
  ProvenRestorableSchema,
  type SourceEntry,
  SourceEntrySchema,
  summarise,
} from "../entry";
import type { CatalogStore, ListOptions, RecordOutcome } from "../store";
import { listingOf } from "./listing";

/** Source items updated in parallel by one batched write. */
const SOURCES_ADVANCED_AT_ONCE = 8;

export class CatalogWriteError extends RestorableError {}

const key = {
  backup: (id: string) => ({ pk: `BACKUP#${id}`, sk: "#BACKUP" }),
  /** A lookup item puts the backup on one more timeline: a tag's, or its restic repository's. */
  lookup: (id: string, timeline: string) => ({ pk: `BACKUP#${id}`, sk: timeline }),
  source: (source: string) => ({ pk: `SOURCE#${source}`, sk: "#SOURCE" }),
  timelineSort: (entry: { createdAt: string; id: string }) => `${entry.createdAt}#${entry.id}`,
};

const ItemWithEntrySchema = z.object({ entry: BackupEntrySchema });
const LookupItemSchema = z.object({ id: z.string() });
const SourceItemSchema = z
  .object({
    name: z.string(),
    kind: SourceEntrySchema.shape.kind,
    latest: BackupSummarySchema.nullish(),
    latestComplete: BackupSummarySchema.nullish(),
    lastProvenRestorable: ProvenRestorableSchema.nullish(),
    updatedAt: z.string(),
  })
  .transform(
    (item): SourceEntry => ({
      source: item.name,
      kind: item.kind,
      latest: item.latest ?? null,
      latestComplete: item.latestComplete ?? null,
      lastProvenRestorable: item.lastProvenRestorable ?? null,
      updatedAt: item.updatedAt,
    }),
  );

/** Key attributes and index attributes are kept apart from the entry itself, which is stored whole. */
export class DynamoCatalogStore implements CatalogStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /**
   * Lookup items first, then the backup item with its condition. Lookups only point at an id, so one
   * written for an entry that then loses its condition points at that same id, harmlessly; readers
   * check the entry itself. This keeps the write conditional without a transaction (half the
   * write cost, and the emulator copies every table per transaction).
   */
  async recordBackup(entry: BackupEntry, manifestVersion: string | null): Promise<RecordOutcome> {
    const sortKey = key.timelineSort(entry);
    try {
      await this.putLookups(entry, sortKey);
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key.backup(entry.id),
            gsi1pk: `SOURCE#${entry.source}`,
            gsi1sk: sortKey,
            status: entry.status,
            manifestVersion: manifestVersion ?? "-",
            entry,
          },
          ConditionExpression:
            "attribute_not_exists(pk) OR (NOT #status IN (:removed, :forgotten, :rewritten) AND " +
            "NOT (:provisional = :yes AND manifestVersion = :version AND #status IN (:complete, :corrupt)))",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: {
            ":removed": "REMOVED",
            ":forgotten": "FORGOTTEN",
            ":rewritten": "REWRITTEN",
            ":complete": "COMPLETE",
            ":corrupt": "CORRUPT",
            ":provisional": PROVISIONAL_STATUSES.includes(entry.status) ? "yes" : "no",
            ":yes": "yes",
            ":version": manifestVersion ?? "-",
          },
        }),
      );
    } catch (error) {
      if (isConditionalFailure(error)) return "kept-existing";
      throw new CatalogWriteError("catalog-write-failed", `could not record backup ${entry.id}`, { cause: error });
    }
    if (countsTowardsSource(entry)) await this.advanceSource(entry.source, entry.kind, summarise(entry));
    return "written";
  }

  /**
   * recordBackup for many entries at once (a re-index, a repository's backfill): one consistent BatchGet
   * decides, by the same rule as recordBackup's condition, which to write; BatchWriteItem writes them and
   * each source moves forward once. BatchWriteItem has no conditions, so an entry that becomes final
   * between the read and the write (a forget racing a re-index) is overwritten; the file's deletion event,
   * which follows the forget, marks it FORGOTTEN again.
   */
  async recordBackups(
    batch: readonly { entry: BackupEntry; manifestVersion: string | null }[],
  ): Promise<RecordOutcome[]> {
    const existing = new Map(
      (await this.getBackupItems(batch.map(({ entry }) => entry.id))).map((item) => [item.entry.id, item]),
    );
    const outcomes: RecordOutcome[] = [];
    const written: { entry: BackupEntry; manifestVersion: string | null }[] = [];
    for (const item of batch) {
      const kept = wouldKeep(existing.get(item.entry.id), item.entry, item.manifestVersion);
      outcomes.push(kept ? "kept-existing" : "written");
      if (!kept) written.push(item);
    }
    const requests = written.flatMap(({ entry, manifestVersion }) => {
      const sortKey = key.timelineSort(entry);
      return [
        ...lookupTimelines(entry).map((timeline) => ({
          PutRequest: { Item: { ...key.lookup(entry.id, timeline), gsi1pk: timeline, gsi1sk: sortKey, id: entry.id } },
        })),
        {
          PutRequest: {
            Item: {
              ...key.backup(entry.id),
              gsi1pk: `SOURCE#${entry.source}`,
              gsi1sk: sortKey,
              status: entry.status,
              manifestVersion: manifestVersion ?? "-",
              entry,
            },
          },
        },
      ];
    });
    await this.batchWrite(requests);
    // Each source moves forward once, to its newest entry and its newest complete one.
    const bySource = new Map<string, BackupEntry[]>();
    for (const { entry } of written) {
      if (!countsTowardsSource(entry)) continue;
      bySource.set(entry.source, [...(bySource.get(entry.source) ?? []), entry]);
    }
    // Sources are independent items: a backfill of many hosts moves them forward side by side.
    await mapConcurrently([...bySource], SOURCES_ADVANCED_AT_ONCE, async ([source, entries]) => {
      const newest = (list: BackupEntry[]) =>
        list.reduce((a, b) => (key.timelineSort(a) >= key.timelineSort(b) ? a : b));
      const complete = entries.filter((entry) => entry.status === "COMPLETE");
      const latest = newest(entries);
      await this.advanceSource(source, latest.kind, summarise(latest));
      if (complete.length > 0 && newest(complete) !== latest) {
        await this.advanceSource(source, latest.kind, summarise(newest(complete)));
      }
    });
    return outcomes;
  }

  private async getBackupItems(
    ids: string[],
  ): Promise<{ entry: BackupEntry; status: string; manifestVersion: string }[]> {
    const items: { entry: BackupEntry; status: string; manifestVersion: string }[] = [];
    for (let offset = 0; offset < ids.length; offset += 100) {
      let keys: Record<string, unknown>[] | undefined = ids.slice(offset, offset + 100).map((id) => key.backup(id));
      for (let attempt = 0; keys && keys.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 50 * 2 ** attempt));
        const result: BatchGetCommandOutput = await this.documents.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) {
          items.push({
            ...parseWith(ItemWithEntrySchema, item, "catalog item"),
            status: String(item.status),
            manifestVersion: String(item.manifestVersion ?? "-"),
          });
        }
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return items;
  }

  /** BatchWriteItem, 25 at a time; what DynamoDB hands back unprocessed is written again, a bounded number of times. */
  private async batchWrite(requests: NonNullable<BatchWriteCommandInput["RequestItems"]>[string]): Promise<void> {
    for (let offset = 0; offset < requests.length; offset += 25) {
      let pending: BatchWriteCommandInput["RequestItems"] = { [this.tableName]: requests.slice(offset, offset + 25) };
      for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
        if (attempt >= 10) {
          throw new CatalogWriteError("catalog-write-failed", "DynamoDB kept part of a batch unprocessed 10 times");
        }
        if (attempt > 0) await sleep(Math.min(1000, 50 * 2 ** attempt));
        const result: BatchWriteCommandOutput = await this.documents.send(
          new BatchWriteCommand({ RequestItems: pending }),
        );
        pending = result.UnprocessedItems;
      }
    }
  }

  private async putLookups(entry: BackupEntry, sortKey: string): Promise<void> {
    const requests = lookupTimelines(entry).map((timeline) => ({
      PutRequest: { Item: { ...key.lookup(entry.id, timeline), gsi1pk: timeline, gsi1sk: sortKey, id: entry.id } },
    }));
    for (let offset = 0; offset < requests.length; offset += 25) {
      let pending: BatchWriteCommandInput["RequestItems"] = { [this.tableName]: requests.slice(offset, offset + 25) };
      // BatchWrite may hand back unprocessed items under load; write exactly those again.
      for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 50 * 2 ** attempt));
        const result: BatchWriteCommandOutput = await this.documents.send(
          new BatchWriteCommand({ RequestItems: pending }),
        );
        pending = result.UnprocessedItems;
      }
    }
  }

  async setStatus(
    id: string,
    status: BackupStatus,
    reason: string | null,
    at: Date,
    changes: Partial<BackupEntry> = {},
  ): Promise<BackupEntry | undefined> {
    const existing = await this.getBackup(id);
    if (!existing) return undefined;
    const updated = BackupEntrySchema.parse({
      ...existing,
      ...changes,
      status,
      statusReason: reason,
      statusChangedAt: at.toISOString(),
    });
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key.backup(id),
        UpdateExpression: "SET #status = :status, entry = :entry",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":status": status, ":entry": updated },
      }),
    );
    if (countsTowardsSource(updated)) await this.advanceSource(existing.source, existing.kind, summarise(updated));
    return updated;
  }

  async recordRewrite(previousId: string, next: BackupEntry, at: Date): Promise<void> {
    const previous = await this.getBackup(previousId);
    if (!previous || (previous.kind === "restic" && previous.rewrittenAs === next.id)) return;
    const updated = BackupEntrySchema.parse({
      ...previous,
      status: "REWRITTEN",
      statusReason: `rewritten by restic as ${next.id.slice(0, 8)} (restic tag or rewrite); history kept here`,
      statusChangedAt: at.toISOString(),
      ...(previous.kind === "restic" ? { rewrittenAs: next.id } : {}),
    });
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key.backup(previousId),
        UpdateExpression: "SET #status = :status, entry = :entry",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":status": "REWRITTEN", ":entry": updated },
      }),
    );
    // Same time, new id: whichever sorts later, the source's pointers must name the live snapshot.
    const previousSort = key.timelineSort(previous);
    for (const [pointer, sort] of [
      ["latest", "latestSort"],
      ["latestComplete", "latestCompleteSort"],
    ] as const) {
      if (pointer === "latestComplete" && next.status !== "COMPLETE") continue;
      await this.updateUnlessNewer(
        {
          UpdateExpression: `SET ${pointer} = :summary, ${sort} = :sort`,
          ConditionExpression: `${sort} = :previous`,
          ExpressionAttributeValues: {
            ":summary": summarise(next),
            ":sort": key.timelineSort(next),
            ":previous": previousSort,
          },
        },
        previous.source,
      );
    }
  }

  async recordHealedComponent(id: string, component: string, healedVersionId: string): Promise<void> {
    const existing = await this.getBackup(id);
    if (existing?.kind !== "dumpset") return;
    const updated = BackupEntrySchema.parse({
      ...existing,
      components: existing.components.map((c) => (c.name === component ? { ...c, healedVersionId } : c)),
    });
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key.backup(id),
        UpdateExpression: "SET entry = :entry",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":entry": updated },
      }),
    );
  }

  async recordDrill(id: string, drill: LastDrill, proven: ProvenRestorable | null): Promise<void> {
    const existing = await this.getBackup(id);
    if (!existing) return;
    const updated = BackupEntrySchema.parse({ ...existing, lastDrill: drill });
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key.backup(id),
        UpdateExpression: "SET entry = :entry",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":entry": updated },
      }),
    );
    if (!proven) return;
    // Only ever forward: a late result for an older drill does not hide a newer proof.
    await this.updateUnlessNewer(
      {
        UpdateExpression: "SET lastProvenRestorable = :proven",
        ConditionExpression:
          "attribute_exists(pk) AND (attribute_not_exists(lastProvenRestorable) OR lastProvenRestorable.#at < :at)",
        ExpressionAttributeNames: { "#at": "at" },
        ExpressionAttributeValues: { ":proven": proven, ":at": proven.at },
      },
      existing.source,
    );
  }

  async setTags(id: string, tags: string[]): Promise<BackupEntry | undefined> {
    const existing = await this.getBackup(id);
    if (!existing) return undefined;
    const updated = BackupEntrySchema.parse({ ...existing, tags: [...new Set(tags)] });
    await this.putLookups(updated, key.timelineSort(updated));
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key.backup(id),
        UpdateExpression: "SET entry = :entry",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":entry": updated },
      }),
    );
    return updated;
  }

  async getBackup(id: string): Promise<BackupEntry | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: key.backup(id), ConsistentRead: true }),
    );
    return result.Item ? parseWith(ItemWithEntrySchema, result.Item, "catalog item").entry : undefined;
  }

  async listBySource(source: string, options: ListOptions = {}): Promise<BackupEntry[]> {
    const items = await this.queryTimeline(`SOURCE#${source}`, options.limit);
    return items.map((item) => parseWith(ItemWithEntrySchema, item, "catalog item").entry);
  }

  async listByTag(tag: string, options: ListOptions = {}): Promise<BackupEntry[]> {
    return (await this.listLookup(`TAG#${tag}`, options)).filter((entry) => entry.tags.includes(tag));
  }

  async listByRepository(repository: string, options: ListOptions = {}): Promise<BackupEntry[]> {
    return (await this.listLookup(`REPOSITORY#${repository}`, options)).filter(
      (entry) => entry.kind === "restic" && entry.repository === repository,
    );
  }

  private async listLookup(timeline: string, options: ListOptions): Promise<BackupEntry[]> {
    const items = await this.queryTimeline(timeline, options.limit);
    const ids = items.map((item) => parseWith(LookupItemSchema, item, "catalog lookup item").id);
    return this.getBackups(ids);
  }

  async listSources(): Promise<SourceEntry[]> {
    const items = await listingOf(this.documents, this.tableName, "SOURCES");
    return items.map((item) => parseWith(SourceItemSchema, item, "catalog source item"));
  }

  private async queryTimeline(partition: string, limit = 50): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: CATALOG_INDEXES.timeline.indexName,
          KeyConditionExpression: "gsi1pk = :partition",
          ExpressionAttributeValues: { ":partition": partition },
          ScanIndexForward: false,
          Limit: limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return items;
  }

  private async getBackups(ids: string[]): Promise<BackupEntry[]> {
    const found = new Map<string, BackupEntry>();
    for (let offset = 0; offset < ids.length; offset += 100) {
      let keys: Record<string, unknown>[] | undefined = ids.slice(offset, offset + 100).map((id) => key.backup(id));
      // BatchGet may hand back unprocessed keys under load; ask again for exactly those.
      for (let attempt = 0; keys && keys.length > 0; attempt++) {
        const result: BatchGetCommandOutput = await this.documents.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const entry = parseWith(ItemWithEntrySchema, item, "catalog item").entry;
          found.set(entry.id, entry);
        }
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys;
        if (keys && keys.length > 0) await sleep(Math.min(1000, 50 * 2 ** attempt));
      }
    }
    return ids.flatMap((id) => found.get(id) ?? []);
  }

  /**
   * Moves the source's "latest" pointers forward (or refreshes them for the same backup). The
   * conditions make concurrent and out-of-order writes converge on the newest backup.
   */
  private async advanceSource(source: string, kind: SourceEntry["kind"], summary: BackupSummary): Promise<void> {
    const sortKey = key.timelineSort(summary);
    await this.updateUnlessNewer(
      {
        UpdateExpression:
          "SET gsi2pk = :all, gsi2sk = :name, #name = :name, kind = :kind, latest = :summary, latestSort = :sort, updatedAt = :now",
        ConditionExpression: "attribute_not_exists(latestSort) OR latestSort <= :sort",
        ExpressionAttributeNames: { "#name": "name" },
        ExpressionAttributeValues: {
          ":all": "SOURCES",
          ":name": source,
          ":kind": kind,
          ":summary": summary,
          ":sort": sortKey,
          ":now": new Date().toISOString(),
        },
      },
      source,
    );
    if (summary.status === "COMPLETE") {
      await this.updateUnlessNewer(
        {
          UpdateExpression: "SET latestComplete = :summary, latestCompleteSort = :sort",
          ConditionExpression: "attribute_not_exists(latestCompleteSort) OR latestCompleteSort <= :sort",
          ExpressionAttributeValues: { ":summary": summary, ":sort": sortKey },
        },
        source,
      );
      return;
    }
    // The latest complete backup is no longer complete (removed, forgotten, found corrupt): find the next one.
    const current = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: key.source(source), ConsistentRead: true }),
    );
    if (current.Item?.latestCompleteSort !== sortKey) return;
    const replacement = await this.newestComplete(source);
    await this.updateUnlessNewer(
      {
        UpdateExpression: replacement
          ? "SET latestComplete = :summary, latestCompleteSort = :replacement"
          : "REMOVE latestComplete, latestCompleteSort",
        ConditionExpression: "latestCompleteSort = :sort",
        ExpressionAttributeValues: replacement
          ? { ":sort": sortKey, ":summary": summarise(replacement), ":replacement": key.timelineSort(replacement) }
          : { ":sort": sortKey },
      },
      source,
    );
  }

  private async newestComplete(source: string): Promise<BackupEntry | undefined> {
    const pages = paginateQuery(
      { client: this.documents, pageSize: 100 },
      {
        TableName: this.tableName,
        IndexName: CATALOG_INDEXES.timeline.indexName,
        KeyConditionExpression: "gsi1pk = :partition",
        FilterExpression: "#status = :complete",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":partition": `SOURCE#${source}`, ":complete": "COMPLETE" },
        ScanIndexForward: false,
      },
    );
    for await (const page of pages) {
      const item = page.Items?.[0];
      if (item) return parseWith(ItemWithEntrySchema, item, "catalog item").entry;
    }
    return undefined;
  }

  /** An update whose condition failing just means a newer value is already there. */
  private async updateUnlessNewer(
    update: Omit<UpdateCommandInput, "TableName" | "Key">,
    source: string,
  ): Promise<void> {
    try {
      await this.documents.send(new UpdateCommand({ TableName: this.tableName, Key: key.source(source), ...update }));
    } catch (error) {
      if (isConditionalFailure(error)) return;
      throw new CatalogWriteError("catalog-write-failed", `could not update the summary of source ${source}`, {
        cause: error,
      });
    }
  }
}

/**
 * A restic snapshot that never decrypted has no known group, so it cannot stand for any source; the
 * repository's health and the repository timeline show it meanwhile.
 */
function countsTowardsSource(entry: BackupEntry): boolean {
  return !(entry.kind === "restic" && entry.resticTime === null);
}

/** recordBackup's condition, judged on an item already read: history and a complete look are kept. */
function wouldKeep(
  existing: { status: string; manifestVersion: string } | undefined,
  entry: BackupEntry,
  manifestVersion: string | null,
): boolean {
  if (!existing) return false;
  if (FINAL_STATUSES.includes(existing.status as BackupStatus)) return true;
  return (
    PROVISIONAL_STATUSES.includes(entry.status) &&
    existing.manifestVersion === (manifestVersion ?? "-") &&
    (existing.status === "COMPLETE" || existing.status === "CORRUPT")
  );
}

function lookupTimelines(entry: BackupEntry): string[] {
  const timelines = entry.tags.map((tag) => `TAG#${tag}`);
  if (entry.kind === "restic") timelines.push(`REPOSITORY#${entry.repository}`);
  return timelines;
}

function isConditionalFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
