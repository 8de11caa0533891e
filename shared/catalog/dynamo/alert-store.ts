import { randomUUID } from "node:crypto";
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
    const recorded = parseWith(AlertSchema, { ...alert, id: randomUUID(), at: at.toISOString() }, "alert");
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
      }),
    );
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
