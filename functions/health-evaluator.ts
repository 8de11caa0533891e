import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context } from "aws-lambda";
import { openCatalog } from "../shared/catalog/dynamo/open";
import { FUNCTIONS, type SettingsOf } from "../shared/contracts/functions";
import { METRICS } from "../shared/contracts/metrics";
import { evaluateSources, type HealthRunReport } from "../shared/health/run";
import { lazyHandler } from "./commons/lazy-handler";
import { type Observability, observability } from "./commons/observability";

export interface HealthEvaluatorClients {
  dynamo: DynamoDBClient;
}

export interface HealthEvaluatorOptions {
  /** The clock (tests advance it). */
  now?: () => Date;
}

export interface HealthEvaluatorResult {
  sources: number;
  transitions: number;
  alerts: number;
  stale: number;
  late: number;
}

/**
 * Scheduled: judges every source's backups against its expectation (UP, LATE, STALE, PAUSED, NEW), records
 * each state change once and raises its alert (the notifier sends it), reminds of sources that stay STALE.
 */
export function createHealthEvaluator(
  settings: SettingsOf<"healthEvaluator">,
  clients: HealthEvaluatorClients,
  { logger, metrics }: Observability = observability("health-evaluator"),
  options: HealthEvaluatorOptions = {},
) {
  const catalog = openCatalog(clients.dynamo, settings.catalogTable);
  return async (_event: unknown, context: Context): Promise<HealthEvaluatorResult> => {
    logger.addContext(context);
    try {
      const report = await evaluateSources({
        catalog: catalog.backups,
        health: catalog.health,
        alerts: catalog.alerts,
        log: logger,
        now: options.now ?? (() => new Date()),
      });
      const result = summarise(report);
      publishAges(report, metrics);
      metrics.addMetric(METRICS.staleSources.metricName, MetricUnit.Count, result.stale);
      metrics.addMetric(METRICS.lateSources.metricName, MetricUnit.Count, result.late);
      metrics.addMetric("HealthTransitions", MetricUnit.Count, result.transitions);
      logger.info("evaluated source health", { ...result, failed: report.failed.length });
      if (report.failed.length > 0) {
        metrics.addMetric("HealthEvaluationsFailed", MetricUnit.Count, report.failed.length);
        // The others were judged; failing the run makes it seen (the Lambda's errors alarm) and retried.
        throw new Error(
          `could not evaluate the health of ${report.failed.length} source(s): ${report.failed
            .slice(0, 3)
            .map((failure) => `${failure.source}: ${failure.error}`)
            .join("; ")}`,
        );
      }
      return result;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

function summarise(report: HealthRunReport): HealthEvaluatorResult {
  const count = (state: string) => report.sources.filter((source) => source.verdict.state === state).length;
  return {
    sources: report.sources.length,
    transitions: report.sources.filter((source) => source.transition && !source.lostRace).length,
    alerts: report.sources.filter((source) => source.alert).length,
    stale: count("STALE"),
    late: count("LATE"),
  };
}

/** One EMF record per source, the source in its metadata: one metric, searchable per source in the logs. */
function publishAges(report: HealthRunReport, metrics: Observability["metrics"]): void {
  for (const { verdict } of report.sources) {
    if (verdict.ageSeconds === null || verdict.state === "PAUSED") continue;
    metrics
      .singleMetric()
      .addMetadata("source", verdict.source)
      .addMetadata("state", verdict.state)
      .addMetric(METRICS.backupAgeSeconds.metricName, MetricUnit.Seconds, verdict.ageSeconds);
  }
}

export const handler = lazyHandler(FUNCTIONS.healthEvaluator, (settings) =>
  createHealthEvaluator(settings, { dynamo: new DynamoDBClient({}) }),
);
