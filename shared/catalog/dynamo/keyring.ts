import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { type HeldKey, HeldKeySchema } from "../../keys/master-key";
import { parseWith } from "../../validation";
import type { Keyring } from "../keyring";

const KEY = { pk: "KEYRING", sk: "#KEYRING" };
const ItemSchema = z.object({ keys: z.array(HeldKeySchema) });

/**
 * Which master keys the service holds (every version of the master key secret), by id and
 * fingerprint only. The indexer reads it to flag sets made with a key that is no longer held;
 * it never needs the key material itself.
 */
export class DynamoKeyring implements Keyring {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async replace(keys: HeldKey[]): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...KEY, keys } }));
  }

  /** undefined until someone has run `restorable key register`: then nothing can be judged. */
  async held(): Promise<HeldKey[] | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }),
    );
    return result.Item ? parseWith(ItemSchema, result.Item, "keyring item").keys : undefined;
  }
}
