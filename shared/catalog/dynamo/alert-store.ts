import { createHash, randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { CATALOG_INDEXES } from "../../contracts/catalog-table";
import { parseWith } from "../../validation";
import { type Alert, AlertSchema, type AlertStore } from "../alerts";

const ItemSchema = z.object({ alert: AlertSchema });

/** Alerts in the catalog table: pk ALERT#<id>, listed newest first through the `sources` index. */
export class DynamoAlertStore implements AlertStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async raise(alert: Omit<Alert, "id" | "at">, at: Date): Promise<Alert> {
    return (await this.put(randomUUID(), alert, at, false)) as Alert;
  }

  async raiseOnce(once: string, alert: Omit<Alert, "id" | "at">, at: Date): Promise<Alert | undefined> {
    // The id is the incident's: a second raise finds the item and writes nothing.
    return this.put(createHash("sha256").update(once).digest("hex").slice(0, 32), alert, at, true);
  }

  private async put(id: string, alert: Omit<Alert, "id" | "at">, at: Date, once: boolean): Promise<Alert | undefined> {
    const recorded = parseWith(AlertSchema, { ...alert, id, at: at.toISOString() }, "alert");
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `ALERT#${recorded.id}`,
            sk: "#ALERT",
            gsi2pk: "ALERTS",
            gsi2sk: `${recorded.at}#${recorded.id}`,
            alert: recorded,
          },
          ...(once ? { ConditionExpression: "attribute_not_exists(pk)" } : {}),
        }),
      );
    } catch (error) {
      if (once && error instanceof Error && error.name === "ConditionalCheckFailedException") return undefined;
      throw error;
    }
    return recorded;
  }

  async recent(limit = 50): Promise<Alert[]> {
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
    return (result.Items ?? []).map((item) => parseWith(ItemSchema, item, "alert item").alert);
  }
}
