import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { create as createTar } from "tar";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { registerDrillAgent } from "../../cli/commands/drill/agent";
import { type DrillAgentOptions, redactor, runDrillAgent } from "../../cli/drill/agent";
import { CsvRecords } from "../../cli/drill/checks-dumpset";
import type { AgentConfig, DumpSetDrill, ResticDrill } from "../../shared/drills/agent-config";
import { type AgentReport, AgentReportSchema } from "../../shared/drills/record";
import { sealConfig } from "../../shared/drills/sealed-config";
import type { ComponentKind } from "../../shared/dumpset/manifest";
import { fullObjectChecksum } from "../../shared/dumpset/s3-checksum";
import { postgresAt } from "../support/postgres";
import { makeResticFixture, type ResticFixture, resticJson } from "../support/restic";
import { writeSeedBackup } from "../support/seed-backup";

/**
 * The bucket as the agent sees it: presigned GETs of the pinned components and the config, presigned PUTs of
 * the report and heartbeats. A local HTTP server plays it, serving files from disk and recording every PUT.
 */
class FakeBucket {
  readonly files = new Map<string, { file: string; status?: number }>();
  readonly puts: { path: string; body: string }[] = [];
  private server: Server | undefined;
  private port = 0;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const key = new URL(request.url ?? "/", "http://x").pathname;
      if (request.method === "PUT") {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
          this.puts.push({ path: key, body: Buffer.concat(chunks).toString("utf-8") });
          response.writeHead(200).end();
        });
        return;
      }
      const served = this.files.get(key);
      if (!served) return response.writeHead(404).end();
      if (served.status) return response.writeHead(served.status).end();
      void stat(served.file).then((info) => {
        response.writeHead(200, { "content-length": String(info.size) });
        createReadStream(served.file).pipe(response);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }

  /** A URL as presigned ones look: the signature in the query string, which nothing may print. */
  url(key: string): string {
    return `http://127.0.0.1:${this.port}${key}?X-Amz-Signature=${SIGNATURE}&X-Amz-Expires=900`;
  }

  serve(key: string, file: string, status?: number): string {
    this.files.set(key, status ? { file, status } : { file });
    return this.url(key);
  }

  putsTo(key: string): unknown[] {
    return this.puts.filter((put) => put.path === key).map((put) => JSON.parse(put.body));
  }
}

const SIGNATURE = "leak-canary-signature-Qz81xXw";
const MASTER_KEY = "leak-canary-master-key-Vb37sLk";
const RESTIC_PASSWORD = "leak-canary-restic-password-Tn52";
const SECRETS = [SIGNATURE, MASTER_KEY, RESTIC_PASSWORD];
const ROWS = 50;

const bucket = new FakeBucket();
let scratch: string;
let seed: { directory: string; archive: string };

beforeAll(async () => {
  await bucket.start();
  scratch = await mkdtemp(path.join(tmpdir(), "restorable-drill-agent-test-"));
  const { directory } = await writeSeedBackup(postgresAt(inject("postgresPort")), { rows: ROWS });
  // As push archives a directory: a gzip tar holding the directory itself.
  const archive = path.join(scratch, "shadow-git.tar.gz");
  await createTar({ gzip: true, portable: true, cwd: directory, file: archive }, ["shadow-git"]);
  seed = { directory, archive };
});

afterAll(async () => {
  await bucket.stop();
  await rm(scratch, { recursive: true, force: true });
  await rm(path.dirname(seed.directory), { recursive: true, force: true });
});

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

interface ComponentFile {
  name: string;
  kind: ComponentKind;
  file: string;
  /** What the manifest records, when it is not the file's own (a component whose bytes do not match). */
  recordedSha256?: string;
  status?: number;
}

async function component(drillId: string, spec: ComponentFile): Promise<DumpSetDrill["components"][number]> {
  const key = `/sets/src/${drillId}/${spec.name}`;
  const hash = spec.recordedSha256 ?? (await sha256(spec.file));
  return {
    name: spec.name,
    key: key.slice(1),
    kind: spec.kind,
    size: (await stat(spec.file)).size,
    sha256: hash,
    checksum: fullObjectChecksum(hash),
    versionId: "v1",
    healedVersionId: null,
    url: bucket.serve(key, spec.file, spec.status),
  };
}

