import type { TransformationLimits } from '../../src/webhooks/transformation';

/** Small, quick limits for tests' transformation runners. */
export const TEST_TRANSFORMATION_LIMITS: TransformationLimits = {
  memoryMb: 8,
  timeoutMs: 200,
  maxResultBytes: 65_536,
  runners: 2,
  queueSize: 64,
  queuePerHook: 32,
};
