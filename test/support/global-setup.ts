import "vitest";
import type { TestProject } from "vitest/node";
import { startEmulator } from "../../cli/local/moto";
import { startPostgres } from "./postgres";

declare module "vitest" {
  export interface ProvidedContext {
    emulatorEndpoint: string;
    postgresPort: number;
  }
}

/**
 * One emulator and one PostgreSQL cluster for the whole run; every test file makes resources and
 * databases of its own with unique names, so files can run in parallel against them.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [emulator, postgres] = await Promise.all([startEmulator(), startPostgres()]);
  project.provide("emulatorEndpoint", emulator.endpoint);
  project.provide("postgresPort", postgres.port);
  return async () => {
    await Promise.all([emulator.stop(), postgres.stop()]);
  };
}
