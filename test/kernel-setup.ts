// Setup for kernel tests (run inside the sandbox): process starts cost about a
// second there, so hooks and tests get a minute. (testTimeout is a global jest
// option and cannot be set per project.)
import { jest } from '@jest/globals';

jest.setTimeout(60_000);