function seedComponents(main = path.join(seed.directory, "main.dump")): ComponentFile[] {
  return [
    { name: "main.dump", kind: "pg-dump", file: main },
    { name: "master-key-id.txt", kind: "file", file: path.join(seed.directory, "master-key-id.txt") },
    { name: "shadow-git.tar.gz", kind: "directory-archive", file: seed.archive },
  ];
}

let drills = 0;

async function drillConfig(
  drill: (drillId: string) => Promise<AgentConfig["drill"]>,
  overrides: Partial<AgentConfig> = {},
): Promise<{ drillId: string; options: DrillAgentOptions; logs: string[] }> {
  const drillId = `d-20260101T000000Z-${(++drills).toString(16).padStart(8, "0")}`;
  const config: AgentConfig = {
    format: "restorable.drill/v1",
    drillId,
    source: "src",
    reportUrl: bucket.url(`/drills/${drillId}/report.json`),
    heartbeatUrl: bucket.url(`/drills/${drillId}/heartbeat.json`),
    heartbeatSeconds: 1,
    deadline: new Date(Date.now() + 10 * 60_000).toISOString(),
    drill: await drill(drillId),
    ...overrides,
  };
  const configFile = path.join(scratch, `${drillId}.json`);
  await writeFile(configFile, JSON.stringify(config));
  const logs: string[] = [];
  const workDir = path.join(scratch, `work-${drillId}`);
  return {
    drillId,
    logs,
    options: {
      configUrl: bucket.serve(`/drills/${drillId}/config.json`, configFile),
      workDir,
      log: (line) => logs.push(line),
    },
  };
}

function dumpSet(specs: ComponentFile[], extra: Partial<DumpSetDrill> = {}) {
  return async (drillId: string): Promise<DumpSetDrill> => ({
    kind: "dumpset",
    setId: "20250101T020000Z-0123456789ab",
    components: await Promise.all(specs.map((spec) => component(drillId, spec))),
    sql: [],
    smoke: null,
    masterKey: null,
    ...extra,
  });
}

/** Runs the agent and checks what every run must do: report what it returns, leak nothing, leave nothing. */
async function drill(setup: Awaited<ReturnType<typeof drillConfig>>): Promise<AgentReport> {
  const report = await runDrillAgent(setup.options);
  const reports = bucket.putsTo(`/drills/${setup.drillId}/report.json`);
  expect(reports).toHaveLength(1);
  expect(AgentReportSchema.parse(reports[0])).toEqual(report);
  const everything = [...setup.logs, JSON.stringify(report)].join("\n");
  for (const secret of SECRETS) expect(everything).not.toContain(secret);
  expect(await readdir(setup.options.workDir)).toEqual([]);
  return report;
}

const byName = (report: AgentReport) => Object.fromEntries(report.checks.map((check) => [check.name, check]));

