import type { Context } from "aws-lambda";
import { type ScheduledFunction, scheduleOf } from "../../shared/contracts/functions";
import { describeError } from "../../shared/errors";
import type { Log } from "../../shared/log";

export type ScheduledHandler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * Fires the scheduled handlers in-process, as EventBridge would in AWS, at their local rates (see
 * shared/contracts/functions.ts). A run still going when its next turn comes is not started twice.
 */
export class LocalScheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<ScheduledFunction>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly handlers: Partial<Record<ScheduledFunction, ScheduledHandler>>,
    private readonly log: Log,
  ) {}

  start(): void {
    for (const [name, handler] of Object.entries(this.handlers) as [ScheduledFunction, ScheduledHandler][]) {
      const timer = setInterval(() => void this.run(name, handler), scheduleOf(name).localEverySeconds * 1000);
      timer.unref();
      this.timers.push(timer);
    }
  }

  /** No more runs; resolves once the runs under way have finished (before the emulator they talk to goes). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([...this.inFlight]);
  }

  async run(name: ScheduledFunction, handler = this.handlers[name]): Promise<unknown> {
    if (!handler) throw new Error(`no handler for ${name}`);
    if (this.running.has(name)) return undefined;
    this.running.add(name);
    const run = this.invoke(name, handler);
    this.inFlight.add(run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(run);
      this.running.delete(name);
    }
  }

  private async invoke(name: ScheduledFunction, handler: ScheduledHandler): Promise<unknown> {
    try {
      return await handler(
        { source: "aws.events", "detail-type": "Scheduled Event", time: new Date().toISOString(), detail: {} },
        { functionName: name, awsRequestId: `local-${Date.now()}`, getRemainingTimeInMillis: () => 900_000 } as Context,
      );
    } catch (error) {
      // A run cut off by the stack stopping is the stop, not a failure worth an error line.
      if (!this.stopped) this.log.error(`scheduled ${name} failed`, { error: describeError(error) });
      return undefined;
    }
  }
}
