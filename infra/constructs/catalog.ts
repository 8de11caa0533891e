import { RemovalPolicy } from "aws-cdk-lib";
import { AttributeType, Billing, TableV2 } from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { CATALOG_TABLE_DEFINITION } from "../../shared/contracts/catalog-table";

const string = (name: string) => ({ name, type: AttributeType.STRING });

/** The catalog is the record of truth: on-demand, point-in-time recovery, retained, deletion-protected. */
export class Catalog extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const { keys, indexes } = CATALOG_TABLE_DEFINITION;
    this.table = new TableV2(this, "Table", {
      partitionKey: string(keys.partitionKey),
      sortKey: string(keys.sortKey),
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: indexes.map((index) => ({
        indexName: index.indexName,
        partitionKey: string(index.partitionKey),
        sortKey: string(index.sortKey),
      })),
    });
  }
}
