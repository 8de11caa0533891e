import { DescribeInstancesCommand, type EC2Client, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import type { AlertStore } from "../catalog/alerts";
import type { Log } from "../log";
import type { DrillStore } from "./ports";

/** Tags every drill instance carries from its launch (the state machine sets them). */
export const DRILL_TAGS = { drill: "restorable:drill", deadline: "restorable:deadline" } as const;

export interface JanitorDependencies {
  ec2: EC2Client;
  drills: Pick<DrillStore, "get" | "update">;
  alerts: Pick<AlertStore, "raiseOnce">;
  log: Log;
  now: () => Date;
}

/**
 * The backstop behind the state machine's own terminate step (which catchers run on every path, but which
 * an aborted or timed-out execution never reaches): every drill instance past its deadline is terminated,
 * and its drill, if still RUNNING, ends in ERROR with one alert.
 */
export async function sweepDrillInstances(deps: JanitorDependencies): Promise<string[]> {
  const overdue: { instanceId: string; drillId: string }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await deps.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "tag-key", Values: [DRILL_TAGS.drill] },
          { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
        ],
        NextToken: nextToken,
      }),
    );
    for (const instance of (page.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
      const tag = (key: string) => instance.Tags?.find((t) => t.Key === key)?.Value;
      const deadline = Date.parse(tag(DRILL_TAGS.deadline) ?? "");
      const drillId = tag(DRILL_TAGS.drill);
      // An instance without a readable deadline is not ours to judge by time; launch always sets one.
      if (!instance.InstanceId || !drillId || !Number.isFinite(deadline) || deadline > deps.now().getTime()) continue;
      overdue.push({ instanceId: instance.InstanceId, drillId });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  if (overdue.length === 0) return [];
  await deps.ec2.send(new TerminateInstancesCommand({ InstanceIds: overdue.map((o) => o.instanceId) }));
  for (const { instanceId, drillId } of overdue) {
    deps.log.warn("terminated a drill instance past its deadline", { instanceId, drillId });
    const drill = await deps.drills.get(drillId);
    if (drill?.status !== "RUNNING") continue;
    const reason = `the janitor terminated instance ${instanceId}: past the drill's deadline (${drill.deadline})`;
    await deps.drills.update(drillId, { status: "ERROR", reason, finishedAt: deps.now().toISOString(), instanceId });
    await deps.alerts.raiseOnce(
      `drill:${drillId}`,
      {
        kind: "drill-failed",
        subject: drill.source,
        message: `restore drill ${drillId} of ${drill.source} ERROR: ${reason}; restorable drill show ${drillId}`,
        details: { drillId, status: "ERROR", backupId: drill.backupId, reason },
      },
      deps.now(),
    );
  }
  return overdue.map((o) => o.instanceId);
}
