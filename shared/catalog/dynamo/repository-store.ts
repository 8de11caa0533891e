import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import type { RepositoryStore } from "../../restic/ports";
import {
  type PruneState,
  PruneStateSchema,
  type RepositoryHealth,
  type ResticRepository,
  ResticRepositorySchema,
  type VerificationState,
} from "../../restic/repository";
import { parseWith } from "../../validation";
import { listingOf } from "./listing";

const key = (name: string) => ({ pk: `REPOSITORY#${name}`, sk: "#REPOSITORY" });
/** The prune state lives beside the repository map, so that it can be set without the map's other fields. */
const ItemSchema = z.object({
  repository: ResticRepositorySchema,
  pruneRequestedAt: PruneStateSchema.shape.requestedAt.optional(),
  pruneStartedAt: PruneStateSchema.shape.startedAt.optional(),
  lastPrune: PruneStateSchema.shape.last.optional(),
});

function toRepository(item: Record<string, unknown>): ResticRepository {
  const parsed = parseWith(ItemSchema, item, "repository item");
  const prune: PruneState = {
    requestedAt: parsed.pruneRequestedAt ?? null,
    startedAt: parsed.pruneStartedAt ?? null,
    last: parsed.lastPrune ?? null,
  };
  return { ...parsed.repository, prune: prune.requestedAt || prune.startedAt || prune.last ? prune : null };
}

const isConditionalFailure = (error: unknown) =>
  error instanceof Error && error.name === "ConditionalCheckFailedException";

/**
 * Registered restic repositories, in the catalog table: pk REPOSITORY#<name>, listed through the
 * `sources` index under gsi2pk = REPOSITORIES. The password itself lives in Secrets Manager.
 */
export class DynamoRepositoryStore implements RepositoryStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /**
   * Registers a repository, or changes the settings of a registered one while keeping its health and
   * verification history.
   */
  async register(repository: ResticRepository): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key(repository.name),
            gsi2pk: "REPOSITORIES",
            gsi2sk: repository.name,
            repository: { ...repository, prune: undefined },
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (error) {
      if (!(error instanceof Error && error.name === "ConditionalCheckFailedException")) throw error;
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(repository.name),
          UpdateExpression: "SET #r.secretName = :secret, #r.groupBy = :groupBy, #r.verifySlices = :slices",
          ExpressionAttributeNames: { "#r": "repository" },
          ExpressionAttributeValues: {
            ":secret": repository.secretName,
            ":groupBy": repository.groupBy,
            ":slices": repository.verifySlices,
          },
        }),
      );
    }
  }

  async get(name: string): Promise<ResticRepository | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: key(name), ConsistentRead: true }),
    );
    return result.Item ? toRepository(result.Item) : undefined;
  }

  async list(): Promise<ResticRepository[]> {
    const items = await listingOf(this.documents, this.tableName, "REPOSITORIES");
    return items.map(toRepository);
  }

  /** Records the repository's health only when it changes, so `since` says when it became so. */
  async setHealth(name: string, health: RepositoryHealth): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(name),
          UpdateExpression: "SET #repository.health = :health",
          ConditionExpression:
            "attribute_exists(pk) AND (attribute_type(#repository.health, :null) OR #repository.health.#status <> :status OR #repository.health.reason <> :reason)",
          ExpressionAttributeNames: { "#repository": "repository", "#status": "status" },
          ExpressionAttributeValues: {
            ":health": health,
            ":status": health.status,
            ":reason": health.reason,
            ":null": "NULL",
          },
        }),
      );
    } catch (error) {
      if (error instanceof Error && error.name === "ConditionalCheckFailedException") return;
      throw error;
    }
  }

  /** Stores a verification run's state if no other run stored one since `previousRuns` was read. */
  async setVerification(name: string, previousRuns: number | null, next: VerificationState): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(name),
          UpdateExpression: "SET #r.verification = :next",
          ConditionExpression:
            previousRuns === null
              ? "attribute_exists(pk) AND attribute_type(#r.verification, :null)"
              : "attribute_exists(pk) AND #r.verification.runs = :runs",
          ExpressionAttributeNames: { "#r": "repository" },
          ExpressionAttributeValues:
            previousRuns === null ? { ":next": next, ":null": "NULL" } : { ":next": next, ":runs": previousRuns },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  async requestPrune(name: string, at: Date): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(name),
        UpdateExpression: "SET pruneRequestedAt = :at",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":at": at.toISOString() },
      }),
    );
  }

  async claimPrune(name: string, at: Date, options: { force?: boolean } = {}): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(name),
          UpdateExpression: options.force
            ? "SET pruneStartedAt = :at, pruneRequestedAt = if_not_exists(pruneRequestedAt, :at)"
            : "SET pruneStartedAt = :at",
          ConditionExpression: options.force
            ? "attribute_exists(pk)"
            : "attribute_exists(pruneRequestedAt) AND (attribute_not_exists(pruneStartedAt) OR pruneStartedAt < pruneRequestedAt)",
          ExpressionAttributeValues: { ":at": at.toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async recordPrune(name: string, last: NonNullable<PruneState["last"]>): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(name),
        UpdateExpression: "SET lastPrune = :last",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":last": last },
      }),
    );
  }
}
