import { defineConfig } from "vitest/config";

// One run over every package and app: `pnpm test` builds first (turbo), then runs this.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"],
    reporters: ["default", "./scripts/summary-reporter.ts"],
  },
});
