import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { STACK_OUTPUTS } from "../shared/contracts/deployment";
import { Catalog } from "./constructs/catalog";
import { Drills } from "./constructs/drills";
import { HostAccess } from "./constructs/host-access";
import { Ingest } from "./constructs/ingest";
import { MasterKey } from "./constructs/master-key";
import { Monitoring } from "./constructs/monitoring";
import { Scheduled } from "./constructs/scheduled";
import { BackupStorage, type ObjectLockSettings } from "./constructs/storage";

export interface RestorableStackProps extends StackProps {
  /** Sources whose hosts push dump sets: each gets a least-privilege managed policy. */
  hostSources?: readonly string[];
  /** restic repositories written by plain restic on hosts: each gets an append-only policy. */
  resticRepositories?: readonly string[];
  objectLock?: ObjectLockSettings;
  masterKeyReplicaRegion?: string;
}

export class RestorableStack extends Stack {
  readonly storage: BackupStorage;
  readonly catalog: Catalog;
  readonly ingest: Ingest;
  readonly scheduled: Scheduled;

  readonly masterKey: MasterKey;
  readonly hosts: HostAccess;
  readonly drills: Drills;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: RestorableStackProps = {}) {
    super(scope, id, props);
    this.storage = new BackupStorage(this, "Storage", props.objectLock ? { objectLock: props.objectLock } : {});
    this.masterKey = new MasterKey(
      this,
      "MasterKey",
      props.masterKeyReplicaRegion ? { replicaRegion: props.masterKeyReplicaRegion } : {},
    );
    this.hosts = new HostAccess(this, "Hosts", {
      bucket: this.storage.bucket,
      key: this.storage.key,
      sources: props.hostSources ?? [],
      repositories: props.resticRepositories ?? [],
    });
    this.catalog = new Catalog(this, "Catalog");
    this.ingest = new Ingest(this, "Ingest", { bucket: this.storage.bucket, table: this.catalog.table });
    this.scheduled = new Scheduled(this, "Scheduled", {
      bucket: this.storage.bucket,
      table: this.catalog.table,
      ingestQueue: this.ingest.queue,
      deadLetterQueue: this.ingest.deadLetterQueue,
      intendedEncryption: this.storage.intendedEncryption,
    });

    this.drills = new Drills(this, "Drills", {
      bucket: this.storage.bucket,
      table: this.catalog.table,
      masterKey: this.masterKey.secret,
    });

    this.monitoring = new Monitoring(this, "Monitoring", {
      bucket: this.storage.bucket,
      table: this.catalog.table,
      scheduled: {
        verifier: this.scheduled.verifier,
        reconciler: this.scheduled.reconciler,
        retention: this.scheduled.retention,
        bucketAudit: this.scheduled.bucketAudit,
        drillDispatcher: this.drills.dispatcher,
        drillJanitor: this.drills.janitor,
      },
      functions: [
        this.ingest.indexer,
        this.scheduled.verifier,
        this.scheduled.reconciler,
        this.scheduled.retention,
        this.scheduled.bucketAudit,
        this.drills.worker,
        this.drills.dispatcher,
        this.drills.janitor,
      ],
      deadLetterQueues: [this.ingest.deadLetterQueue, this.drills.deadLetters],
      drillStateMachine: this.drills.stateMachine,
    });
    new CfnOutput(this, STACK_OUTPUTS.slackSecret, { value: this.monitoring.slackSecret.secretName });
    new CfnOutput(this, STACK_OUTPUTS.drillStateMachine, { value: this.drills.stateMachine.stateMachineArn });
    new CfnOutput(this, STACK_OUTPUTS.bucket, { value: this.storage.bucket.bucketName });
    new CfnOutput(this, STACK_OUTPUTS.table, { value: this.catalog.table.tableName });
    new CfnOutput(this, STACK_OUTPUTS.queue, { value: this.ingest.queue.queueUrl });
    new CfnOutput(this, STACK_OUTPUTS.deadLetterQueue, { value: this.ingest.deadLetterQueue.queueUrl });
    new CfnOutput(this, STACK_OUTPUTS.encryption, { value: this.storage.intendedEncryption });
    new CfnOutput(this, STACK_OUTPUTS.masterKeySecret, { value: this.masterKey.secret.secretName });
  }
}
