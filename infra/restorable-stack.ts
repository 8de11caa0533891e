import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { STACK_OUTPUTS } from "../shared/deployment";
import { Catalog } from "./constructs/catalog";
import { Ingest } from "./constructs/ingest";
import { Scheduled } from "./constructs/scheduled";
import { BackupStorage } from "./constructs/storage";

export class RestorableStack extends Stack {
  readonly storage: BackupStorage;
  readonly catalog: Catalog;
  readonly ingest: Ingest;
  readonly scheduled: Scheduled;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.storage = new BackupStorage(this, "Storage");
    this.catalog = new Catalog(this, "Catalog");
    this.ingest = new Ingest(this, "Ingest", { bucket: this.storage.bucket, table: this.catalog.table });
    this.scheduled = new Scheduled(this, "Scheduled", {
      bucket: this.storage.bucket,
      table: this.catalog.table,
      ingestQueue: this.ingest.queue,
      intendedEncryption: this.storage.intendedEncryption,
    });

    new CfnOutput(this, STACK_OUTPUTS.bucket, { value: this.storage.bucket.bucketName });
    new CfnOutput(this, STACK_OUTPUTS.table, { value: this.catalog.table.tableName });
    new CfnOutput(this, STACK_OUTPUTS.queue, { value: this.ingest.queue.queueUrl });
    new CfnOutput(this, STACK_OUTPUTS.deadLetterQueue, { value: this.ingest.deadLetterQueue.queueUrl });
    new CfnOutput(this, STACK_OUTPUTS.encryption, { value: this.storage.intendedEncryption });
  }
}
