import * as z from "zod";
import { decodeEventKey, S3NotificationMessageSchema } from "../ingest/s3-events";
import type { Log } from "../log";
import { parseJsonWith } from "../validation";
import { type FinishDependencies, finishDrill, reportArrived } from "./finish";
import { classifyDrillKey, drillKeys } from "./layout";
import type { DrillStore } from "./ports";
import { DrillCannotStartError, DrillRequestSchema, type PrepareDependencies, prepareDrill } from "./prepare";
import type { DrillRecord } from "./record";

/**
 * What the state machine hands the drill worker through its queue (`sqs:sendMessage.waitForTaskToken`):
 * each step that runs our code is a message with the step's task token, answered with SendTaskSuccess or
 * SendTaskFailure. The same definition thus runs in AWS (the worker is a Lambda on the queue) and in the
 * emulator, which cannot run Lambda code (the local stack polls the queue).
 */
export const DrillTaskMessageSchema = z.discriminatedUnion("task", [
  z.object({
    task: z.literal("prepare"),
    token: z.string(),
    request: DrillRequestSchema,
    executionArn: z.string().nullish(),
  }),
  z.object({ task: z.literal("await-report"), token: z.string(), drillId: z.string(), instanceIds: z.unknown() }),
  z.object({
    task: z.literal("finish"),
    token: z.string(),
    drillId: z.string(),
    instanceIds: z.unknown(),
    failure: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).nullish(),
  }),
]);
export type DrillTaskMessage = z.infer<typeof DrillTaskMessageSchema>;

/** Answers to the state machine's waiting steps (Step Functions' SendTask* calls). */
export interface TaskCallbacks {
  success(token: string, output: object): Promise<void>;
  failure(token: string, error: string, cause: string): Promise<void>;
  heartbeat(token: string): Promise<void>;
}

export type WorkerDependencies = Omit<PrepareDependencies, "drills" | "catalog"> &
  Omit<FinishDependencies, "drills" | "catalog"> & {
    catalog: PrepareDependencies["catalog"] & FinishDependencies["catalog"];
    drills: PrepareDependencies["drills"] &
      FinishDependencies["drills"] &
      Pick<DrillStore, "setTaskToken" | "taskToken">;
    callbacks: TaskCallbacks;
    log: Log;
    /** Told of each drill judged (for its figures). */
    onFinished?: (drill: DrillRecord) => void;
  };

/**
 * Handles one message of the drill queue: a step of the state machine, or the S3 event of an agent's report
 * or heartbeat (which answer the step waiting for the agent). Throws only for what a retry can fix.
 */
export async function handleDrillMessage(body: string, deps: WorkerDependencies): Promise<string> {
  const json = parseJsonWith(z.unknown(), body, "drill queue message");
  const notification = S3NotificationMessageSchema.safeParse(json);
  if (notification.success) {
    if (!("Records" in notification.data)) return "s3 test event";
    const outcomes = [];
    for (const record of notification.data.Records)
      outcomes.push(await onDrillFile(decodeEventKey(record.s3.object.key), deps));
    return outcomes.join(", ");
  }
  const message = parseJsonWith(DrillTaskMessageSchema, body, "drill task message");
  switch (message.task) {
    case "prepare":
      return prepare(message, deps);
    case "await-report":
      return awaitReport(message, deps);
    case "finish": {
      const finished = await finishDrill(
        { drillId: message.drillId, instanceIds: message.instanceIds, failure: message.failure ?? null },
        deps,
      );
      await answer(deps, () =>
        deps.callbacks.success(message.token, { status: finished.status, reason: finished.reason }),
      );
      return `finished ${finished.id}: ${finished.status}`;
    }
  }
}

async function prepare(message: Extract<DrillTaskMessage, { task: "prepare" }>, deps: WorkerDependencies) {
  try {
    const launch = await prepareDrill(message.request, message.executionArn ?? null, deps);
    await answer(deps, () => deps.callbacks.success(message.token, launch));
    return `prepared ${launch.drillId}`;
  } catch (error) {
    if (!(error instanceof DrillCannotStartError)) throw error;
    await answer(deps, () => deps.callbacks.failure(message.token, "DrillCannotStart", error.message));
    return `drill ${message.request.drillId} cannot start: ${error.message}`;
  }
}

async function awaitReport(message: Extract<DrillTaskMessage, { task: "await-report" }>, deps: WorkerDependencies) {
  await deps.drills.setTaskToken(message.drillId, message.token);
  // A fast agent may have reported before this step stored its token.
  if (await reportArrived(deps.s3, deps.bucket, message.drillId)) {
    await answer(deps, () => deps.callbacks.success(message.token, { reportKey: drillKeys(message.drillId).report }));
    return `report of ${message.drillId} was already there`;
  }
  return `waiting for the report of ${message.drillId}`;
}

async function onDrillFile(key: string, deps: WorkerDependencies): Promise<string> {
  const file = classifyDrillKey(key);
  if (!file || file.file === "config") return `ignored ${key}`;
  const token = await deps.drills.taskToken(file.drillId);
  // No token yet: the waiting step finds the report itself when it stores its token.
  if (!token) return `no step waits for ${key} yet`;
  if (file.file === "heartbeat") await answer(deps, () => deps.callbacks.heartbeat(token));
  else await answer(deps, () => deps.callbacks.success(token, { reportKey: key }));
  return `${file.file} of ${file.drillId}`;
}

/** A step that already timed out or ended does not take answers; that is not this message's failure. */
async function answer(deps: WorkerDependencies, call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    if (!/TaskTimedOut|TaskDoesNotExist|InvalidToken/.test(name)) throw error;
    deps.log.info("the state machine no longer waits for this answer", { error: name });
  }
}
