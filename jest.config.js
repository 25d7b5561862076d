// Jest runs the TypeScript sources directly as native ES modules through ts-jest
// (transpile-only: tsconfig.test.json has isolatedModules; `pnpm run typecheck`
// does the type checking). Node must run with --experimental-vm-modules:
// use scripts/test or `pnpm test`, which set it.
import { createDefaultEsmPreset } from 'ts-jest';

/** @type {import('jest').Config} */
const config = {
  ...createDefaultEsmPreset({ tsconfig: '<rootDir>/tsconfig.test.json' }),
  testEnvironment: 'node',
  roots: ['<rootDir>/packages'],
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/packages/*/src/**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/packages/[^/]+/dist/'],
  moduleNameMapper: {
    // Workspace packages resolve to their sources, so tests need no build first.
    '^@tollgate/(db|core|server|cli)$': '<rootDir>/packages/$1/src/index.ts',
    // NodeNext-style `./foo.js` imports point at `./foo.ts` sources.
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 30_000,
  collectCoverageFrom: ['packages/*/src/**/*.ts', '!packages/*/src/**/*.test.ts'],
  coverageDirectory: '<rootDir>/coverage',
  reporters: ['default', '<rootDir>/scripts/lib/jest-summary-reporter.js'],
};

export default config;
