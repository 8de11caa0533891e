import type { Command } from "commander";
import { registerCatalogList } from "./list";
import { registerCatalogShow } from "./show";
import { registerCatalogTag } from "./tag";

export function registerCatalogCommands(program: Command): void {
  const catalog = program.command("catalog").description("Query the backup catalog");
  registerCatalogList(catalog);
  registerCatalogTag(catalog);
  registerCatalogShow(catalog);
}
