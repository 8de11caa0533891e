import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { parseWith } from "../../validation";
import { type IngestProblem, IngestProblemSchema, type ProblemStore } from "../problems";
import { listingOf } from "./listing";

const ItemSchema = z
  .object({
    objectKey: z.string(),
    reason: z.string(),
    firstSeenAt: z.string(),
    lastSeenAt: z.string(),
    occurrences: z.number(),
  })
  .transform((item) => IngestProblemSchema.parse({ ...item, key: item.objectKey }));

export class DynamoProblemStore implements ProblemStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  /** Idempotent per key: a repeated event counts up, it does not add a second problem. */
  async record(key: string, reason: string, at: Date): Promise<void> {
    const now = at.toISOString();
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `PROBLEM#${key}`, sk: "#PROBLEM" },
        UpdateExpression:
          "SET gsi2pk = :all, gsi2sk = if_not_exists(gsi2sk, :sort), objectKey = :key, reason = :reason, " +
          "firstSeenAt = if_not_exists(firstSeenAt, :now), lastSeenAt = :now ADD occurrences :one",
        ExpressionAttributeValues: {
          ":all": "PROBLEMS",
          ":sort": `${now}#${key}`,
          ":key": key,
          ":reason": reason,
          ":now": now,
          ":one": 1,
        },
      }),
    );
  }

  async list(): Promise<IngestProblem[]> {
    const items = await listingOf(this.documents, this.tableName, "PROBLEMS", { newestFirst: true });
    return items.map((item) => parseWith(ItemSchema, item, "problem item"));
  }
}
