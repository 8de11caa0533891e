import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { ExpectationSchema } from "../../health/expectation";
import {
  type HealthHistory,
  HealthHistorySchema,
  type HealthSettings,
  type HealthStatus,
  HealthStatusSchema,
  type PendingAlert,
  PendingAlertSchema,
  type StoredHealth,
} from "../../health/model";
import type { HealthScope, HealthStore } from "../../health/ports";
import { parseWith } from "../../validation";
import { listingOf } from "./listing";

const SOURCES_LISTING = "HEALTH";
const REPOSITORIES_LISTING = "HEALTHREPOS";

const keyOf = (scope: HealthScope) =>
  scope.kind === "source"
    ? { pk: `HEALTH#${scope.source}`, sk: "#HEALTH" }
    : { pk: `HEALTHREPO#${scope.repository}`, sk: "#HEALTH" };
const listingOfScope = (scope: HealthScope) => ({
  gsi2pk: scope.kind === "source" ? SOURCES_LISTING : REPOSITORIES_LISTING,
  gsi2sk: scope.kind === "source" ? scope.source : scope.repository,
});

const SettingsAttributesSchema = z.object({
  expectation: ExpectationSchema.nullish(),
  remindEverySeconds: z.number().nullish(),
  setAt: z.string().nullish(),
});
const SourceItemSchema = SettingsAttributesSchema.extend({
  name: z.string(),
  paused: z.boolean().nullish(),
  resumedAt: z.string().nullish(),
  status: HealthStatusSchema.nullish(),
  pending: PendingAlertSchema.nullish(),
  history: HealthHistorySchema.nullish(),
});

function settingsOf(item: z.infer<typeof SettingsAttributesSchema>): HealthSettings {
  return {
    expectation: item.expectation ?? null,
    remindEverySeconds: item.remindEverySeconds ?? null,
    setAt: item.setAt ?? null,
  };
}

function toStoredHealth(item: Record<string, unknown>): StoredHealth {
  const parsed = parseWith(SourceItemSchema, item, "source health item");
  return {
    source: parsed.name,
    settings: settingsOf(parsed),
    paused: parsed.paused ?? false,
    resumedAt: parsed.resumedAt ?? null,
    status: parsed.status ?? null,
    pending: parsed.pending ?? null,
    history: parsed.history ?? null,
  };
}

function isConditionalFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/**
 * Source health: pk HEALTH#<source> (settings, paused, the recorded state, the alert it still has to raise and
 * the history the last evaluation read),
 * listed under HEALTH; a restic repository's defaults: pk HEALTHREPO#<repository>, listed under HEALTHREPOS.
 * The recorded state is kept twice: whole in `status`, and its `state`, `since` and `reminders` as top-level
 * attributes that the conditions of state changes compare.
 */
export class DynamoHealthStore implements HealthStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async list(): Promise<StoredHealth[]> {
    return (await listingOf(this.documents, this.tableName, SOURCES_LISTING)).map(toStoredHealth);
  }

  async get(source: string): Promise<StoredHealth | undefined> {
    const item = await this.item({ kind: "source", source });
    return item ? toStoredHealth(item) : undefined;
  }

  async listRepositories(): Promise<Map<string, HealthSettings>> {
    const items = await listingOf(this.documents, this.tableName, REPOSITORIES_LISTING);
    return new Map(
      items.map((item) => {
        const parsed = parseWith(SettingsAttributesSchema.extend({ name: z.string() }), item, "repository health");
        return [parsed.name, settingsOf(parsed)];
      }),
    );
  }

  async getSettings(scope: HealthScope): Promise<HealthSettings | undefined> {
    const item = await this.item(scope);
    return item ? settingsOf(parseWith(SettingsAttributesSchema, item, "health settings")) : undefined;
  }

  async putSettings(scope: HealthScope, changes: Partial<HealthSettings>): Promise<HealthSettings> {
    const names: Record<string, string> = { "#name": "name" };
    const values: Record<string, unknown> = {
      ":name": listingOfScope(scope).gsi2sk,
      ...prefixed(listingOfScope(scope)),
    };
    const sets = ["#name = :name", "gsi2pk = :gsi2pk", "gsi2sk = :gsi2sk"];
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    const result = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keyOf(scope),
        UpdateExpression: `SET ${sets.join(", ")}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: "ALL_NEW",
      }),
    );
    return settingsOf(parseWith(SettingsAttributesSchema, result.Attributes ?? {}, "health settings"));
  }

  async setPaused(source: string, paused: boolean, at: Date): Promise<void> {
    const scope: HealthScope = { kind: "source", source };
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keyOf(scope),
        UpdateExpression: `SET #name = :gsi2sk, gsi2pk = :gsi2pk, gsi2sk = :gsi2sk, paused = :paused, ${paused ? "pausedAt" : "resumedAt"} = :at`,
        ExpressionAttributeNames: { "#name": "name" },
        ExpressionAttributeValues: { ...prefixed(listingOfScope(scope)), ":paused": paused, ":at": at.toISOString() },
      }),
    );
  }

  async recordStatus(
    source: string,
    previous: HealthStatus | null,
    next: HealthStatus,
    pending: PendingAlert | null,
  ): Promise<boolean> {
    const scope: HealthScope = { kind: "source", source };
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf(scope),
          UpdateExpression:
            "SET #name = :gsi2sk, gsi2pk = :gsi2pk, gsi2sk = :gsi2sk, #status = :status, #state = :state, since = :since, reminders = :reminders, pending = :pending",
          // Only from the state this evaluation saw: a concurrent one that recorded first wins, alone.
          ConditionExpression: previous
            ? "#state = :previousState AND since = :previousSince AND reminders = :previousReminders"
            : "attribute_not_exists(#state)",
          ExpressionAttributeNames: { "#name": "name", "#status": "status", "#state": "state" },
          ExpressionAttributeValues: {
            ...prefixed(listingOfScope(scope)),
            ":status": next,
            ":state": next.state,
            ":since": next.since,
            ":reminders": next.reminders,
            ":pending": pending,
            ...(previous
              ? {
                  ":previousState": previous.state,
                  ":previousSince": previous.since,
                  ":previousReminders": previous.reminders,
                }
              : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async recordHistory(source: string, history: HealthHistory): Promise<void> {
    const scope: HealthScope = { kind: "source", source };
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keyOf(scope),
        UpdateExpression: "SET #name = :gsi2sk, gsi2pk = :gsi2pk, gsi2sk = :gsi2sk, #history = :history",
        ExpressionAttributeNames: { "#name": "name", "#history": "history" },
        ExpressionAttributeValues: { ...prefixed(listingOfScope(scope)), ":history": history },
      }),
    );
  }

  async clearPending(source: string, once: string): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf({ kind: "source", source }),
          UpdateExpression: "SET pending = :none",
          ConditionExpression: "pending.#once = :once",
          ExpressionAttributeNames: { "#once": "once" },
          ExpressionAttributeValues: { ":none": null, ":once": once },
        }),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
    }
  }

  private async item(scope: HealthScope): Promise<Record<string, unknown> | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: keyOf(scope), ConsistentRead: true }),
    );
    return result.Item;
  }
}

function prefixed(listing: { gsi2pk: string; gsi2sk: string }): Record<string, string> {
  return { ":gsi2pk": listing.gsi2pk, ":gsi2sk": listing.gsi2sk };
}
