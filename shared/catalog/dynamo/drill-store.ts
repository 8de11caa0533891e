import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { CATALOG_INDEXES } from "../../contracts/catalog-table";
import { type DrillPlan, DrillPlanSchema } from "../../drills/plan";
import type { DrillStore, StoredPlan } from "../../drills/ports";
import { type DrillRecord, DrillRecordSchema } from "../../drills/record";
import { parseWith } from "../../validation";
import { listingOf } from "./listing";

const key = {
  drill: (id: string) => ({ pk: `DRILL#${id}`, sk: "#DRILL" }),
  plan: (source: string) => ({ pk: `DRILLPLAN#${source}`, sk: "#PLAN" }),
};
const DrillItemSchema = z.object({ record: DrillRecordSchema, taskToken: z.string().optional() });
const PlanItemSchema = z.object({ source: z.string(), plan: DrillPlanSchema, lastDueAt: z.string().nullish() });

/**
 * Drills: pk DRILL#<id>, on the `timeline` index under DRILLS#<source> (a source's drills) and on the
 * `sources` index under DRILLS (every drill, newest first). Plans: pk DRILLPLAN#<source>, listed under
 * DRILLPLANS. Queries only.
 */
export class DynamoDrillStore implements DrillStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async create(record: DrillRecord): Promise<void> {
    const sort = `${record.startedAt}#${record.id}`;
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...key.drill(record.id),
          gsi1pk: `DRILLS#${record.source}`,
          gsi1sk: sort,
          gsi2pk: "DRILLS",
          gsi2sk: sort,
          status: record.status,
          record,
        },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  }

  async update(id: string, changes: Partial<DrillRecord>): Promise<DrillRecord | undefined> {
    const existing = await this.get(id);
    if (!existing) return undefined;
    const updated = parseWith(DrillRecordSchema, { ...existing, ...changes, id }, "drill");
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key.drill(id),
          UpdateExpression: "SET #record = :record, #status = :status",
          // A finished drill is history: a late heartbeat or a second report changes nothing.
          ConditionExpression: "#status = :running",
          ExpressionAttributeNames: { "#record": "record", "#status": "status" },
          ExpressionAttributeValues: { ":record": updated, ":status": updated.status, ":running": "RUNNING" },
        }),
      );
    } catch (error) {
      if (error instanceof Error && error.name === "ConditionalCheckFailedException") return existing;
      throw error;
    }
    return updated;
  }

  async get(id: string): Promise<DrillRecord | undefined> {
    const item = await this.item(id);
    return item?.record;
  }

  async listBySource(source: string, limit = 50): Promise<DrillRecord[]> {
    return this.query(CATALOG_INDEXES.timeline.indexName, "gsi1pk", `DRILLS#${source}`, limit);
  }

  async recent(limit = 50): Promise<DrillRecord[]> {
    return this.query(CATALOG_INDEXES.sources.indexName, "gsi2pk", "DRILLS", limit);
  }

  async newestPassed(source: string): Promise<DrillRecord | undefined> {
    const pages = paginateQuery(
      { client: this.documents, pageSize: 100 },
      {
        TableName: this.tableName,
        IndexName: CATALOG_INDEXES.timeline.indexName,
        KeyConditionExpression: "gsi1pk = :partition",
        FilterExpression: "#status = :passed",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":partition": `DRILLS#${source}`, ":passed": "PASSED" },
        ScanIndexForward: false,
      },
    );
    for await (const page of pages) {
      const item = page.Items?.[0];
      if (item) return parseWith(DrillItemSchema, item, "drill item").record;
    }
    return undefined;
  }

  async setTaskToken(id: string, token: string): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key.drill(id),
        UpdateExpression: "SET taskToken = :token",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":token": token },
      }),
    );
  }

  async taskToken(id: string): Promise<string | undefined> {
    return (await this.item(id))?.taskToken;
  }

  async getPlan(source: string): Promise<StoredPlan | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: key.plan(source), ConsistentRead: true }),
    );
    return result.Item ? toStoredPlan(result.Item) : undefined;
  }

  async putPlan(source: string, plan: DrillPlan): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key.plan(source),
        UpdateExpression: "SET #source = :source, #plan = :plan, gsi2pk = :all, gsi2sk = :source",
        ExpressionAttributeNames: { "#source": "source", "#plan": "plan" },
        ExpressionAttributeValues: { ":source": source, ":plan": plan, ":all": "DRILLPLANS" },
      }),
    );
  }

  async deletePlan(source: string): Promise<boolean> {
    const result = await this.documents.send(
      new DeleteCommand({ TableName: this.tableName, Key: key.plan(source), ReturnValues: "ALL_OLD" }),
    );
    return result.Attributes !== undefined;
  }

  async listPlans(): Promise<StoredPlan[]> {
    return (await listingOf(this.documents, this.tableName, "DRILLPLANS")).map(toStoredPlan);
  }

  async claimDue(source: string, dueAt: string): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key.plan(source),
          UpdateExpression: "SET lastDueAt = :due",
          ConditionExpression: "attribute_exists(pk) AND (attribute_not_exists(lastDueAt) OR lastDueAt < :due)",
          ExpressionAttributeValues: { ":due": dueAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  private async item(id: string): Promise<z.infer<typeof DrillItemSchema> | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: key.drill(id), ConsistentRead: true }),
    );
    return result.Item ? parseWith(DrillItemSchema, result.Item, "drill item") : undefined;
  }

  private async query(index: string, attribute: string, partition: string, limit: number): Promise<DrillRecord[]> {
    const result = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: `${attribute} = :partition`,
        ExpressionAttributeValues: { ":partition": partition },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (result.Items ?? []).map((item) => parseWith(DrillItemSchema, item, "drill item").record);
  }
}

function toStoredPlan(item: Record<string, unknown>): StoredPlan {
  const parsed = parseWith(PlanItemSchema, item, "drill plan item");
  return { source: parsed.source, plan: parsed.plan, lastDueAt: parsed.lastDueAt ?? null };
}
