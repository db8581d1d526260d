import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: integration suites start servers and databases of their own.
    maxWorkers: 2,
    reporters: ['default'],
    // The AWS SDK warns once per process that its 2027 releases will need Node 22; the pinned
    // release supports Node 20, and the warning would repeat in every test worker.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
