import { CronExpressionParser } from "cron-parser";
import * as z from "zod";

/** An SQL assertion from the plan: a query run against the restored database, and what it must give. */
export const SqlAssertionSchema = z.strictObject({
  name: z.string().min(1).max(100),
  query: z.string().min(1).max(10_000),
  /** At least this many rows. */
  minRows: z.number().int().nonnegative().optional(),
  /** The first column of the first row, as text, equals this. */
  equals: z.string().optional(),
});
export type SqlAssertion = z.infer<typeof SqlAssertionSchema>;

/** The application's own "start the server and check" (the backup page's smoke test), run on the instance. */
export const SmokeCommandSchema = z.strictObject({
  command: z.string().min(1).max(4096),
  timeoutSeconds: z.number().int().min(1).max(3600).default(300),
  /**
   * Give the command the master key (in RESTORABLE_MASTER_KEY): the only way a secret reaches a drill
   * instance, and only when the plan says so.
   */
  withMasterKey: z.boolean().default(false),
});

function validCron(text: string, timeZone: string): string | undefined {
  try {
    CronExpressionParser.parse(text, { tz: timeZone });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * How a source's backups are drilled: when (cron in a time zone, started within a window, as EventBridge
 * Scheduler does), which backup (LATEST or RANDOM within the last N days, as AWS Backup restore testing
 * selects), on what instance, within what time, and the checks beyond the built-in ones.
 */
export const DrillPlanSchema = z
  .strictObject({
    schedule: z
      .strictObject({
        cron: z.string().min(1),
        timeZone: z.string().default("UTC"),
        /** The drill starts at a random moment this many hours after the cron time (1 to 168). */
        startWindowHours: z.number().int().min(1).max(168).default(1),
      })
      .nullable()
      .default(null),
    selection: z
      .strictObject({
        mode: z.enum(["LATEST", "RANDOM"]).default("LATEST"),
        withinDays: z.number().int().min(1).max(365).default(30),
      })
      .default({ mode: "LATEST", withinDays: 30 }),
    instance: z
      .strictObject({
        type: z
          .string()
          .regex(/^[a-z0-9]+\.[a-z0-9]+$/, "an EC2 instance type such as t4g.large")
          .default("t4g.large"),
        diskGiB: z.number().int().min(8).max(16_384).default(50),
      })
      .default({ type: "t4g.large", diskGiB: 50 }),
    timeouts: z
      .strictObject({
        /** The whole drill, launch to report; the instance shuts itself down after it too. */
        drillMinutes: z
          .number()
          .int()
          .min(5)
          .max(24 * 60)
          .default(120),
        /** The agent reports progress at least this often, or the drill is called off. */
        heartbeatSeconds: z.number().int().min(10).max(3600).default(300),
      })
      .default({ drillMinutes: 120, heartbeatSeconds: 300 }),
    checks: z
      .strictObject({
        /** A table whose rows fell by more than this share since the last passing drill fails the baseline. */
        rowDropTolerancePercent: z.number().min(0).max(100).default(10),
        sql: z.array(SqlAssertionSchema).max(100).default([]),
        smoke: SmokeCommandSchema.nullable().default(null),
        /** restic: `check --read-data-subset=k/n` with k rotating per drill, so n drills read every pack. */
        resticReadDataSubsets: z.number().int().min(1).max(256).default(10),
      })
      .default({ rowDropTolerancePercent: 10, sql: [], smoke: null, resticReadDataSubsets: 10 }),
  })
  .superRefine((plan, context) => {
    if (!plan.schedule) return;
    const problem = validCron(plan.schedule.cron, plan.schedule.timeZone);
    if (problem) context.addIssue({ code: "custom", path: ["schedule", "cron"], message: problem });
  });
export type DrillPlan = z.infer<typeof DrillPlanSchema>;
export type DrillPlanInput = z.input<typeof DrillPlanSchema>;

/** The plan every source gets until one is set: no schedule (drills only on demand), built-in checks only. */
export const DEFAULT_DRILL_PLAN: DrillPlan = DrillPlanSchema.parse({});

/**
 * When a scheduled plan is next due after `after`: the next cron time in its zone. The start window is
 * applied by the dispatcher, which starts the drill at a random moment within it.
 */
export function nextDrillTime(plan: DrillPlan, after: Date): Date | undefined {
  if (!plan.schedule) return undefined;
  return CronExpressionParser.parse(plan.schedule.cron, { tz: plan.schedule.timeZone, currentDate: after })
    .next()
    .toDate();
}
