/**
 * The scheduled Lambdas, one definition for the CDK stack (EventBridge rules) and the local stack
 * (timers in-process, since the emulator stores schedules but never fires them).
 */
export const SCHEDULES = {
  /** Verifies one slice of every restic repository per run: with 30 slices, each file monthly. */
  verifier: {
    handler: "verifier",
    everyMinutes: 24 * 60,
    localEverySeconds: 24 * 60 * 60,
    description: "Verifies restic repository files against their names",
  },
  /**
   * Catches snapshot changes no event reported. The emulator never sends delete-marker events, so
   * the local stack runs it every few seconds to see `restic forget`.
   */
  reconciler: {
    handler: "reconciler",
    everyMinutes: 60,
    localEverySeconds: 5,
    description: "Hands the indexer restic snapshot changes that no S3 event reported",
  },
  /** Applies retention to every source once a day; `restorable retention apply` runs it now. */
  retention: {
    handler: "retention",
    everyMinutes: 24 * 60,
    localEverySeconds: 24 * 60 * 60,
    description: "Applies the retention policies with their safety floors",
  },
  /** Compares the bucket's settings with the intended ones and puts drifted ones back. */
  bucketAudit: {
    handler: "bucket-audit",
    everyMinutes: 6 * 60,
    localEverySeconds: 6 * 60 * 60,
    description: "Audits the backup bucket's lifecycle, versioning, encryption and public access",
  },
} as const;

export type ScheduledFunction = keyof typeof SCHEDULES;
