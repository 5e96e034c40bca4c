#!/usr/bin/env node
// The leveret-perf command; the code lives in dist/cli.js (run `pnpm build` first).
import { main } from "../dist/cli.js";

process.exitCode = await main(process.argv);
