// Imported first by every property test: failures print the inner assertion's message (the
// violations) next to fast-check's seed and path, so a failing run can be replayed with
// fc.assert(..., { seed, path }).
import fc from 'fast-check';

fc.configureGlobal({ ...fc.readConfigureGlobal(), includeErrorInReport: true });
