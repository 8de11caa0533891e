import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoAlertStore } from "./alert-store";
import { DynamoCatalogStore } from "./catalog-store";
import { DynamoDrillStore } from "./drill-store";
import { DynamoHealthStore } from "./health-store";
import { DynamoKeyring } from "./keyring";
import { DynamoProblemStore } from "./problem-store";
import { DynamoRepositoryStore } from "./repository-store";
import { DynamoRetentionStore } from "./retention-store";

/** Every store of the catalog table, as the Lambdas, the CLI and the tests use them. */
export interface Catalog {
  backups: DynamoCatalogStore;
  repositories: DynamoRepositoryStore;
  retention: DynamoRetentionStore;
  alerts: DynamoAlertStore;
  problems: DynamoProblemStore;
  keyring: DynamoKeyring;
  drills: DynamoDrillStore;
  health: DynamoHealthStore;
}

/** The one way to open the catalog: one table, one client, a store per access pattern. */
export function openCatalog(dynamo: DynamoDBClient, tableName: string): Catalog {
  return {
    backups: new DynamoCatalogStore(dynamo, tableName),
    repositories: new DynamoRepositoryStore(dynamo, tableName),
    retention: new DynamoRetentionStore(dynamo, tableName),
    alerts: new DynamoAlertStore(dynamo, tableName),
    problems: new DynamoProblemStore(dynamo, tableName),
    keyring: new DynamoKeyring(dynamo, tableName),
    drills: new DynamoDrillStore(dynamo, tableName),
    health: new DynamoHealthStore(dynamo, tableName),
  };
}
