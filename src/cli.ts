/** The `webgrad` command: `webgrad train ...`, `webgrad bench ...`. Each subcommand module registers itself. */
import { readFileSync } from "node:fs";
import { commands } from "./cli/registry.js";
import "./cli/train.js";
import "./cli/bench.js";
import "./cli/demo.js";
import "./cli/explain.js";
import "./cli/sample.js";

/** The installed package's version: the bundle is dist/node/cli.js, two folders below package.json. */
function version(): string {
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v") {
    console.log(`webgrad ${version()}`);
    return 0;
  }
  const cmd = name ? commands[name] : undefined;
  if (cmd) return cmd.run(rest);
  const list = Object.entries(commands).map(([n, c]) => `  webgrad ${n.padEnd(8)} ${c.about}`).join("\n");
  const usage = `usage: webgrad <command> [options]\n\n${list}\n  webgrad --version\n\nRun "webgrad <command> --help" for its options.`;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage);
    return 0;
  }
  const known = Object.keys(commands).join(", ");
  console.error(`webgrad: unknown command "${name}"; the commands are ${known}.\nRun "webgrad --help" for what each does.`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`webgrad: ${e.message}`);
    process.exit(1);
  },
);
