#!/usr/bin/env node
// The `leveret` command: runs the compiled CLI (build first with `pnpm build`).
import { setFlagsFromString } from "node:v8";

// A broker runs the same publish and delivery path millions of times: V8 may optimise it after a
// quarter of its default warm-up budget. Set before the broker's code loads, so that all of it is
// tiered up that way; the first seconds under load then run at full speed (docs/benchmarks.md).
setFlagsFromString("--interrupt-budget=16384");

const { main } = await import("../dist/cli.js");

main(process.argv).then(
  (code) => {
    if (typeof code === "number") process.exitCode = code;
  },
  (error) => {
    console.error(`leveret: ${error?.message ?? error}`);
    process.exit(1);
  },
);
