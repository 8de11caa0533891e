/**
 * The catalog table's key schema: the one definition both the CDK stack and the local stack build
 * the table from. See ./README.md for the item types and the access patterns they serve.
 */
export const CATALOG_KEYS = {
  partitionKey: "pk",
  sortKey: "sk",
} as const;

export const CATALOG_INDEXES = {
  /** Per-source and per-tag timelines, newest first: gsi1pk = SOURCE#<source> | TAG#<tag>, gsi1sk = <createdAt>#<id>. */
  timeline: { indexName: "timeline", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
  /** Every source: gsi2pk = SOURCES, gsi2sk = <source>. */
  sources: { indexName: "sources", partitionKey: "gsi2pk", sortKey: "gsi2sk" },
} as const;

export type CatalogIndexName = keyof typeof CATALOG_INDEXES;

/** All key attributes are strings; the table is on-demand. */
export const CATALOG_TABLE_DEFINITION = {
  keys: CATALOG_KEYS,
  indexes: Object.values(CATALOG_INDEXES),
  attributeType: "S",
  billing: "PAY_PER_REQUEST",
} as const;
