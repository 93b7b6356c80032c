// The API's upper limits are the core's (core/limits.ts): the same bounds hold for what an agent
// reports and for what the service checks before the scheduler hears an input.
export * from '../core/limits.ts';
