/**
 * The figures the Lambdas publish (Powertools EMF, dimension `service`) that alarms and the dashboard read:
 * one definition, so a renamed metric cannot silently leave an alarm watching nothing.
 */
export const METRICS_NAMESPACE = "Restorable";

export const METRICS = {
  /** Sources past their expected interval and grace (health evaluator). */
  staleSources: { metricName: "StaleSources", service: "health-evaluator" },
  /** Sources past due but within their grace (health evaluator). */
  lateSources: { metricName: "LateSources", service: "health-evaluator" },
  /**
   * Seconds since each source's newest COMPLETE backup: one EMF record per source (not paused, with one),
   * the source in its metadata, not a dimension (one metric for hundreds of workspaces); Maximum = the oldest.
   */
  backupAgeSeconds: { metricName: "BackupAgeSeconds", service: "health-evaluator" },
  /** Days since the oldest "last proof of restore" among sources with a drill plan (drill dispatcher). */
  oldestProofDays: { metricName: "OldestProofOfRestoreDays", service: "drill-dispatcher" },
  drillPassed: { metricName: "DrillPassed", service: "drill-worker" },
  drillNotPassed: { metricName: "DrillNotPassed", service: "drill-worker" },
  drillRtoSeconds: { metricName: "DrillRtoSeconds", service: "drill-worker" },
  bytesIngested: { metricName: "BytesIngested", service: "indexer" },
  removedBackups: { metricName: "RemovedBackups", service: "retention" },
} as const;

export type MetricDefinition = (typeof METRICS)[keyof typeof METRICS];
