// Loaded with `node --import`: writes the URL of every module the process imports, one a line,
// to the file named by VWS_RECORD_IMPORTS, to show which code a command line loads.
import { register } from 'node:module';

register(new URL('./record-imports-hooks.mjs', import.meta.url), { data: process.env.VWS_RECORD_IMPORTS });
