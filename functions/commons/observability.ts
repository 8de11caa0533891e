import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";

/** A handler's logger and metrics, set up the same way for every Lambda. */
export interface Observability {
  logger: Logger;
  metrics: Metrics;
}

/** Logs as `restorable-<service>`, metrics in the Restorable namespace under the service's name. */
export function observability(service: string): Observability {
  return {
    logger: new Logger({ serviceName: `restorable-${service}` }),
    metrics: new Metrics({ namespace: "Restorable", serviceName: service }),
  };
}
