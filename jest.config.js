/**
 * Two tiers of the same tests, as jest projects (`jest` alone runs both, one file at a time):
 * - fast: unit tests and the real-server API tests (`make test-fast`, for daily work);
 * - slow: the measurement tools' tests (everything under test/tools: fuzz, SIGTERM under load,
 *   crash, bench smoke) and any file named `*.slow.test.ts` (the PyTorch training smoke test).
 *   A file belongs here when it takes more than ~20 s on a quiet 2-core machine.
 * `make test` runs the fast tier, then the slow one, each with two workers (see the Makefile).
 */
const SLOW = ['<rootDir>/test/tools/**/*.test.ts', '<rootDir>/test/**/*.slow.test.ts'];

/** @type {import('jest').Config} */
const common = {
  testEnvironment: '<rootDir>/test/jest-environment.js',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  // Sources import './x.js' (nodenext); map that back to the .ts file for ts-jest.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...common, displayName: 'fast', testMatch: ['<rootDir>/test/**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/tools/', '\\.slow\\.test\\.ts$'] },
    { ...common, displayName: 'slow', testMatch: SLOW },
  ],
  // Global options (jest ignores them inside a project).
  testTimeout: 120000,
  // Tests that start the server share the 2 cores with ONNX Runtime: one file at a time for a bare
  // `jest`; the Makefile's tiers run two (FAST_WORKERS, SLOW_WORKERS).
  maxWorkers: 1,
};
