import { readFileSync } from "node:fs";
import { chmod, mkdir, readdir, rm } from "node:fs/promises";
import * as path from "node:path";
import { type AgentConfig, AgentConfigSchema } from "../../shared/drills/agent-config";
import type { AgentReport, CheckResult } from "../../shared/drills/record";
import { AgentReportSchema } from "../../shared/drills/record";
import { SealedConfigSchema, unsealConfig } from "../../shared/drills/sealed-config";
import { describeError, InvalidInputError, RestorableError } from "../../shared/errors";
import { COMPONENTS_DIRECTORY, runDumpSetChecks } from "./checks-dumpset";
import { RESTIC_DIRECTORIES, runResticChecks, runResticPrune } from "./checks-restic";
import { type CheckContext, type PhaseName, repositoryRoot } from "./postgres";

/** The drill's config could not be read or is not one this agent understands. */
export class AgentConfigError extends RestorableError {}
/** The report could not be uploaded: the cloud will see the drill stop sending heartbeats. */
export class ReportNotSentError extends RestorableError {
  constructor(
    readonly report: AgentReport,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("report-not-sent", message, options);
  }
}

export interface DrillAgentOptions {
  /** A presigned GET of the drill's config: sealed (SealedConfigSchema) as the prepare step writes it. */
  configUrl: string;
  /** The key that opens the sealed config, from the instance's user data. */
  configKey?: string;
  /** The agent's own directory: created if missing; what the agent puts in it is removed at the end. */
  workDir: string;
  /** Progress, one line at a time, never with a secret or a URL in it. */
  log?: (line: string) => void;
  /** Stops the drill: it is reported with the checks so far and an error. */
  signal?: AbortSignal;
}

/** What the agent may find in its work directory before it starts: its own names, left by a run that was stopped. */
const OWN_ENTRIES = new Set([COMPONENTS_DIRECTORY, "postgres", ...Object.values(RESTIC_DIRECTORIES)]);

const DEADLINE_PASSED = "deadline passed";

/**
 * Runs one drill on a throwaway machine: reads its config, sends heartbeats, runs the checks of a dump set or a
 * restic snapshot in order, and always uploads its report, with the checks so far and an error when something
 * stopped it (`deadline passed` at the config's deadline). Cleans up its cluster and work directory.
 */
export async function runDrillAgent(options: DrillAgentOptions): Promise<AgentReport> {
  const startedAt = new Date();
  const config = await loadConfig(options, startedAt);
  const redact = redactor(secretsOf(config, options));
  const log = (line: string) => options.log?.(redact(line));
  const run = new DrillRun(config, path.resolve(options.workDir), log, redact);
  const deadline = deadlineSignal(config.deadline, options.signal);
  const heartbeats = startHeartbeats(config, () => run.phase, log);
  let error: string | null = null;
  let prepared = false;
  try {
    await prepareWorkDir(run.workDir);
    prepared = true;
    await run.execute(deadline.signal);
  } catch (thrown) {
    error = deadline.passed() ? DEADLINE_PASSED : redact(describeError(thrown));
    log(`stopped: ${error}`);
  } finally {
    deadline.dispose();
    run.phase = "reporting";
    await heartbeats.stop();
    // Only a work directory found holding nothing but the agent's own leftovers is emptied.
    if (prepared)
      await cleanWorkDir(run.workDir).catch((thrown: unknown) =>
        log(`could not clean up: ${redact(describeError(thrown))}`),
      );
  }
  const report = run.report(startedAt, error);
  await sendReport(config.reportUrl, report, log);
  return report;
}

/** The report as it builds up, and the context the checks write into. */
class DrillRun {
  phase = "starting";
  private readonly checks: CheckResult[] = [];
  private readonly seconds: Record<PhaseName, number | null> = {
    download: null,
    verify: null,
    restore: null,
    checks: null,
  };
  private readonly bytes = { downloaded: 0, restored: 0 };
  private readonly results: CheckContext["results"] = { baseline: null, resticSubset: null };

  constructor(
    private readonly config: AgentConfig,
    readonly workDir: string,
    private readonly log: (line: string) => void,
    private readonly redact: (text: string) => string,
  ) {}

  async execute(signal: AbortSignal): Promise<void> {
    const context = this.context(signal);
    const { drill } = this.config;
    const subject =
      drill.kind === "dumpset"
        ? `set ${drill.setId}`
        : drill.kind === "restic"
          ? `snapshot ${drill.snapshotId.slice(0, 8)}`
          : `prune of repository ${drill.repositoryName}`;
    this.log(`drill ${this.config.drillId}: ${subject}`);
    if (drill.kind === "dumpset") await runDumpSetChecks(drill, context);
    else if (drill.kind === "restic") await runResticChecks(drill, context);
    else await runResticPrune(drill, context);
  }

