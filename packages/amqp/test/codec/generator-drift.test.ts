// The committed src/generated/protocol.ts must be exactly what scripts/generate.mjs makes from
// the spec today: regenerate into a temporary file and compare.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));

it("src/generated/protocol.ts matches a fresh run of scripts/generate.mjs", () => {
  const dir = mkdtempSync(join(tmpdir(), "leveret-amqp-generate-"));
  try {
    const output = join(dir, "protocol.ts");
    execFileSync(process.execPath, [join(packageDir, "scripts/generate.mjs"), output], { stdio: "pipe" });
    const fresh = readFileSync(output, "utf8");
    const committed = readFileSync(join(packageDir, "src/generated/protocol.ts"), "utf8");
    expect(fresh.length).toBeGreaterThan(1000);
    // On failure: run `pnpm --filter @leveret/amqp generate` and commit the result.
    expect(committed === fresh, "src/generated/protocol.ts is stale; run the generate script").toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
