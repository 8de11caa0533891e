import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ListObjectsV2Command, ListObjectVersionsCommand } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { DynamoAlertStore } from "../../shared/catalog/dynamo/alert-store";
import { DynamoRetentionStore } from "../../shared/catalog/dynamo/retention-store";
import type { DumpSetEntry } from "../../shared/catalog/entry";
import { SetWriter } from "../support/dumpsets";
import { makeResticFixture, type ResticAccess, restic, resticJson } from "../support/restic";
import { KEEP_ONLY_THE_NEWEST } from "../support/retention-flags";
import { startTestStack, type TestStack } from "../support/stack";
import { resticBinary } from "../support/tools";

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack("retention");
});

/** Daily dump sets of a source, newest yesterday. */
async function dailySets(
  source: string,
  days: number,
  tags: (day: number) => string[] = () => [],
): Promise<SetWriter[]> {
  const sets: SetWriter[] = [];
  for (let day = days; day >= 1; day--) {
    const set = new SetWriter(
      stack.s3,
      stack.deployment.bucket,
      source,
      { "main.dump": `PGDMP day ${day}` },
      new Date(Date.now() - day * 86_400_000),
    );
    await set.putAllComponents();
    await set.putManifest(set.manifest({ tags: tags(day) }));
    sets.push(set);
  }
  await stack.pump.drain();
  return sets;
}

async function currentKeys(prefix: string): Promise<string[]> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.deployment.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key as string).sort();
}

const cli = async (...args: string[]) => {
  const result = await stack.cli(args);
  return { ...result, json: () => JSON.parse(result.stdout) };
};

