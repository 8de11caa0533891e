import { afterEach, describe, expect, it, vi } from "vitest";
import { withNewestAttempts } from "../../cli/commands/catalog/query";
import { closestNames, didYouMean, editDistance, repositoryOfSource } from "../../cli/commands/names";
import { resticEnvironment } from "../../cli/operator/restic-environment";
import { printSources } from "../../cli/output/backups";
import { printCleared } from "../../cli/output/keys";
import { printPushResult, tagsNotAdded } from "../../cli/output/push";
import { printAddedRepository } from "../../cli/output/restic";
import type { SourceEntry } from "../../shared/catalog/entry";
import type { ResticRepository } from "../../shared/restic/repository";

function printed(print: () => void): string {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => lines.push(args.join(" ")));
  const write = vi.spyOn(process.stdout, "write").mockImplementation((text: string | Uint8Array) => {
    lines.push(String(text).replace(/\n$/, ""));
    return true;
  });
  print();
  log.mockRestore();
  write.mockRestore();
  return lines.join("\n");
}

afterEach(() => vi.restoreAllMocks());

describe("names that match nothing", () => {
  const sources = ["codebolt-prod", "codebolt-staging", "laptop", "restic:ws host [ws1] tags [workspace-id:abc]"];

  it("names the closest existing ones, best first", () => {
    expect(editDistance("codebolt-prd", "codebolt-prod")).toBe(1);
    expect(editDistance("Laptop", "laptop")).toBe(0);
    expect(closestNames("codebolt-prd", sources)).toEqual(["codebolt-prod"]);
    expect(closestNames("codebolt", sources)).toEqual(["codebolt-prod", "codebolt-staging"]);
    expect(closestNames("lptop", sources)).toEqual(["laptop"]);
    expect(closestNames("something-else", sources)).toEqual([]);
    expect(closestNames("laptop", sources), "the name itself is not a suggestion").toEqual([]);
  });

  it("says did you mean, or where to look", () => {
    expect(didYouMean("codebolt-prd", sources, "see the list")).toBe("did you mean codebolt-prod?");
    expect(didYouMean("codebolt", sources, "see the list")).toBe("did you mean codebolt-prod or codebolt-staging?");
    expect(didYouMean("zzz", sources, "see the list")).toBe("see the list");
    expect(didYouMean("restic:ws host [ws2] tags [workspace-id:abc]", sources, "-")).toBe(
      "did you mean 'restic:ws host [ws1] tags [workspace-id:abc]'?",
    );
  });

  it("reads a restic source's repository from its name", () => {
    expect(repositoryOfSource("restic:workspaces host [ws1] tags [a]")).toBe("workspaces");
    expect(repositoryOfSource("restic:workspaces")).toBe("workspaces");
    expect(repositoryOfSource("codebolt-prod")).toBeUndefined();
  });
});

describe("catalog list's sources", () => {
  const summary = (id: string, createdAt: string) => ({ id, createdAt, status: "COMPLETE" as const });
  const sources: SourceEntry[] = [
    {
      source: "restic:ws host [ws1] tags []",
      kind: "restic",
      latest: summary("a".repeat(64), "2026-01-01T10:00:00.000Z"),
      latestComplete: summary("a".repeat(64), "2026-01-01T10:00:00.000Z"),
      lastProvenRestorable: null,
      updatedAt: "2026-01-01T10:00:05.000Z",
    },
    {
      source: "restic:ok host [ws2] tags []",
      kind: "restic",
      latest: summary("b".repeat(64), "2026-01-01T10:00:00.000Z"),
      latestComplete: summary("b".repeat(64), "2026-01-01T10:00:00.000Z"),
      lastProvenRestorable: null,
      updatedAt: "2026-01-01T10:00:05.000Z",
    },
    {
      source: "codebolt-prod",
      kind: "dumpset",
      latest: summary("20260101T020000Z-0123456789ab", "2026-01-01T02:00:00.000Z"),
      latestComplete: summary("20260101T020000Z-0123456789ab", "2026-01-01T02:00:00.000Z"),
      lastProvenRestorable: null,
      updatedAt: "2026-01-01T02:00:05.000Z",
    },
  ];
  const repository = (name: string, health: ResticRepository["health"]) => ({ name, health });

  it("shows UNREADABLE (newest) for a restic source whose repository turned unreadable after its latest", () => {
    const reason = "no key of repository ws opens with the password in restorable/b/restic/ws";
    const rows = withNewestAttempts(sources, [
      repository("ws", { status: "UNREADABLE", reason, since: "2026-01-02T00:00:00.000Z" }),
      repository("ok", { status: "OK", reason: null, since: "2026-01-02T00:00:00.000Z" }),
    ]);
    expect(rows.map((row) => row.newest)).toEqual([
      { repository: "ws", status: "UNREADABLE", since: "2026-01-02T00:00:00.000Z", reason },
      null,
      null,
    ]);
    const text = printed(() => printSources(rows));
    expect(text).toMatch(
      /^restic:ws host \[ws1\] tags \[\]\s+restic\s+aaaaaaaa \(2026-01-01 10:00:00Z\)\s+UNREADABLE \(newest\)/m,
    );
    expect(text).toMatch(/^restic:ok host \[ws2\] tags \[\]\s+restic\s+bbbbbbbb \(2026-01-01 10:00:00Z\)\s+COMPLETE/m);
    expect(text).toContain(`(newest): restic repository ws cannot be read since 2026-01-02 00:00:00Z`);
    expect(text).toContain(reason);
  });

  it("keeps COMPLETE when the repository was unreadable only before the source's latest backup", () => {
    const rows = withNewestAttempts(sources, [
      repository("ws", { status: "UNREADABLE", reason: "x", since: "2025-12-31T00:00:00.000Z" }),
    ]);
    expect(rows.every((row) => row.newest === null)).toBe(true);
  });
});

