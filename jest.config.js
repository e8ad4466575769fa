// Two projects: unit tests run on the host; kernel tests (*.kernel.test.ts) run
// inside the user-mode Linux sandbox (scripts/sandbox.sh), never on the host.
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  // Scratch space, build output and image staging hold copies of package.json.
  modulePathIgnorePatterns: ['<rootDir>/.sandbox/', '<rootDir>/dist/', '<rootDir>/build/'],
  // TypeScript rewrites our '.ts' import specifiers to '.js'; point them back.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{src,test,e2e}/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.kernel\\.test\\.ts$', '/node_modules/'],
    },
    {
      ...common,
      displayName: 'kernel',
      // Process starts are slow in the sandbox (about 1 s for node): longer timeouts.
      setupFilesAfterEnv: ['<rootDir>/test/kernel-setup.ts'],
      testMatch: ['<rootDir>/{src,test,e2e}/**/*.kernel.test.ts'],
    },
  ],
};
