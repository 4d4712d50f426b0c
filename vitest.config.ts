import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // lab tests build namespaces and run real tools: give them room
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
