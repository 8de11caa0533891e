import type { Command } from "commander";
import { registerIngestDlq } from "./dlq";
import { registerIngestRedrive } from "./redrive";

export function registerIngestCommands(program: Command): void {
  const ingest = program
    .command("ingest")
    .description("The ingest queue: messages the indexer gave up on, and sending them back");
  registerIngestDlq(ingest);
  registerIngestRedrive(ingest);
}
