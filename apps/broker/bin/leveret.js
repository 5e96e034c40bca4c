#!/usr/bin/env node
// The `leveret` command: runs the compiled CLI (build first with `pnpm build`).
import { main } from "../dist/cli.js";

main(process.argv).then(
  (code) => {
    if (typeof code === "number") process.exitCode = code;
  },
  (error) => {
    console.error(`leveret: ${error?.message ?? error}`);
    process.exit(1);
  },
);
