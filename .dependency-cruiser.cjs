// The import rules of src/ (DESIGN.md, "Architecture" and "Layout"), checked by
// test/architecture.test.ts and by `npx depcruise src`. Paths are relative to the directory cruised
// from, so the test can run the same rules on a fixture tree.
//
// The layers, bottom up: a folder may import its own layer's files and lower layers, never a
// higher one. Folders that share a layer do not import each other, except the node agent, which
// speaks the protocol its driver defines (agent -> drivers; never drivers -> agent).
const LAYERS = [
  ['core'], // pure: lease model, slot table, scheduler, policies
  ['sim', 'store', 'seed'], // trace readers and the simulator loop; the stores; guests' NoCloud seeds (pure)
  ['drivers', 'agent'], // where VMs run (interface, registry, simulated/, qemu/); the node agent
  ['control'], // the service's brain: applies plans through drivers, reconciles
  ['broker'], // contextualization of clusters: takes the service's clock and refusals, is told of deployments, never called by control
  ['api', 'ec2'], // REST, events, auth; the EC2-compatible Query API (src/ec2) beside it
  ['cli'], // the vws command
];
const SAME_LAYER_ALLOWED = [['agent', 'drivers']];

const layerOf = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i])));
const order = LAYERS.map((l) => l.join(',')).join(' < ');
const folders = [...layerOf.keys()];

const upward = folders.flatMap((from) => {
  const higher = folders.filter((to) => layerOf.get(to) > layerOf.get(from));
  const sideways = folders.filter((to) => to !== from && layerOf.get(to) === layerOf.get(from)
    && !SAME_LAYER_ALLOWED.some(([a, b]) => a === from && b === to));
  return [
    ...(higher.length === 0 ? [] : [{
      name: `layer-${from}`,
      comment: `src/${from} is below ${higher.map((f) => `src/${f}`).join(', ')} (layers: ${order}): a lower layer never imports a higher one`,
      severity: 'error',
      from: { path: `^src/${from}/` },
      to: { path: `^src/(${higher.join('|')})/` },
    }]),
    ...(sideways.length === 0 ? [] : [{
      name: `beside-${from}`,
      comment: `src/${from} and ${sideways.map((f) => `src/${f}`).join(', ')} share a layer (layers: ${order}) and do not import each other`,
      severity: 'error',
      from: { path: `^src/${from}/` },
      to: { path: `^src/(${sideways.join('|')})/` },
    }]),
  ];
});

module.exports = {
  forbidden: [
    {
      name: 'core-no-io',
      comment: 'src/core is pure and deterministic: it imports no node: module (fs, net, timers, crypto, ...) and no package that could do I/O',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'core-only-core',
      comment: 'src/core imports only src/core: every other folder is above it',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    ...upward,
    {
      name: 'driver-plugins-apart',
      comment: 'a driver folder (src/drivers/NAME/) imports the driver interface, not another driver: adding or removing one touches no other',
      severity: 'error',
      from: { path: '^src/drivers/([^/]+)/' },
      to: { path: '^src/drivers/[^/]+/', pathNot: '^src/drivers/$1/' },
    },
    {
      name: 'no-circular',
      comment: 'no import circle: a module never reaches itself through its imports (type-only imports count)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to no file',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    // Type-only imports are dependencies too: a circle through types is still a circle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
