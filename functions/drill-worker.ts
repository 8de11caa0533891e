import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from "@aws-sdk/client-sfn";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { SecretLookup } from "../shared/aws/secrets";
import { openCatalog } from "../shared/catalog/dynamo/open";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { METRICS } from "../shared/contracts/metrics";
import { handleDrillMessage, type TaskCallbacks } from "../shared/drills/worker";
import { secretPasswords } from "../shared/restic/passwords";
import { lazyHandler } from "./commons/lazy-handler";
import { type Observability, observability } from "./commons/observability";

export interface DrillWorkerClients {
  s3: S3Client;
  dynamo: DynamoDBClient;
  secrets: SecretsManagerClient;
  sfn: SFNClient;
}

/** Builds the drill worker: one message of the drill queue per invocation, failures reported one by one. */
export function createDrillWorker(
  settings: SettingsOf<"drillWorker">,
  clients: DrillWorkerClients,
  { logger, metrics }: Observability = observability("drill-worker"),
) {
  const catalog = openCatalog(clients.dynamo, settings.catalogTable);
  const secrets = new SecretLookup(clients.secrets);
  const callbacks: TaskCallbacks = {
    success: async (taskToken, output) => {
      await clients.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    },
    failure: async (taskToken, error, cause) => {
      await clients.sfn.send(new SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32_000) }));
    },
    heartbeat: async (taskToken) => {
      await clients.sfn.send(new SendTaskHeartbeatCommand({ taskToken }));
    },
  };
  const processor = new BatchProcessor(EventType.SQS);

  async function handleRecord(record: SQSRecord): Promise<void> {
    const endpoint = await clients.s3.config.endpoint?.();
    const outcome = await handleDrillMessage(record.body, {
      s3: clients.s3,
      bucket: settings.backupBucket,
      region: await clients.s3.config.region(),
      ...(endpoint
        ? { endpoint: `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ""}` }
        : {}),
      catalog: catalog.backups,
      drills: catalog.drills,
      repositories: catalog.repositories,
      passwords: secretPasswords(secrets),
      alerts: catalog.alerts,
      masterKey: async () => (await secrets.get(settings.masterKeySecret))?.text,
      agent: objectOf(settings.drillAgentObject),
      restic: objectOf(settings.drillResticObject),
      callbacks,
      log: logger,
      onFinished: (drill) => {
        // A prune job proves nothing restorable: its failure is alerted, it is no drill figure.
        if (drill.kind === "prune") return;
        const passed = drill.status === "PASSED";
        metrics.addMetric(METRICS.drillPassed.metricName, MetricUnit.Count, passed ? 1 : 0);
        metrics.addMetric(METRICS.drillNotPassed.metricName, MetricUnit.Count, passed ? 0 : 1);
        if (drill.phases.total !== null) {
          metrics.addMetric(METRICS.drillRtoSeconds.metricName, MetricUnit.Seconds, drill.phases.total);
        }
      },
      now: () => new Date(),
      random: Math.random,
    });
    logger.info("handled a drill message", { outcome });
  }

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    logger.addContext(context);
    try {
      return await processPartialResponse(event, handleRecord, processor, { context, throwOnFullBatchFailure: false });
    } finally {
      metrics.addMetric("DrillMessages", MetricUnit.Count, event.Records.length);
      metrics.publishStoredMetrics();
    }
  };
}

/** "bucket/key", or "none" when the deployment ships no such asset. */
function objectOf(setting: string): { bucket: string; key: string } | null {
  const slash = setting.indexOf("/");
  return setting === "none" || slash <= 0 ? null : { bucket: setting.slice(0, slash), key: setting.slice(slash + 1) };
}

export const handler = lazyHandler(FUNCTIONS.drillWorker, (settings) =>
  createDrillWorker(settings, {
    s3: new S3Client({}),
    dynamo: new DynamoDBClient({}),
    secrets: new SecretsManagerClient({}),
    sfn: new SFNClient({}),
  }),
);