describe("messages", () => {
  it("counts the sets no longer flagged, per key", () => {
    const text = printed(() =>
      printCleared([
        { id: "a", masterKeyId: "mk-2025-01" },
        { id: "b", masterKeyId: "mk-2025-01" },
        { id: "c", masterKeyId: "mk-other" },
      ]),
    );
    expect(text).toBe(
      "2 sets flagged for key mk-2025-01 are no longer flagged.\n1 set flagged for key mk-other is no longer flagged.",
    );
    expect(printed(() => printCleared([]))).toBe("");
  });

  it("says which tags a push of a set already pushed did not add, and how to add them", () => {
    const result = {
      source: "s",
      setId: "20250101T020000Z-0123456789ab",
      outcome: "already-pushed" as const,
      manifestKey: "k",
      createdAt: "2025-01-01T02:00:00Z",
      components: [],
      bytes: 0,
      seconds: 0.1,
    };
    expect(tagsNotAdded(result, ["env:prod"])).toEqual(["env:prod"]);
    expect(tagsNotAdded({ outcome: "pushed" }, ["env:prod"])).toEqual([]);
    const text = printed(() => printPushResult(result, ["env:prod", "legal-hold"]));
    expect(text).toMatch(/^Already pushed, nothing uploaded: set 20250101T020000Z-0123456789ab/);
    expect(text).toContain("The tags given now (env:prod, legal-hold) were not added");
    expect(text).toContain("restorable catalog tag 20250101T020000Z-0123456789ab --add env:prod --add legal-hold");
  });

  it("gives restic the environment it needs: placeholders for an emulator, the region and the host policy on AWS", () => {
    const local = resticEnvironment("ws", {
      region: "us-east-1",
      endpoint: "http://127.0.0.1:4580",
      bucket: "b",
      table: "t",
    });
    expect(local.env).toEqual({
      AWS_ACCESS_KEY_ID: "restorable-local",
      AWS_SECRET_ACCESS_KEY: "restorable-local",
      AWS_DEFAULT_REGION: "us-east-1",
    });
    const aws = resticEnvironment("work-spaces", { region: "eu-west-1", bucket: "b", table: "t" });
    expect(aws.env).toEqual({ AWS_DEFAULT_REGION: "eu-west-1" });
    expect(aws.credentials).toContain("restic host policy of work-spaces");
    expect(aws.credentials).toContain("RepositoryworkspacesPolicyArn");

    const text = printed(() =>
      printAddedRepository(
        "ws",
        {
          repository: {
            name: "ws",
            secretName: "restorable/b/restic/ws",
            groupBy: ["host", "tags"],
            verifySlices: 30,
            createdAt: "2026-01-01T00:00:00.000Z",
            health: null,
            verification: null,
          },
          url: "s3:http://127.0.0.1:4580/b/restic/ws",
          created: true,
          passwordCheck: "not-initialised",
          backfilled: null,
        },
        local,
      ),
    );
    expect(text).toContain(
      "  export AWS_ACCESS_KEY_ID=restorable-local\n  export AWS_SECRET_ACCESS_KEY=restorable-local",
    );
    expect(text).toContain(
      "  export AWS_DEFAULT_REGION=us-east-1\n  export RESTIC_REPOSITORY=s3:http://127.0.0.1:4580/b/restic/ws",
    );
    expect(text).toContain("restic -r s3:http://127.0.0.1:4580/b/restic/ws init");
    expect(text).toContain("set auto_forget = false");
    expect(text).toContain("restorable retention set-policy --repo ws --keep-last 10 --keep-daily 14");
  });
});
