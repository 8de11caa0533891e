/**
 * The entry point of the bundle drill instances run (`node restorable-drill-agent.mjs drill agent …`): only
 * the agent, nothing that looks for a checkout of this repository around it.
 */
import { Command } from "commander";
import { registerDrillAgent } from "../commands/drill/agent";

const program = new Command("restorable");
registerDrillAgent(program.command("drill").description("restore drills"));
await program.parseAsync(process.argv);
