import { randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { parseWith } from "../validation";
import { CATALOG_INDEXES } from "./table-definition";

/**
 * Something an operator must hear about (a refused retention run, bucket settings that drifted):
 * recorded in the catalog, newest first, for a notifier (Slack) or `restorable alerts` to pick up.
 */
export const AlertSchema = z.object({
  id: z.string(),
  at: z.iso.datetime({ offset: true }),
  kind: z.enum(["retention-refused", "bucket-drift", "retention-failed"]),
  subject: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
});
export type Alert = z.infer<typeof AlertSchema>;

const ItemSchema = z.object({ alert: AlertSchema });

export class DynamoAlertStore {
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
