import { randomBytes } from "node:crypto";
import { CronExpressionParser } from "cron-parser";
import type { Log } from "../log";
import type { RepositoryStore } from "../restic/ports";
import type { DrillPlan } from "./plan";
import type { DrillStore } from "./ports";
import type { DrillRequest } from "./prepare";
import { makeDrillId, pruneSource } from "./record";

export interface DispatchDependencies {
  drills: Pick<DrillStore, "listPlans" | "claimDue">;
  repositories: Pick<RepositoryStore, "list" | "claimPrune">;
  /** Starts the state machine with the request as input (named after the drill). */
  start(request: DrillRequest): Promise<void>;
  log: Log;
  now: () => Date;
}

/**
 * One schedule for every plan: each run starts the drills whose cron time (in the plan's zone) has come and
 * whose start window is still open, once per cron time (claimed with a conditional write, so two runs never
 * start the same drill twice). A drill thus starts within the dispatcher's period after its time, inside its
 * window; a window missed entirely (the dispatcher did not run) is skipped, not caught up.
 */
export async function dispatchDueDrills(deps: DispatchDependencies): Promise<string[]> {
  const started: string[] = [];
  const now = deps.now();
  for (const { source, plan, lastDueAt } of await deps.drills.listPlans()) {
    const due = dueAt(plan, now);
    if (!due || (lastDueAt && lastDueAt >= due.toISOString())) continue;
    if (!(await deps.drills.claimDue(source, due.toISOString()))) continue;
    const request: DrillRequest = {
      drillId: makeDrillId(now, randomBytes(4).toString("hex")),
      source,
      backupId: null,
      trigger: "schedule",
    };
    await deps.start(request);
    deps.log.info("started a scheduled restore drill", { source, drillId: request.drillId, due: due.toISOString() });
    started.push(request.drillId);
  }
  started.push(...(await dispatchWantedPrunes(deps, now)));
  return started;
}

/**
 * Starts `restic prune` for each repository in which retention forgot snapshots since its last prune was
 * started, once per request (claimPrune is a conditional write).
 */
async function dispatchWantedPrunes(deps: DispatchDependencies, now: Date): Promise<string[]> {
  const started: string[] = [];
  for (const repository of await deps.repositories.list()) {
    const prune = repository.prune;
    if (!prune?.requestedAt || (prune.startedAt && prune.startedAt >= prune.requestedAt)) continue;
    if (!(await deps.repositories.claimPrune(repository.name, now))) continue;
    const request: DrillRequest = {
      drillId: makeDrillId(now, randomBytes(4).toString("hex")),
      source: pruneSource(repository.name),
      backupId: null,
      trigger: "schedule",
      job: "prune",
      repository: repository.name,
    };
    await deps.start(request);
    deps.log.info("started restic prune", { repository: repository.name, drillId: request.drillId });
    started.push(request.drillId);
  }
  return started;
}

/** The cron time whose start window is open now, if any. */
export function dueAt(plan: DrillPlan, now: Date): Date | undefined {
  if (!plan.schedule) return undefined;
  const previous = CronExpressionParser.parse(plan.schedule.cron, {
    tz: plan.schedule.timeZone,
    currentDate: new Date(now.getTime() + 1000),
  })
    .prev()
    .toDate();
  return now.getTime() - previous.getTime() < plan.schedule.startWindowHours * 3_600_000 ? previous : undefined;
}
