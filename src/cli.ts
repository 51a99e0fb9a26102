/** The `webgrad` command: `webgrad train ...`, `webgrad bench ...`. Each subcommand module registers itself. */
import { commands } from "./cli/registry.js";
import "./cli/train.js";
import "./cli/bench.js";
import "./cli/demo.js";
import "./cli/explain.js";

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const cmd = name ? commands[name] : undefined;
  if (!cmd) {
    const list = Object.entries(commands).map(([n, c]) => `  webgrad ${n.padEnd(8)} ${c.about}`).join("\n");
    console.log(`usage: webgrad <command> [options]\n\n${list}\n\nRun "webgrad <command> --help" for its options.`);
    return name && name !== "--help" && name !== "help" ? 2 : 0;
  }
  return cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`webgrad: ${e.message}`);
    process.exit(1);
  },
);
