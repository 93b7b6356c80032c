// Worker threads do not inherit the TypeScript loader; register it before loading the worker's code.
import { register } from 'tsx/esm/api';

register();
await import('./sim-worker.ts');
