/** Tests run against real servers brought up by scripts/stack.sh (see README). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking is done once by `tsc --noEmit`; per-file transpiling keeps jest fast on 2 cores.
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true, diagnostics: false }],
  },
  testTimeout: 120000,
  maxWorkers: 1,
  verbose: true,
};