  private context(signal: AbortSignal): CheckContext {
    return {
      workDir: this.workDir,
      signal,
      log: this.log,
      bytes: this.bytes,
      results: this.results,
      record: (check) => {
        if (signal.aborted) return;
        const recorded = { ...check, detail: this.redact(check.detail) };
        this.checks.push(recorded);
        this.log(
          `${recorded.name}: ${recorded.passed ? "passed" : "FAILED"}: ${recorded.detail.replaceAll("\n", "\n  ")}`,
        );
      },
      timed: async (phase, work) => {
        this.phase = phase;
        const started = performance.now();
        try {
          return await work();
        } finally {
          this.seconds[phase] = (this.seconds[phase] ?? 0) + (performance.now() - started) / 1000;
        }
      },
    };
  }

  report(startedAt: Date, error: string | null): AgentReport {
    const round = (value: number | null) => (value === null ? null : Math.round(value * 1000) / 1000);
    return AgentReportSchema.parse({
      drillId: this.config.drillId,
      agentVersion: agentVersion(),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      checks: this.checks,
      phases: {
        download: round(this.seconds.download),
        verify: round(this.seconds.verify),
        restore: round(this.seconds.restore),
        checks: round(this.seconds.checks),
      },
      bytes: this.bytes,
      baseline: this.results.baseline,
      resticSubset: this.results.resticSubset,
      error,
    });
  }
}

/**
 * Reads, opens and validates the config. One that opens but is invalid still gets an error report when it names
 * its drill and report URL, so the drill ends as ERROR instead of waiting for its heartbeat to time out; one
 * that does not open has no report URL to tell, and its drill ends when its heartbeat times out.
 */
