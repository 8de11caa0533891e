/**
 * Runs before `npm test`: installs what the tests need, or stops saying exactly what to install.
 *  - moto server, pinned, into the project's .venv (from PyPI)
 *  - PostgreSQL server and client binaries (apt-get, when missing and running as root)
 *  - rsync, which the backup page's script runs (test/e2e/restore-page-script.test.ts; apt-get likewise)
 *  - restic ≥ 0.16 (built from the Go module proxy into .tools/bin when Go is available,
 *    because Debian's restic is 0.14)
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import * as path from "node:path";
import { ensureMotoInstalled } from "../../cli/local/moto";
import { TOOLS_DIRECTORY } from "../../cli/local/paths";
import { LOCAL_RESTIC, onPath, postgresBinary, RESTIC_PINNED_VERSION, resticBinary, resticVersion, run } from "./tools";

const say = (line: string) => console.log(`[prerequisites] ${line}`);
const missing: string[] = [];

async function aptInstall(packages: string[]): Promise<boolean> {
  if (process.getuid?.() !== 0 || !onPath("apt-get")) return false;
  say(`installing ${packages.join(", ")} with apt-get ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    await run("apt-get", ["update", "-qq"], { env, maxBuffer: 64 * 1024 * 1024 });
    await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return true;
  } catch (error) {
    say(`apt-get failed: ${(error as { stderr?: string }).stderr ?? error}`);
    return false;
  }
}

async function ensurePostgres(): Promise<void> {
  const needed = ["initdb", "pg_ctl", "pg_dump", "pg_restore", "psql"] as const;
  const absent = () => needed.filter((name) => !postgresBinary(name));
  if (absent().length > 0) await aptInstall(["postgresql", "postgresql-client"]);
  const still = absent();
  if (still.length > 0) {
    missing.push(
      `PostgreSQL server and client (${still.join(", ")} not found): apt-get install postgresql postgresql-client`,
    );
  } else if (process.getuid?.() === 0 && !(await userExists("postgres"))) {
    missing.push("a 'postgres' system user (initdb refuses to run as root): useradd --system postgres");
  }
}

async function ensureRsync(): Promise<void> {
  if (!onPath("rsync")) await aptInstall(["rsync"]);
  if (!onPath("rsync")) missing.push("rsync (the backup page's script runs it): apt-get install rsync");
}

async function userExists(name: string): Promise<boolean> {
  try {
    await run("id", ["-u", name]);
    return true;
  } catch {
    return false;
  }
}

async function ensureRestic(): Promise<void> {
  const found = resticBinary();
  if (found) {
    say(`restic: ${found} (${resticVersion(found)?.join(".")})`);
    return;
  }
  const go = onPath("go") ?? (existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : undefined);
  if (go) {
    say(
      `building restic ${RESTIC_PINNED_VERSION} from the Go module proxy into .tools/bin (a minute or two, once) ...`,
    );
    try {
      const { stdout } = await run(
        go,
        ["mod", "download", "-json", `github.com/restic/restic@${RESTIC_PINNED_VERSION}`],
        {
          cwd: TOOLS_DIRECTORY,
        },
      );
      const { Dir } = JSON.parse(stdout) as { Dir: string };
      await run(go, ["build", "-trimpath", "-o", LOCAL_RESTIC, "./cmd/restic"], {
        cwd: Dir,
        env: { ...process.env, GOFLAGS: "-mod=readonly", CGO_ENABLED: "0" },
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      say(`building restic failed: ${(error as { stderr?: string }).stderr ?? error}`);
    }
    if (resticBinary()) return;
  }
  missing.push(
    `restic ${RESTIC_PINNED_VERSION.slice(1)} or any restic ≥ 0.16 on PATH (Debian's package is 0.14, too old): ` +
      "install Go so the tests can build it, or download a release from https://github.com/restic/restic/releases",
  );
}

await mkdir(path.join(TOOLS_DIRECTORY, "bin"), { recursive: true });
await ensureMotoInstalled(say);
say("moto server: .venv/bin/moto_server");
await ensurePostgres();
await ensureRsync();
await ensureRestic();
if (missing.length > 0) {
  console.error("\nThe tests need these, and they could not be installed automatically:");
  for (const line of missing) console.error(`  - ${line}`);
  process.exit(1);
}
say("all prerequisites present");