describe("retention of dump sets", () => {
  it("removes exactly the planned sets' objects, keeps their versions for the grace period, and records why", async () => {
    const sets = await dailySets("gfs", 12, (day) => (day === 11 ? ["legal-hold"] : []));
    const set = await cli(
      "retention",
      "set-policy",
      "--source",
      "gfs",
      "--keep-daily",
      "4",
      "--floor-keep-newest",
      "2",
      "--floor-max-removal-percent",
      "100",
      "--floor-protect-hours",
      "0",
    );
    expect(set.code, set.stderr).toBe(0);

    const planned = await cli("retention", "plan", "--source", "gfs", "--json");
    expect(planned.code, planned.stderr).toBe(0);
    const [group] = planned.json();
    const removeIds = group.remove.map((item: { id: string }) => item.id);
    const onHold = sets[1] as SetWriter; // day 11
    expect(removeIds).toHaveLength(7);
    expect(removeIds).not.toContain(onHold.setId);
    expect(group.reasons.find((r: { snapshot: { id: string } }) => r.snapshot.id === onHold.setId).matches).toEqual([
      "safety floor: legal hold (tag legal-hold)",
    ]);

    const applied = await cli("retention", "apply", "--source", "gfs", "--json");
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.json().applied[0].outcome.removed.sort()).toEqual([...removeIds].sort());

    for (const each of sets) {
      const keys = await currentKeys(`sets/gfs/${each.setId}/`);
      const entry = (await stack.catalog.getBackup(each.setId)) as DumpSetEntry;
      if (removeIds.includes(each.setId)) {
        expect(keys).toEqual([]);
        expect(entry.status).toBe("REMOVED");
        expect(entry.statusReason).toMatch(/^removed by retention \(plan of .*\): not kept by the policy$/);
      } else {
        expect(keys).toEqual([each.manifestKey, ...each.components.map((c) => c.key)].sort());
        expect(entry.status).toBe("COMPLETE");
      }
    }
    const removed = sets.find((each) => removeIds.includes(each.setId)) as SetWriter;
    const versions = await stack.s3.send(
      new ListObjectVersionsCommand({ Bucket: stack.deployment.bucket, Prefix: removed.manifestKey }),
    );
    expect(versions.Versions?.length, "a noncurrent version stays until lifecycle expires it").toBe(1);

    // The next plan, diffed against the stored one: nothing new to remove.
    const again = await cli("retention", "plan", "--source", "gfs");
    expect(again.stdout).toMatch(/since the plan of .*: 0 newly removed, 0 no longer removed, 0 new backups/);
  });

  it("refuses a run removing too much at once, removes nothing, and raises an alert", async () => {
    const sets = await dailySets("breaker", 10);
    await cli(
      "retention",
      "set-policy",
      "--source",
      "breaker",
      "--keep-last",
      "1",
      "--floor-keep-newest",
      "1",
      "--floor-protect-hours",
      "0",
    );

    const applied = await cli("retention", "apply", "--source", "breaker");
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain(
      "breaker: refused: would remove 9 of 10 complete backups (90%), more than the 50% allowed",
    );
    for (const each of sets) expect((await stack.catalog.getBackup(each.setId))?.status).toBe("COMPLETE");
    expect(await currentKeys("sets/breaker/")).toHaveLength(20);
    const alerts = await new DynamoAlertStore(stack.dynamo, stack.deployment.table).recent();
    expect(alerts.find((a) => a.subject === "breaker")).toMatchObject({ kind: "retention-refused" });

    // Plan it without the floors to see the bare policy.
    const bare = await cli("retention", "plan", "--source", "breaker", "--no-safety-floors", "--json");
    expect(bare.json()[0]).toMatchObject({ status: "OK", floors: null });
  });

  it("tries a policy given on the command line without storing it", async () => {
    await dailySets("trial", 5);
    const tried = await cli(
      "retention",
      "plan",
      "--source",
      "trial",
      "--keep-last",
      "2",
      "--no-safety-floors",
      "--json",
    );
    expect(tried.json()[0].remove).toHaveLength(3);
    const stored = await cli("retention", "plan", "--source", "trial", "--json");
    expect(stored.json()[0].policy).toEqual({
      keepDaily: 30,
      keepWeekly: 12,
      keepMonthly: 12,
      keepYearly: "unlimited",
    });
  });

  it("refuses to store a policy of zeros (exit 2, nothing stored), as restic forget refuses it", async () => {
    await dailySets("zeros", 5);
    for (const flags of [
      ["--keep-last", "0"],
      ["--keep-daily", "0"],
      ["--keep-within", "0d"],
    ]) {
      const refused = await cli("retention", "set-policy", "--source", "zeros", ...flags);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toContain("no policy was specified, no snapshots will be removed");
    }
    const settings = await new DynamoRetentionStore(stack.dynamo, stack.deployment.table).getSettings({
      kind: "source",
      source: "zeros",
    });
    expect(settings).toBeUndefined();
    const tried = await cli(
      "retention",
      "plan",
      "--source",
      "zeros",
      "--keep-last",
      "0",
      "--no-safety-floors",
      "--json",
    );
    expect(tried.code, tried.stderr).toBe(0);
    expect(tried.json()[0]).toMatchObject({ status: "NO_POLICY", remove: [] });
    expect(tried.json()[0].keep).toHaveLength(5);
  });

  it("applies a stored empty policy (as an older version could write) by removing nothing", async () => {
    const sets = await dailySets("stored-zeros", 6);
    // Written straight to the table, past the CLI's refusal, as an older version of set-policy could have.
    await new DynamoRetentionStore(stack.dynamo, stack.deployment.table).putSettings(
      { kind: "source", source: "stored-zeros" },
      {
        policy: { keepLast: 0, keepWithin: "0d" },
        floors: { keepNewestComplete: 0, maxRemovalFraction: 1, protectNewerThanHours: 0 },
      },
    );
    const applied = await cli("retention", "apply", "--source", "stored-zeros");
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain("no policy was specified, no snapshots will be removed");
    for (const each of sets) {
      expect((await stack.catalog.getBackup(each.setId))?.status).toBe("COMPLETE");
      expect(await currentKeys(`sets/stored-zeros/${each.setId}/`)).toContain(each.manifestKey);
    }
  });

  it("says on stderr when the source given has no backups, so a typo does not pass for an empty plan", async () => {
    const planned = await cli("retention", "plan", "--source", "no-such-source", "--json");
    expect(planned.code).toBe(0);
    expect(planned.json()).toEqual([expect.objectContaining({ keep: [], remove: [] })]);
    expect(planned.stderr).toContain("no backups of source no-such-source in the catalog");
  });

  it("shows a source's retention as restic flags, and whether it is the default or the source's own", async () => {
    await dailySets("shown", 1);
    const before = await cli("retention", "show-policy", "--source", "shown", "--json");
    expect(before.code, before.stderr).toBe(0);
    expect(before.json()).toMatchObject({
      origin: { kind: "default" },
      policyFlags: ["--keep-daily", "30", "--keep-weekly", "12", "--keep-monthly", "12", "--keep-yearly", "unlimited"],
    });
    await cli("retention", "set-policy", "--source", "shown", "--keep-last", "4", "--keep-within-daily", "1m");
    const after = await cli("retention", "show-policy", "--source", "shown");
    expect(after.stdout).toMatch(/^policy\s+--keep-last 4 --keep-within-daily 1m$/m);
    expect(after.stdout).toMatch(/^from\s+set for this source$/m);
  });
});

