import { createHash, randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { CATALOG_INDEXES } from "../../contracts/catalog-table";
import { parseWith } from "../../validation";
import { type Alert, AlertSchema, type AlertStore, type ListedAlert, type NewAlert } from "../alerts";

const ItemSchema = z.object({ alert: AlertSchema, gsi1pk: z.string().optional() });

/** The sparse `timeline` partition of the alerts not sent yet: gsi1sk = <at>#<id>, so oldest first. */
export const PENDING_ALERTS = "ALERTS#PENDING";

/**
 * Alerts in the catalog table: pk ALERT#<id>, listed newest first through the `sources` index, and, while not
 * sent, in the `timeline` index under ALERTS#PENDING (the notifier's queue; sending removes the entry).
 * A claim (`claimedBy`, `claimedUntil`) is plain attributes of the item, checked by conditional writes.
 */
export class DynamoAlertStore implements AlertStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async raise(alert: NewAlert, at: Date): Promise<Alert> {
    return (await this.put(randomUUID(), alert, at, false)) as Alert;
  }

  async raiseOnce(once: string, alert: NewAlert, at: Date): Promise<Alert | undefined> {
    // The id is the incident's: a second raise finds the item and writes nothing.
    return this.put(createHash("sha256").update(once).digest("hex").slice(0, 32), alert, at, true);
  }

  private async put(id: string, alert: NewAlert, at: Date, once: boolean): Promise<Alert | undefined> {
    const recorded = parseWith(AlertSchema, { ...alert, id, at: at.toISOString(), sentAt: null }, "alert");
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(recorded.id),
            gsi1pk: PENDING_ALERTS,
            gsi1sk: `${recorded.at}#${recorded.id}`,
            gsi2pk: "ALERTS",
            gsi2sk: `${recorded.at}#${recorded.id}`,
            alert: recorded,
          },
          ...(once ? { ConditionExpression: "attribute_not_exists(pk)" } : {}),
        }),
      );
    } catch (error) {
      if (once && isConditionFailure(error)) return undefined;
      throw error;
    }
    return recorded;
  }

  async recent(limit = 50): Promise<ListedAlert[]> {
    const result = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: CATALOG_INDEXES.sources.indexName,
        KeyConditionExpression: "gsi2pk = :all",
        ExpressionAttributeValues: { ":all": "ALERTS" },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (result.Items ?? []).map((item) => {
      const parsed = parseWith(ItemSchema, item, "alert item");
      return { ...parsed.alert, sentAt: parsed.alert.sentAt ?? null, pending: parsed.gsi1pk === PENDING_ALERTS };
    });
  }

  async pending(limit = 100): Promise<Alert[]> {
    const result = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: CATALOG_INDEXES.timeline.indexName,
        KeyConditionExpression: "gsi1pk = :pending",
        ExpressionAttributeValues: { ":pending": PENDING_ALERTS },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return (result.Items ?? []).map((item) => parseWith(ItemSchema, item, "alert item").alert);
  }

  async claim(id: string, owner: string, until: Date, now: Date): Promise<boolean> {
    // The index is eventually consistent, the condition is not: an alert just sent is never claimed again.
    return this.conditionalUpdate({
      Key: this.key(id),
      UpdateExpression: "SET claimedBy = :owner, claimedUntil = :until",
      ConditionExpression:
        "gsi1pk = :pending AND (attribute_not_exists(claimedUntil) OR claimedUntil < :now OR claimedBy = :owner)",
      ExpressionAttributeValues: {
        ":owner": owner,
        ":until": until.toISOString(),
        ":now": now.toISOString(),
        ":pending": PENDING_ALERTS,
      },
    });
  }

  async markSent(id: string, owner: string, at: Date): Promise<boolean> {
    return this.conditionalUpdate({
      Key: this.key(id),
      UpdateExpression: "SET #alert.#sentAt = :at REMOVE gsi1pk, gsi1sk, claimedBy, claimedUntil",
      ConditionExpression: "gsi1pk = :pending AND claimedBy = :owner",
      ExpressionAttributeNames: { "#alert": "alert", "#sentAt": "sentAt" },
      ExpressionAttributeValues: { ":at": at.toISOString(), ":owner": owner, ":pending": PENDING_ALERTS },
    });
  }

  async release(id: string, owner: string): Promise<void> {
    await this.conditionalUpdate({
      Key: this.key(id),
      UpdateExpression: "REMOVE claimedBy, claimedUntil",
      ConditionExpression: "claimedBy = :owner",
      ExpressionAttributeValues: { ":owner": owner },
    });
  }

  private key(id: string) {
    return { pk: `ALERT#${id}`, sk: "#ALERT" };
  }

  /** true when written, false when the condition did not hold. */
  private async conditionalUpdate(
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName">,
  ): Promise<boolean> {
    try {
      await this.documents.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}