describe("the drill agent on a dump set", () => {
  it("passes a good seed-style set: every check, the baseline, phases, bytes and heartbeats", async () => {
    const smoke = [
      `test "$(psql -X -A -t -c 'SELECT count(*) FROM codebolt.persistent_memory')" = ${ROWS}`,
      `test -f "$RESTORABLE_RESTORE_DIR/shadow-git/ws1/HEAD"`,
      "test -f master-key-id.txt",
      'test "$RESTORABLE_MASTER_KEY" = "$EXPECTED_KEY"',
      "echo smoke ok",
    ].join(" && ");
    vi.stubEnv("EXPECTED_KEY", MASTER_KEY);
    const setup = await drillConfig(
      dumpSet(seedComponents(), {
        sql: [
          { name: "memories", query: "SELECT id FROM codebolt.persistent_memory", minRows: ROWS },
          {
            name: "workspaces",
            query: "SELECT count(DISTINCT workspace_id) FROM codebolt.persistent_memory",
            equals: "7",
          },
        ],
        smoke: { command: smoke, timeoutSeconds: 60, withMasterKey: true },
        masterKey: MASTER_KEY,
      }),
    );
    const report = await drill(setup);
    vi.unstubAllEnvs();

    expect(report.error).toBeNull();
    expect(report.checks.map((check) => [check.name, check.passed])).toEqual([
      ["integrity", true],
      ["archive-readable", true],
      ["restore", true],
      ["baseline", true],
      ["sql:memories", true],
      ["sql:workspaces", true],
      ["smoke", true],
    ]);
    expect(report.baseline).toEqual([{ table: "codebolt.persistent_memory", rows: ROWS }]);
    expect(byName(report).baseline?.detail).toBe(`1 tables, ${ROWS} rows`);
    expect(byName(report).smoke?.detail).toContain("smoke ok");
    for (const phase of ["download", "verify", "restore", "checks"] as const) {
      expect(report.phases[phase], phase).toBeGreaterThan(0);
    }
    const sizes = await Promise.all(seedComponents().map(async (c) => (await stat(c.file)).size));
    expect(report.bytes.downloaded).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(report.bytes.restored).toBeGreaterThan(0);
    expect(report.resticSubset).toBeNull();
    const heartbeats = bucket.putsTo(`/drills/${setup.drillId}/heartbeat.json`) as { drillId: string; phase: string }[];
    expect(heartbeats.length).toBeGreaterThanOrEqual(1);
    expect(heartbeats[0]).toMatchObject({ drillId: setup.drillId, phase: "starting" });
  });

  it("fails archive-readable for a truncated main.dump whose manifest agrees with the truncated bytes", async () => {
    const truncated = path.join(scratch, "truncated.dump");
    await writeFile(truncated, await readFile(path.join(seed.directory, "main.dump")));
    await truncate(truncated, Math.floor((await stat(truncated)).size * 0.7));
    const report = await drill(await drillConfig(dumpSet(seedComponents(truncated))));

    expect(report.checks.map((check) => [check.name, check.passed])).toEqual([
      ["integrity", true],
      ["archive-readable", false],
    ]);
    expect(byName(report)["archive-readable"]?.detail).toMatch(/^main\.dump: pg_restore cannot read it/);
    expect(report.error).toBeNull();
  });

  it("fails integrity naming a component whose bytes do not match its SHA-256", async () => {
    const specs = seedComponents();
    specs[1] = { ...(specs[1] as ComponentFile), recordedSha256: "0".repeat(64) };
    const report = await drill(await drillConfig(dumpSet(specs)));

    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]).toMatchObject({ name: "integrity", passed: false });
    expect(report.checks[0]?.detail).toMatch(/^master-key-id\.txt: SHA-256 [0-9a-f]{64} does not match/);
  });

  it("fails sql:<name> for a failing assertion, and says why for each", async () => {
    const report = await drill(
      await drillConfig(
        dumpSet(seedComponents(), {
          sql: [
            { name: "enough", query: "SELECT 1 FROM codebolt.persistent_memory", minRows: ROWS + 1 },
            { name: "exact", query: "SELECT count(*) FROM codebolt.persistent_memory", equals: "1" },
            { name: "broken", query: "SELECT * FROM codebolt.no_such_table" },
            { name: "fine", query: "SELECT 'a,b', E'multi\\nline'", minRows: 1, equals: "a,b" },
          ],
        }),
      ),
    );
    const checks = byName(report);
    expect(checks.restore?.passed).toBe(true);
    expect(checks["sql:enough"]).toMatchObject({
      passed: false,
      detail: `${ROWS} row(s), at least ${ROWS + 1} expected`,
    });
    expect(checks["sql:exact"]).toMatchObject({ passed: false, detail: `got '${ROWS}', '1' expected` });
    expect(checks["sql:broken"]?.passed).toBe(false);
    expect(checks["sql:broken"]?.detail).toContain('relation "codebolt.no_such_table" does not exist');
    expect(checks["sql:fine"]).toMatchObject({ passed: true, detail: "1 row(s), first value 'a,b'" });
  });

  it("fails smoke for a command that exits 1 or outlives its timeout, with its last lines", async () => {
    const failing = await drill(
      await drillConfig(
        dumpSet(seedComponents(), {
          smoke: { command: "echo starting; echo broken >&2; exit 1", timeoutSeconds: 30, withMasterKey: false },
        }),
      ),
    );
    expect(byName(failing).smoke).toMatchObject({ passed: false });
    expect(byName(failing).smoke?.detail).toMatch(/^exited 1 after [\d.]+s: starting\nbroken$/);

    const slow = await drill(
      await drillConfig(
        dumpSet(seedComponents(), {
          smoke: { command: "sleep 60 & sleep 60", timeoutSeconds: 1, withMasterKey: false },
        }),
      ),
    );
    expect(byName(slow).smoke).toMatchObject({ passed: false, detail: "did not finish within 1s" });
  });

  it("reports, with the error, when a component cannot be read or the deadline passes", async () => {
    const specs = seedComponents();
    specs[0] = { ...(specs[0] as ComponentFile), status: 403 };
    const unreadable = await drill(await drillConfig(dumpSet(specs)));
    expect(unreadable.checks).toEqual([]);
    expect(unreadable.error).toBe("could not read main.dump: HTTP 403");

    const late = await drill(
      await drillConfig(
        dumpSet(seedComponents(), { smoke: { command: "sleep 60", timeoutSeconds: 600, withMasterKey: false } }),
        {
          deadline: new Date(Date.now() + 8000).toISOString(),
        },
      ),
    );
    expect(late.error).toBe("deadline passed");
    expect(late.checks.map((check) => check.name)).not.toContain("smoke");
    expect(late.checks.every((check) => check.passed)).toBe(true);
    expect(late.baseline, "measured before the deadline, kept").toEqual([
      { table: "codebolt.persistent_memory", rows: ROWS },
    ]);
  });
});

