import * as z from "zod";
import type { RetentionSettings, SettingsScope } from "./settings";

export const PlanPointerSchema = z.object({
  source: z.string(),
  plannedAt: z.iso.datetime({ offset: true }),
  /** Where the whole plan is stored in the bucket; plans outgrow DynamoDB's 400 KB items. */
  planKey: z.string(),
  status: z.enum(["OK", "REFUSED", "NO_POLICY"]),
  kept: z.number().int(),
  removed: z.number().int(),
});
export type PlanPointer = z.infer<typeof PlanPointerSchema>;

/** Retention settings per source or repository, and each source's last stored plan. */
export interface RetentionStore {
  getSettings(scope: SettingsScope): Promise<RetentionSettings | undefined>;
  putSettings(scope: SettingsScope, settings: RetentionSettings): Promise<void>;
  /** Removes the settings of a scope; returns the settings removed, or undefined when none were set. */
  deleteSettings(scope: SettingsScope): Promise<RetentionSettings | undefined>;
  lastPlan(source: string): Promise<PlanPointer | undefined>;
  recordPlan(pointer: PlanPointer): Promise<void>;
}
