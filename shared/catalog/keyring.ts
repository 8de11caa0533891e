import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { type HeldKey, HeldKeySchema } from "../master-key";
import { parseWith } from "../validation";

const KEY = { pk: "KEYRING", sk: "#KEYRING" };
const ItemSchema = z.object({ keys: z.array(HeldKeySchema) });

/**
 * Which master keys the service holds (every version of the master key secret), by id and
 * fingerprint only. The indexer reads it to flag sets made with a key that is no longer held;
 * it never needs the key material itself.
 */
export class DynamoKeyring {
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

/** A warm Lambda reads the keyring once a minute, not per set. */
export class CachedKeyring {
  private cached: { ids: Set<string> | undefined; until: number } | undefined;

  constructor(
    private readonly keyring: Pick<DynamoKeyring, "held">,
    private readonly ttlMs = 60_000,
  ) {}

  async heldKeyIds(): Promise<Set<string> | undefined> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.ids;
    const keys = await this.keyring.held();
    const ids = keys ? new Set(keys.flatMap((key) => [key.keyId, key.fingerprint])) : undefined;
    this.cached = { ids, until: Date.now() + this.ttlMs };
    return ids;
  }
}
