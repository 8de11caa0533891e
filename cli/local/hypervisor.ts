import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  type EC2Client,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CONFIG_URL_LINE } from "../../shared/drills/agent-config";
import { DRILL_TAGS } from "../../shared/drills/janitor";
import { CONFIG_KEY_LINE } from "../../shared/drills/sealed-config";
import type { Log } from "../../shared/log";
import { REPOSITORY_ROOT } from "./paths";

export interface HypervisorOptions {
  ec2: EC2Client;
  log: Log;
  /** Added to the agent's environment (the emulator's credentials for restic, say). */
  environment?: NodeJS.ProcessEnv;
  /** Tests: an instance for which this answers true boots but never runs its agent (it goes silent). */
  silent?: (instance: { instanceId: string; drillId: string }) => boolean | Promise<boolean>;
  pollMilliseconds?: number;
}

interface Guest {
  child: ChildProcess | null;
  workDir: string;
}

/**
 * The local stack's stand-in for EC2's hypervisor: the emulator only records instances, so for every new
 * drill instance (tagged restorable:drill) this runs what its user data would, the drill agent, as a child
 * process with a working directory of its own (its throwaway PostgreSQL cluster lives there); when the
 * agent exits (its `shutdown -h now`, which terminates the instance) it terminates the instance, and when
 * the instance is terminated from outside (the state machine, the janitor) it kills the agent and removes
 * its directory.
 */
export class LocalHypervisor {
  private readonly guests = new Map<string, Guest>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(private readonly options: HypervisorOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.polling ??= this.poll()
        .catch((error: Error) => this.options.log.warn("hypervisor poll failed", { error: error.message }))
        .finally(() => {
          this.polling = undefined;
        });
    }, this.options.pollMilliseconds ?? 500);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    for (const [instanceId, guest] of this.guests) await this.evict(instanceId, guest);
  }

  /** One look at the emulator's instances: boot the new drill instances, clean up the terminated ones. */
  async poll(): Promise<void> {
    const { ec2 } = this.options;
    const listed = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "tag-key", Values: [DRILL_TAGS.drill] }] }),
    );
    for (const instance of (listed.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      const id = instance.InstanceId;
      if (!id) continue;
      const state = instance.State?.Name;
      const guest = this.guests.get(id);
      const drillId = instance.Tags?.find((tag) => tag.Key === DRILL_TAGS.drill)?.Value ?? "";
      if ((state === "running" || state === "pending") && !guest) await this.boot(id, drillId);
      else if (guest && (state === "terminated" || state === "shutting-down")) await this.evict(id, guest);
    }
  }

  private async boot(instanceId: string, drillId: string): Promise<void> {
    const workDir = await mkdtemp(path.join(tmpdir(), `restorable-drill-${instanceId}-`));
    const guest: Guest = { child: null, workDir };
    this.guests.set(instanceId, guest);
    if (await this.options.silent?.({ instanceId, drillId })) {
      this.options.log.info("drill instance booted silent (test)", { instanceId });
      return;
    }
    const { configUrl, configKey } = await this.agentConfig(instanceId);
    if (!configUrl) {
      this.options.log.warn("drill instance has no agent config in its user data", { instanceId });
      return;
    }
    const child = spawn(
      process.execPath,
      [
        path.join(REPOSITORY_ROOT, "cli", "bin", "restorable.mjs"),
        "drill",
        "agent",
        "--config-url",
        configUrl,
        "--work-dir",
        workDir,
      ],
      {
        env: {
          ...process.env,
          ...this.options.environment,
          ...(configKey ? { RESTORABLE_DRILL_CONFIG_KEY: configKey } : {}),
        },
        stdio: ["ignore", "ignore", "pipe"],
        detached: true,
      },
    );
    guest.child = child;
    let stderr = "";
    child.stderr?.setEncoding("utf-8").on("data", (text: string) => {
      stderr = (stderr + text).slice(-2000);
    });
    child.once("exit", (code) => {
      guest.child = null;
      if (code !== 0 && code !== null) this.options.log.warn("drill agent exited", { instanceId, code, stderr });
      // The agent's `shutdown -h now`: the instance terminates on shutdown.
      void this.options.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })).catch(() => undefined);
    });
    this.options.log.info("drill instance booted its agent", { instanceId });
  }

  /** Where the agent's config is and the key that opens it, as the user data's lines give them. */
  private async agentConfig(instanceId: string): Promise<{ configUrl?: string; configKey?: string }> {
    const attribute = await this.options.ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "userData" }),
    );
    let userData = Buffer.from(attribute.UserData?.Value ?? "", "base64").toString("utf-8");
    // The emulator's Step Functions interpreter calls EC2 through boto3, which base64-encodes UserData a
    // second time; EC2 itself keeps what RunInstances was given.
    if (!userData.startsWith("#!")) userData = Buffer.from(userData, "base64").toString("utf-8");
    const value = (prefix: string) =>
      userData
        .split("\n")
        .find((text) => text.startsWith(prefix))
        ?.slice(prefix.length)
        .replace(/^'|'$/g, "");
    const configUrl = value(CONFIG_URL_LINE);
    const configKey = value(CONFIG_KEY_LINE);
    return { ...(configUrl ? { configUrl } : {}), ...(configKey ? { configKey } : {}) };
  }

  private async evict(instanceId: string, guest: Guest): Promise<void> {
    this.guests.delete(instanceId);
    const child = guest.child;
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        child.kill("SIGTERM");
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    await stopLeftoverPostgres(guest.workDir);
    await rm(guest.workDir, { recursive: true, force: true });
    this.options.log.info("drill instance terminated and its data removed", { instanceId });
  }
}

/**
 * pg_ctl starts the agent's server in a session of its own, out of reach of the signal that stops the agent:
 * an agent killed before it stopped its cluster leaves a postmaster.pid in the instance's directory.
 */
async function stopLeftoverPostgres(workDir: string): Promise<void> {
  const files = await readdir(workDir, { recursive: true }).catch(() => [] as string[]);
  for (const file of files) {
    if (path.basename(String(file)) !== "postmaster.pid") continue;
    const pid = Number((await readFile(path.join(workDir, String(file)), "utf-8").catch(() => "")).split("\n")[0]);
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, "SIGQUIT");
      } catch {
        // already gone
      }
    }
  }
}
