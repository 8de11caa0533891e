import type { DrillPlan } from "./plan";
import type { DrillRecord } from "./record";

/** A source's stored plan and the last cron time the dispatcher started a drill for. */
export interface StoredPlan {
  source: string;
  plan: DrillPlan;
  lastDueAt: string | null;
}

/** Drills and drill plans in the catalog (the DynamoDB implementation is catalog/dynamo/drill-store.ts). */
export interface DrillStore {
  create(record: DrillRecord): Promise<void>;
  /** Merges `changes` into the drill; a finished drill (not RUNNING) is never changed again. */
  update(id: string, changes: Partial<DrillRecord>): Promise<DrillRecord | undefined>;
  get(id: string): Promise<DrillRecord | undefined>;
  /** Newest first. */
  listBySource(source: string, limit?: number): Promise<DrillRecord[]>;
  /** Every source's drills, newest first. */
  recent(limit?: number): Promise<DrillRecord[]>;
  newestPassed(source: string): Promise<DrillRecord | undefined>;
  /** The callback token of the step waiting for the agent's report (Step Functions); never in the record. */
  setTaskToken(id: string, token: string): Promise<void>;
  taskToken(id: string): Promise<string | undefined>;
  getPlan(source: string): Promise<StoredPlan | undefined>;
  putPlan(source: string, plan: DrillPlan): Promise<void>;
  deletePlan(source: string): Promise<boolean>;
  listPlans(): Promise<StoredPlan[]>;
  /** Records that the drill due at `dueAt` was started, unless another dispatcher did: false then. */
  claimDue(source: string, dueAt: string): Promise<boolean>;
}
