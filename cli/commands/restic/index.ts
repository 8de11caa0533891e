import type { Command } from "commander";
import { registerResticAddRepo } from "./add-repo";
import { registerResticListRepos } from "./list-repos";
import { registerResticPrune } from "./prune";
import { registerResticReindex } from "./reindex";
import { registerResticSetPassword } from "./set-password";
import { registerResticVerify } from "./verify";

export function registerResticCommands(program: Command): void {
  const restic = program
    .command("restic")
    .description("Restic repositories in the backup bucket: registered here, written by plain restic on the hosts");
  registerResticAddRepo(restic);
  registerResticSetPassword(restic);
  registerResticReindex(restic);
  registerResticListRepos(restic);
  registerResticVerify(restic);
  registerResticPrune(restic);
}