describe("the drill agent on a restic snapshot", () => {
  let fixture: ResticFixture;
  let repository: string;
  let expected: ResticDrill["expected"];

  beforeAll(async () => {
    repository = path.join(scratch, "restic-repository");
    fixture = await makeResticFixture({ repository, password: RESTIC_PASSWORD });
    const [snapshot] = await resticJson<
      { summary?: { total_files_processed: number; total_bytes_processed: number } }[]
    >(["snapshots", fixture.snapshotIds[1] as string], fixture.access);
    expected = {
      files: snapshot?.summary?.total_files_processed ?? null,
      bytes: snapshot?.summary?.total_bytes_processed ?? null,
    };
  });

  afterAll(() => fixture.cleanup());

  const restic =
    (subset: ResticDrill["subset"], overrides: Partial<ResticDrill> = {}) =>
    async (): Promise<ResticDrill> => ({
      kind: "restic",
      snapshotId: fixture.snapshotIds[1] as string,
      repository,
      environment: {},
      password: RESTIC_PASSWORD,
      expected,
      subset,
      ...overrides,
    });

  it("restores the snapshot as its summary says and checks the subset", async () => {
    expect(expected.files).toBe(2);
    const report = await drill(await drillConfig(restic({ k: 2, n: 3 })));
    expect(report.error).toBeNull();
    expect(report.checks.map((check) => [check.name, check.passed])).toEqual([
      ["restic-restore", true],
      ["restic-check", true],
    ]);
    expect(byName(report)["restic-restore"]?.detail).toBe(
      `2 files, ${expected.bytes} bytes restored, as the snapshot records`,
    );
    expect(report.resticSubset).toEqual({ k: 2, n: 3 });
    expect(report.bytes.restored).toBe(expected.bytes);
    expect(report.phases.restore).toBeGreaterThan(0);
    expect(report.phases.verify).toBeGreaterThan(0);
    expect(report.baseline).toBeNull();
  });

  it("fails restic-restore when the restore does not match the snapshot's summary", async () => {
    const report = await drill(await drillConfig(restic({ k: 1, n: 1 }, { expected: { files: 3, bytes: null } })));
    expect(byName(report)["restic-restore"]).toMatchObject({
      passed: false,
      detail: "2 files restored, the snapshot recorded 3",
    });
    expect(byName(report)["restic-check"]?.passed).toBe(true);
  });

  it("runs from the hidden `drill agent` command, printing the report with --json", async () => {
    const setup = await drillConfig(restic({ k: 1, n: 2 }));
    const program = new Command("restorable").exitOverride();
    registerDrillAgent(program.command("drill"));
    const agent = program.commands[0]?.commands.find((command) => command.name() === "agent");
    expect(agent?.options.some((option) => option.long === "--json")).toBe(true);
    expect(program.commands[0]?.helpInformation()).not.toContain("agent");
    const printed: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((text: string | Uint8Array) => {
      printed.push(String(text));
      return true;
    });
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const args = [
        "drill",
        "agent",
        "--config-url",
        setup.options.configUrl,
        "--work-dir",
        setup.options.workDir,
        "--json",
      ];
      await program.parseAsync(args, { from: "user" });
    } finally {
      write.mockRestore();
      stderr.mockRestore();
    }
    const report = AgentReportSchema.parse(JSON.parse(printed.join("")));
    expect(report.checks.map((check) => check.passed)).toEqual([true, true]);
    expect(process.exitCode ?? 0).toBe(0);
    expect(await readdir(setup.options.workDir)).toEqual([]);
  });

  it("fails restic-check for a damaged pack when the subset covers it", async () => {
    const damaged = path.join(scratch, "restic-damaged");
    const copy = await makeResticFixture({ repository: damaged, password: RESTIC_PASSWORD });
    try {
      const data = path.join(damaged, "data");
      const packs = (await readdir(data, { recursive: true })).filter((entry) => /\/[0-9a-f]{64}$/.test(entry));
      const pack = path.join(data, packs.sort()[0] as string);
      await writeFile(pack, randomBytes((await stat(pack)).size));
      const report = await drill(
        await drillConfig(restic({ k: 1, n: 1 }, { repository: damaged, snapshotId: copy.snapshotIds[1] as string })),
      );
      expect(byName(report)["restic-check"]?.passed).toBe(false);
      expect(byName(report)["restic-check"]?.detail).toMatch(
        /^restic check --read-data-subset=1\/1 failed \(exit \d+\)/,
      );
      expect(report.resticSubset).toEqual({ k: 1, n: 1 });
    } finally {
      await copy.cleanup();
    }
  });
});