async function loadConfig(options: DrillAgentOptions, startedAt: Date): Promise<AgentConfig> {
  const url = options.configUrl;
  const response = await fetch(url, options.signal ? { signal: options.signal } : {}).catch((error: unknown) => {
    const why = redactor([url])(describeError(error));
    throw new AgentConfigError("config-unreadable", `could not read the drill config: ${why}`);
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new AgentConfigError("config-unreadable", `could not read the drill config: HTTP ${response.status}`);
  }
  const raw = unsealed((await response.json().catch(() => undefined)) as Record<string, unknown> | undefined, options);
  const parsed = AgentConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problem = parsed.error.issues
    .map((issue) => `${issue.path.join(".") || "config"}: ${issue.message}`)
    .join("; ");
  const error = new AgentConfigError("config-invalid", `the drill config is not valid: ${problem}`);
  if (typeof raw?.drillId === "string" && typeof raw.reportUrl === "string" && /^https?:\/\//.test(raw.reportUrl)) {
    const report = failedBeforeStart(raw.drillId, startedAt, error.message);
    await sendReport(raw.reportUrl, report, () => {}).catch(() => {});
  }
  throw error;
}

/**
 * The config inside a sealed one. Without a key, a config that is not sealed is taken as it is (one written
 * before configs were sealed, by a drill in flight across an upgrade); with one, it must be sealed, since
 * the prepare step that handed out the key sealed it.
 */
function unsealed(raw: Record<string, unknown> | undefined, options: DrillAgentOptions) {
  const sealed = SealedConfigSchema.safeParse(raw);
  if (!sealed.success && options.configKey) {
    throw new AgentConfigError(
      "config-not-sealed",
      "the drill config is not sealed although this instance was given its key: it is not the one the prepare step wrote",
    );
  }
  if (!sealed.success) return raw;
  if (!options.configKey) {
    throw new AgentConfigError(
      "config-key-missing",
      "the drill config is sealed and no key was given (RESTORABLE_DRILL_CONFIG_KEY, from the instance's user data)",
    );
  }
  const text = unsealConfig(sealed.data, options.configKey);
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function failedBeforeStart(drillId: string, startedAt: Date, error: string): AgentReport {
  return {
    drillId,
    agentVersion: agentVersion(),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    checks: [],
    phases: { download: null, verify: null, restore: null, checks: null },
    bytes: { downloaded: 0, restored: 0 },
    baseline: null,
    resticSubset: null,
    error,
  };
}

/**
 * Every secret the agent holds: the config's URL and key, and what the config holds: URLs (their signatures),
 * the master key, restic's password and credentials.
 */
function secretsOf(config: AgentConfig, options: Pick<DrillAgentOptions, "configUrl" | "configKey">): string[] {
  const secrets = [
    options.configUrl,
    ...(options.configKey ? [options.configKey] : []),
    config.reportUrl,
    config.heartbeatUrl,
  ];
  const { drill } = config;
  if (drill.kind === "dumpset") {
    secrets.push(...drill.components.map((component) => component.url));
    if (drill.masterKey !== null) secrets.push(drill.masterKey);
  } else {
    secrets.push(drill.password);
    for (const [name, value] of Object.entries(drill.environment)) {
      if (/SECRET|TOKEN|PASSWORD|KEY/i.test(name)) secrets.push(value);
    }
  }
  return secrets;
}

/** Replaces every secret (and any URL's query string, where presigned URLs keep their signature) in a text. */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const sorted = [...new Set(secrets)].filter((secret) => secret.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => {
    let redacted = text;
    for (const secret of sorted) redacted = redacted.split(secret).join("[redacted]");
    return redacted.replace(/(https?:\/\/[^\s?"']+)\?[^\s"']*/g, "$1?[redacted]");
  };
}

function deadlineSignal(deadline: string, outer?: AbortSignal) {
  const controller = new AbortController();
  let passed = false;
  const expire = () => {
    passed = true;
    controller.abort(new RestorableError("deadline-passed", DEADLINE_PASSED));
  };
  // setTimeout takes at most 2^31-1 ms; a drill's deadline is hours away.
  const timer = setTimeout(expire, Math.min(Math.max(0, Date.parse(deadline) - Date.now()), 2 ** 31 - 1));
  const onOuter = () => controller.abort(outer?.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener("abort", onOuter, { once: true });
  return {
    signal: controller.signal,
    passed: () => passed,
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuter);
    },
  };
}

/** A heartbeat at the start and every third of `heartbeatSeconds`; one that cannot be sent is logged and skipped. */
function startHeartbeats(config: AgentConfig, phase: () => string, log: (line: string) => void) {
  let inFlight: Promise<void> | undefined;
  const beat = () => {
    if (inFlight) return;
    const body = { drillId: config.drillId, at: new Date().toISOString(), phase: phase() };
    inFlight = put(config.heartbeatUrl, body, config.heartbeatSeconds * 1000)
      .catch((error: unknown) => log(`heartbeat not sent: ${describeError(error)}`))
      .finally(() => {
        inFlight = undefined;
      });
  };
  beat();
  const timer = setInterval(beat, (config.heartbeatSeconds * 1000) / 3);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}

async function put(url: string, body: unknown, timeoutMs: number): Promise<void> {
  const response = await fetch(url, {
    method: "PUT",
    // The presigned PUT signs its content type.
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.body?.cancel();
  if (!response.ok) throw new RestorableError("put-failed", `HTTP ${response.status}`);
}

/** Puts the report, trying a few times: it is the one thing the cloud waits for. */
async function sendReport(url: string, report: AgentReport, log: (line: string) => void): Promise<void> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 4; attempt++) {
    try {
      await put(url, report, 60_000);
      log(
        `report sent: ${report.checks.filter((check) => !check.passed).length} failed check(s)${report.error ? `, error: ${report.error}` : ""}`,
      );
      return;
    } catch (error) {
      lastError = error;
      log(`report not sent (attempt ${attempt}): ${describeError(error)}`);
      if (attempt < 4) await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** (attempt - 1)));
    }
  }
  throw new ReportNotSentError(report, `the report could not be uploaded: ${describeError(lastError)}`, {
    cause: lastError,
  });
}

/** The work directory may only hold what an earlier run of the agent left: everything in it is removed at the end. */
async function prepareWorkDir(workDir: string): Promise<void> {
  if (path.dirname(workDir) === workDir) throw new InvalidInputError("bad-work-dir", "the work directory cannot be /");
  await mkdir(workDir, { recursive: true });
  const foreign = (await readdir(workDir)).filter((entry) => !OWN_ENTRIES.has(entry));
  if (foreign.length > 0) {
    throw new InvalidInputError(
      "work-dir-not-empty",
      `the work directory ${workDir} holds ${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", …" : ""}: give one that is empty`,
    );
  }
  await cleanWorkDir(workDir);
}

/**
 * Empties the work directory, which held nothing else when the agent started (restic restores read-only
 * directories: made writable first). The directory itself stays.
 */
async function cleanWorkDir(workDir: string): Promise<void> {
  const entries = await readdir(workDir).catch(() => [] as string[]);
  for (const entry of entries) {
    const full = path.join(workDir, entry);
    await rm(full, { recursive: true, force: true }).catch(async () => {
      await makeWritable(full);
      await rm(full, { recursive: true, force: true });
    });
  }
}

async function makeWritable(directory: string): Promise<void> {
  await chmod(directory, 0o700).catch(() => {});
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) await makeWritable(path.join(directory, entry.name));
}

/** The agent's version: the package's, read from its checkout; a bundle on an instance says so. */
function agentVersion(): string {
  const root = repositoryRoot();
  if (!root) return process.env.RESTORABLE_AGENT_VERSION ?? "bundled";
  try {
    return (JSON.parse(readFileSync(path.join(root, "package.json"), "utf-8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}