describe("names that match nothing", () => {
  it("are said with the closest sources, refused by set-policy unless --allow-new, and a policy can be unset", async () => {
    await dailySets("codebolt-prod", 2);
    const hint = "no backups of source codebolt-prd in the catalog; did you mean codebolt-prod?";
    const listed = await cli("catalog", "list", "--source", "codebolt-prd");
    expect(listed).toMatchObject({ code: 0, stdout: "No backups match.\n" });
    expect(listed.stderr).toContain(hint);
    for (const args of [
      ["retention", "plan", "--source", "codebolt-prd", "--json"],
      ["retention", "show-policy", "--source", "codebolt-prd"],
      ["retention", "apply", "--source", "codebolt-prd"],
    ]) {
      const result = await cli(...args);
      expect(result.code, args.join(" ")).toBe(0);
      expect(result.stderr, args.join(" ")).toContain(hint);
    }

    const store = new DynamoRetentionStore(stack.dynamo, stack.deployment.table);
    const refused = await cli("retention", "set-policy", "--source", "codebolt-prd", "--keep-last", "3");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(hint);
    expect(refused.stderr).toContain("--allow-new");
    expect(await store.getSettings({ kind: "source", source: "codebolt-prd" })).toBeUndefined();

    // A policy may be set before a source's first backup, on purpose.
    const early = await cli("retention", "set-policy", "--source", "not-yet", "--keep-last", "3", "--allow-new");
    expect(early.code, early.stderr).toBe(0);
    expect(await store.getSettings({ kind: "source", source: "not-yet" })).toMatchObject({ policy: { keepLast: 3 } });
    const unset = await cli("retention", "unset-policy", "--source", "not-yet", "--json");
    expect(unset.code, unset.stderr).toBe(0);
    expect(unset.json()).toMatchObject({
      scope: { kind: "source", source: "not-yet" },
      removed: { policy: { keepLast: 3 } },
    });
    expect(await store.getSettings({ kind: "source", source: "not-yet" })).toBeUndefined();
    const again = await cli("retention", "unset-policy", "--source", "not-yet");
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("no retention policy is set for source not-yet");
    const typo = await cli("retention", "unset-policy", "--source", "codebolt-prd");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(hint);

    // A source's own policy removed, the dump-set default applies again.
    await cli("retention", "set-policy", "--source", "codebolt-prod", "--keep-last", "5");
    const removed = await cli("retention", "unset-policy", "--source", "codebolt-prod");
    expect(removed.stdout).toContain("Removed the retention policy of source codebolt-prod (--keep-last 5).");
    const shown = await cli("retention", "show-policy", "--source", "codebolt-prod", "--json");
    expect(shown.json()).toMatchObject({ origin: { kind: "default" } });
  });
});

