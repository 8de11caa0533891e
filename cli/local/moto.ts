import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import * as path from "node:path";
import { promisify } from "node:util";
import { RestorableError } from "../../shared/errors";
import { REPOSITORY_ROOT, VENV_DIRECTORY } from "./paths";

const run = promisify(execFile);
const REQUIREMENTS = path.join(REPOSITORY_ROOT, "cli", "local", "moto-requirements.txt");
const STAMP = path.join(VENV_DIRECTORY, ".restorable-requirements.sha256");

export class EmulatorError extends RestorableError {}

const WATCHDOG = `
import signal, subprocess, sys, threading
server = subprocess.Popen(sys.argv[1:])
def stop(*_):
    server.terminate()
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
def watch():
    sys.stdin.read()
    stop()
threading.Thread(target=watch, daemon=True).start()
sys.exit(server.wait())
`;

export interface RunningEmulator {
  endpoint: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Makes sure the project-local .venv holds exactly the pinned moto server (and its pinned
 * dependencies), installing it from PyPI when it is missing or the pins changed.
 */
export async function ensureMotoInstalled(log: (line: string) => void = () => {}): Promise<string> {
  const motoServer = path.join(VENV_DIRECTORY, "bin", "moto_server");
  const wanted = createHash("sha256").update(readFileSync(REQUIREMENTS)).digest("hex");
  const installed = existsSync(STAMP) ? (await readFile(STAMP, "utf-8")).trim() : "";
  if (existsSync(motoServer) && installed === wanted) return motoServer;

  const python = await findPython();
  log(
    `installing the AWS emulator (moto server, pinned in ${path.relative(REPOSITORY_ROOT, REQUIREMENTS)}) into .venv ...`,
  );
  try {
    if (!existsSync(path.join(VENV_DIRECTORY, "bin", "pip"))) await run(python, ["-m", "venv", VENV_DIRECTORY]);
    await run(
      path.join(VENV_DIRECTORY, "bin", "pip"),
      ["install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (error) {
    throw new EmulatorError(
      "emulator-install-failed",
      `could not install moto into .venv (needs Python 3.9+ with the venv module and access to PyPI): ${(error as { stderr?: string }).stderr ?? error}`,
      { cause: error },
    );
  }
  await writeFile(STAMP, `${wanted}\n`);
  return motoServer;
}

async function findPython(): Promise<string> {
  for (const candidate of ["python3", "python"]) {
    try {
      const { stdout } = await run(candidate, ["-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"]);
      const [major, minor] = stdout.trim().split(".").map(Number);
      if ((major ?? 0) === 3 && (minor ?? 0) >= 9) return candidate;
    } catch {
      // try the next name
    }
  }
  throw new EmulatorError(
    "python-missing",
    "the AWS emulator needs Python 3.9 or newer with the venv module: install it (Debian/Ubuntu: apt-get install python3 python3-venv)",
  );
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Starts moto server on a loopback port and waits until it answers. */
export async function startEmulator(
  options: { port?: number; log?: (line: string) => void; environment?: Record<string, string> } = {},
): Promise<RunningEmulator> {
  const motoServer = await ensureMotoInstalled(options.log);
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  // Through a watchdog that stops moto when our stdin pipe closes, so that a test run or benchmark
  // killed outright (timeout, Ctrl-C twice) does not leave an emulator running behind it. In a process group
  // of its own: Ctrl-C in a terminal signals the whole foreground group, and moto must outlive the handlers
  // still talking to it until the stack stops it (stop() below), or they log connection errors on the way out.
  const child = spawn(
    path.join(VENV_DIRECTORY, "bin", "python"),
    ["-c", WATCHDOG, motoServer, "-H", "127.0.0.1", "-p", String(port)],
    {
      // moto's Step Functions interpreter calls moto back on MOTO_PORT.
      // EC2 refuses an instance type it does not know, as AWS does (a drill plan's typo ends at launch).
      env: {
        ...process.env,
        MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION: "true",
        ...options.environment,
        MOTO_PORT: String(port),
      },
      stdio: ["pipe", "ignore", "pipe"],
      detached: true,
    },
  );
  let stderr = "";
  child.stderr?.setEncoding("utf-8").on("data", (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new EmulatorError(
        "emulator-exited",
        `moto server exited at start (port ${port} in use?): ${stderr.trim()}`,
      );
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new EmulatorError(
        "emulator-timeout",
        `moto server did not answer on ${endpoint} within 30 s: ${stderr.trim()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    endpoint,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin?.end();
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
