import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createIndexer } from "../../functions/indexer";
import { SetWriter } from "../support/dumpsets";

// Faults the emulator cannot produce: DynamoDB throttling and S3 500s, one record at a time.
const s3 = mockClient(S3Client);
const dynamo = mockClient(DynamoDBDocumentClient);
let handler: (event: SQSEvent, context: never) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

beforeAll(() => {
  handler = createIndexer(
    { catalogTable: "catalog", backupBucket: "backups" },
    { s3: new S3Client({}), dynamo: new DynamoDBClient({}), secrets: new SecretsManagerClient({}) },
  ) as never;
});

afterEach(() => {
  s3.reset();
  dynamo.reset();
});

function eventFor(messageId: string, key: string) {
  return {
    messageId,
    body: JSON.stringify({
      Records: [
        {
          eventName: "ObjectCreated:Put",
          eventTime: "2025-01-01T00:00:00Z",
          s3: { bucket: { name: "backups" }, object: { key } },
        },
      ],
    }),
  };
}

function serve(set: SetWriter): void {
  s3.on(GetObjectCommand, { Key: set.manifestKey }).resolves({
    // The part of the SDK's stream mixin the indexer reads.
    Body: { transformToString: async () => JSON.stringify(set.manifest()) } as never,
    VersionId: "v1",
  });
  for (const component of set.components) {
    s3.on(HeadObjectCommand, { Key: component.key }).resolves({ ContentLength: component.size, VersionId: "c1" });
    s3.on(GetObjectTaggingCommand, { Key: component.key }).resolves({
      TagSet: [{ Key: "restorable-sha256", Value: component.sha256 }],
    });
  }
}

describe("the indexer under faults", () => {
  it("fails only the message whose catalog write was throttled", async () => {
    const healthy = new SetWriter(new S3Client({}), "backups", "a", { "main.dump": "PGDMP a" });
    const throttled = new SetWriter(new S3Client({}), "backups", "b", { "main.dump": "PGDMP b" });
    serve(healthy);
    serve(throttled);
    const throttling = Object.assign(new Error("Rate exceeded"), {
      name: "ThrottlingException",
      $metadata: { httpStatusCode: 400 },
    });
    dynamo.onAnyCommand().resolves({});
    dynamo.on(PutCommand).callsFake((input: { Item: { pk: string } }) => {
      if (input.Item.pk === `BACKUP#${throttled.setId}`) throw throttling;
      return {};
    });

    const response = await handler(
      {
        Records: [eventFor("m-healthy", healthy.manifestKey), eventFor("m-throttled", throttled.manifestKey)],
      } as SQSEvent,
      {} as never,
    );

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m-throttled" }]);
  });

  it("retries a set whose component S3 could not describe (500), instead of recording it as missing", async () => {
    const set = new SetWriter(new S3Client({}), "backups", "c", { "main.dump": "PGDMP c" });
    serve(set);
    s3.on(HeadObjectCommand).rejects(
      Object.assign(new Error("We encountered an internal error"), {
        name: "InternalError",
        $metadata: { httpStatusCode: 500 },
      }),
    );

    const response = await handler({ Records: [eventFor("m-500", set.manifestKey)] } as SQSEvent, {} as never);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m-500" }]);
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });
});