describe("retention of restic snapshots", () => {
  let access: ResticAccess;

  async function addRepository(name: string): Promise<ResticAccess> {
    const directory = await mkdtemp(path.join(tmpdir(), "restorable-retention-"));
    await writeFile(path.join(directory, "password"), "retention password\n");
    const added = await stack.cli([
      "restic",
      "add-repo",
      name,
      "--password-file",
      path.join(directory, "password"),
      "--json",
    ]);
    expect(added.code, added.stderr).toBe(0);
    return {
      repository: JSON.parse(added.stdout).url,
      password: "retention password",
      env: {
        AWS_ACCESS_KEY_ID: "restorable-test",
        AWS_SECRET_ACCESS_KEY: "restorable-test",
        AWS_DEFAULT_REGION: "us-east-1",
      },
    };
  }

  it("forgets exactly the planned snapshots in the repository, which restic check then finds sound", async () => {
    access = await addRepository("forgetful");
    const times = [
      "2025-01-01 10:00:00",
      "2025-01-02 10:00:00",
      "2025-01-03 10:00:00",
      "2025-01-04 10:00:00",
      "2025-01-05 10:00:00",
    ];
    const fixture = await makeResticFixture({
      ...access,
      repositoryVersion: 2,
      backups: times.map((time) => ({ host: "ws1", tags: ["workspace-id:abc"], time })),
    });
    await stack.pump.drain();
    const policy = await cli(
      "retention",
      "set-policy",
      "--repo",
      "forgetful",
      "--keep-last",
      "2",
      "--floor-keep-newest",
      "1",
      "--floor-max-removal-percent",
      "100",
      "--floor-protect-hours",
      "0",
    );
    expect(policy.code, policy.stderr).toBe(0);

    const applied = await cli("retention", "apply", "--json");
    expect(applied.code, applied.stderr).toBe(0);
    const mine = applied.json().applied.find((a: { source: string }) => a.source.startsWith("restic:forgetful "));
    expect(mine.outcome.removed.sort()).toEqual(fixture.snapshotIds.slice(0, 3).sort());

    const remaining = await resticJson<{ id: string }[]>(["snapshots"], access);
    expect(remaining.map((s) => s.id).sort()).toEqual(fixture.snapshotIds.slice(3).sort());
    await restic(["check"], access);
    await expect(restic(["list", "locks"], access)).resolves.toBe("");
    const shown = await cli("retention", "show-policy", "--source", mine.source, "--json");
    expect(shown.json()).toMatchObject({ origin: { kind: "repository", repository: "forgetful" } });
    for (const id of fixture.snapshotIds.slice(0, 3)) {
      expect(await stack.catalog.getBackup(id)).toMatchObject({
        status: "FORGOTTEN",
        statusReason: expect.stringMatching(/^forgotten by retention/),
      });
    }
  });

  it("does not proceed while another client holds a live lock, and does once it is released", async () => {
    const locked = await addRepository("busy");
    const fixture = await makeResticFixture({
      ...locked,
      repositoryVersion: 2,
      backups: ["2025-01-01 10:00:00", "2025-01-02 10:00:00", "2025-01-03 10:00:00"].map((time) => ({
        host: "ws9",
        time,
      })),
    });
    await stack.pump.drain();
    await cli("retention", "set-policy", "--repo", "busy", ...KEEP_ONLY_THE_NEWEST);

    // A backup reading from stdin holds its lock until stdin closes: another client at work.
    const holder = spawn(
      resticBinary() as string,
      ["--no-cache", "-r", locked.repository, "backup", "--stdin", "--host", "other"],
      {
        env: { ...process.env, ...locked.env, RESTIC_PASSWORD: locked.password },
        stdio: ["pipe", "ignore", "pipe"],
      },
    );
    await waitFor(async () => (await restic(["list", "locks", "--no-lock"], locked)).trim() !== "");

    const blocked = await cli("retention", "apply", "--json");
    const busy = blocked.json().applied.find((a: { source: string }) => a.source.startsWith("restic:busy "));
    expect(busy.outcome.removed).toEqual([]);
    // The lock's time as an ISO time, not restic's nanoseconds and zone.
    expect(busy.outcome.postponed[0].reason).toMatch(
      /^repository busy is locked by .* since \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z; retention waits for the next run$/,
    );
    expect((await resticJson<unknown[]>(["snapshots", "--no-lock"], locked)).length).toBe(3);

    holder.stdin?.end("the other client's data\n");
    await new Promise((resolve) => holder.once("exit", resolve));
    await stack.pump.drain();
    const retried = await cli("retention", "apply", "--json");
    const done = retried.json().applied.find((a: { source: string }) => a.source === busy.source);
    expect(done.outcome.removed.sort()).toEqual(fixture.snapshotIds.slice(0, 2).sort());
    await restic(["check"], locked);
  });

  it("plans and shows a repository's sources by --repo, refuses an unregistered one, and unsets its policy", async () => {
    const scoped = await addRepository("scoped");
    await makeResticFixture({
      ...scoped,
      repositoryVersion: 2,
      backups: [
        { host: "ws1", tags: ["workspace-id:a"], time: "2025-01-01 10:00:00" },
        { host: "ws2", tags: ["workspace-id:b"], time: "2025-01-02 10:00:00" },
      ],
    });
    await stack.pump.drain();
    const [first, second] = [
      "restic:scoped host [ws1] tags [workspace-id:a]",
      "restic:scoped host [ws2] tags [workspace-id:b]",
    ];

    const hint = "no restic repository named scopd is registered; did you mean scoped?";
    const refused = await cli("retention", "set-policy", "--repo", "scopd", "--keep-last", "2");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(hint);
    expect(refused.stderr).toContain("restorable restic add-repo scopd");
    for (const args of [
      ["retention", "plan", "--repo", "scopd", "--json"],
      ["retention", "show-policy", "--repo", "scopd", "--json"],
      ["catalog", "list", "--repo", "scopd"],
    ]) {
      const result = await cli(...args);
      expect(result.code, args.join(" ")).toBe(0);
      expect(result.stderr, args.join(" ")).toContain(hint);
    }

    expect((await cli("retention", "set-policy", "--repo", "scoped", "--keep-last", "2")).code).toBe(0);
    expect((await cli("retention", "set-policy", "--source", second, "--keep-last", "5")).code).toBe(0);
    const planned = await cli("retention", "plan", "--repo", "scoped", "--json");
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.json().map((group: { source: string }) => group.source)).toEqual([first, second]);
    expect(planned.json().map((group: { policy: object }) => group.policy)).toEqual([{ keepLast: 2 }, { keepLast: 5 }]);

    const shown = await cli("retention", "show-policy", "--repo", "scoped", "--json");
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.json()).toMatchObject({
      repository: "scoped",
      policy: { keepLast: 2 },
      policyFlags: ["--keep-last", "2"],
      sources: [
        { source: first, origin: "repository", policyFlags: ["--keep-last", "2"] },
        { source: second, origin: "source", policyFlags: ["--keep-last", "5"] },
      ],
    });
    const table = await cli("retention", "show-policy", "--repo", "scoped");
    expect(table.stdout).toMatch(/^policy\s+--keep-last 2$/m);
    expect(table.stdout).toMatch(/host \[ws2\] tags \[workspace-id:b\]\s+--keep-last 5\s+its own$/m);

    const unset = await cli("retention", "unset-policy", "--repo", "scoped");
    expect(unset.code, unset.stderr).toBe(0);
    expect(unset.stdout).toContain("Removed the retention policy of repository scoped (--keep-last 2).");
    expect((await cli("retention", "show-policy", "--repo", "scoped", "--json")).json()).toMatchObject({
      policy: null,
      sources: [
        { source: first, origin: "none", policyFlags: [] },
        { source: second, origin: "source" },
      ],
    });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
