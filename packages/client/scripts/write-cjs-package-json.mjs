// The CommonJS build in dist/cjs sits inside a "type": "module" package; this marker file makes Node
// (and TypeScript) read the .js and .d.ts files below it as CommonJS.
import { mkdirSync, writeFileSync } from "node:fs";

const dir = new URL("../dist/cjs/", import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL("package.json", dir), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);
