import { type DynamoDBDocumentClient, paginateQuery } from "@aws-sdk/lib-dynamodb";
import { CATALOG_INDEXES } from "../../contracts/catalog-table";

/**
 * Every item of one partition of the `sources` index (SOURCES, REPOSITORIES, PROBLEMS, ALERTS):
 * the catalog's listings of small, bounded collections. A Query, never a Scan.
 */
export async function listingOf(
  documents: DynamoDBDocumentClient,
  tableName: string,
  partition: string,
  options: { newestFirst?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const pages = paginateQuery(
    { client: documents },
    {
      TableName: tableName,
      IndexName: CATALOG_INDEXES.sources.indexName,
      KeyConditionExpression: "gsi2pk = :partition",
      ExpressionAttributeValues: { ":partition": partition },
      ScanIndexForward: !options.newestFirst,
    },
  );
  for await (const page of pages) items.push(...(page.Items ?? []));
  return items;
}