describe("the drill agent's config", () => {
  it("reports an invalid config as the drill's error when it names its report URL", async () => {
    const drillId = "d-20260101T000000Z-ffffffff";
    const configFile = path.join(scratch, "invalid.json");
    await writeFile(configFile, JSON.stringify({ drillId, reportUrl: bucket.url(`/drills/${drillId}/report.json`) }));
    const configUrl = bucket.serve(`/drills/${drillId}/config.json`, configFile);
    const workDir = path.join(scratch, "work-invalid");

    await expect(runDrillAgent({ configUrl, workDir })).rejects.toThrow(/^the drill config is not valid: format: /);
    const [report] = bucket.putsTo(`/drills/${drillId}/report.json`) as AgentReport[];
    expect(AgentReportSchema.parse(report).error).toMatch(/^the drill config is not valid/);

    const missing = runDrillAgent({ configUrl: bucket.url("/drills/nothing/config.json"), workDir });
    await expect(missing).rejects.toThrow("could not read the drill config: HTTP 404");
  });

  it("opens a sealed config only with its key, and with a key refuses one that is not sealed", async () => {
    const drillId = "d-20260101T000000Z-fffffffe";
    const workDir = path.join(scratch, "work-sealed");
    // Sealed around an invalid config: that it is reported as invalid shows it was opened.
    const { sealed, key } = sealConfig(
      drillId,
      JSON.stringify({ drillId, reportUrl: bucket.url(`/drills/${drillId}/report.json`) }),
    );
    const sealedFile = path.join(scratch, "sealed.json");
    await writeFile(sealedFile, JSON.stringify(sealed));
    const configUrl = bucket.serve(`/drills/${drillId}/config.json`, sealedFile);

    await expect(runDrillAgent({ configUrl, configKey: key, workDir })).rejects.toThrow(
      /^the drill config is not valid: format: /,
    );
    await expect(runDrillAgent({ configUrl, workDir })).rejects.toThrow(/sealed and no key was given/);
    const otherKey = sealConfig(drillId, "{}").key;
    await expect(runDrillAgent({ configUrl, configKey: otherKey, workDir })).rejects.toThrow(
      /does not open with the key this instance was given/,
    );

    const plainFile = path.join(scratch, "plain.json");
    await writeFile(plainFile, JSON.stringify({ drillId }));
    const plainUrl = bucket.serve(`/drills/${drillId}-plain/config.json`, plainFile);
    await expect(runDrillAgent({ configUrl: plainUrl, configKey: key, workDir })).rejects.toThrow(
      /not sealed although this instance was given its key/,
    );
  });
});

describe("the agent's helpers", () => {
  it("counts psql's CSV records as they stream, quoted newlines and all", () => {
    const records = new CsvRecords();
    for (const chunk of ['"a,', 'b""c",1\n', '"x\ny",2\n', "\n", "last"]) records.push(chunk);
    records.end();
    expect(records.rows).toBe(4);
    expect(records.first).toBe('a,b"c');
  });

  it("redacts secrets and presigned URLs' query strings", () => {
    const redact = redactor(["hunter2-secret"]);
    expect(redact("pw hunter2-secret at https://b.s3.amazonaws.com/k?X-Amz-Signature=abc&y=1 ok")).toBe(
      "pw [redacted] at https://b.s3.amazonaws.com/k?[redacted] ok",
    );
  });
});
