import { defineConfig } from "vitest/config";

// Vite's own JSX transform (esbuild) handles Preact through tsconfig's jsxImportSource:
// no framework plugin is needed.
export default defineConfig({
  clearScreen: false,
  build: {
    target: "safari15", // WebKitGTK 2.4x and newer
    // The polyfill would be an inline script, which the CSP forbids; WebKit has modulepreload.
    modulePreload: { polyfill: false },
    // Icons are served as files, never inlined as data: URLs.
    assetsInlineLimit: 0,
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.tsx", "src/**/*.test.ts"],
  },
});
