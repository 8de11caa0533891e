import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { type PlanPointer, PlanPointerSchema, type RetentionStore } from "../../retention/ports";
import { type RetentionSettings, RetentionSettingsSchema, type SettingsScope } from "../../retention/settings";
import { parseWith } from "../../validation";

const settingsKey = (scope: SettingsScope) => ({
  pk: scope.kind === "source" ? `RETENTION#source#${scope.source}` : `RETENTION#repository#${scope.repository}`,
  sk: "#RETENTION",
});
const SettingsItemSchema = z.object({ settings: RetentionSettingsSchema });

const PointerItemSchema = z.object({ plan: PlanPointerSchema });

/** Retention settings per source or restic repository, and a pointer to each source's last stored plan. */
export class DynamoRetentionStore implements RetentionStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async getSettings(scope: SettingsScope): Promise<RetentionSettings | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: settingsKey(scope), ConsistentRead: true }),
    );
    return result.Item ? parseWith(SettingsItemSchema, result.Item, "retention settings item").settings : undefined;
  }

  async putSettings(scope: SettingsScope, settings: RetentionSettings): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...settingsKey(scope), settings } }));
  }

  async deleteSettings(scope: SettingsScope): Promise<RetentionSettings | undefined> {
    const result = await this.documents.send(
      new DeleteCommand({ TableName: this.tableName, Key: settingsKey(scope), ReturnValues: "ALL_OLD" }),
    );
    return result.Attributes
      ? parseWith(SettingsItemSchema, result.Attributes, "retention settings item").settings
      : undefined;
  }

  async lastPlan(source: string): Promise<PlanPointer | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `PLAN#${source}`, sk: "#LATEST" }, ConsistentRead: true }),
    );
    return result.Item ? parseWith(PointerItemSchema, result.Item, "plan pointer item").plan : undefined;
  }

  async recordPlan(pointer: PlanPointer): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `PLAN#${pointer.source}`, sk: "#LATEST", plan: pointer },
      }),
    );
  }
}
