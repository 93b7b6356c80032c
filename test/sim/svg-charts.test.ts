// The SVG writer behind `vws sim --plot` and the HPDC'08 chart: every chart parses as XML (the
// repository's own strict parser, which refuses unbalanced or mismatched tags), text is escaped,
// the same figures give the same bytes, and the axes read in units.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hpdc08Chart } from '../../bench/hpdc08-chart.ts';
import { configWith } from '../../src/core/config.ts';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { scaleFor, valueText } from '../../src/sim/plots/axis-scale.ts';
import { barChart } from '../../src/sim/plots/bar-chart.ts';
import { lineChart } from '../../src/sim/plots/line-chart.ts';
import { simCharts } from '../../src/sim/plots/sim-charts.ts';
import { parseXml, type XmlElement } from '../../src/sim/readers/xml.ts';
import { simulate } from '../../src/sim/simulator.ts';

function all(e: XmlElement): XmlElement[] {
  return [e, ...e.children.flatMap(all)];
}

/** Parses the chart and checks what every chart must have: an accessible name and description, and figures rounded to a tenth. */
function parsedChart(svg: string): XmlElement {
  const root = parseXml(svg, 'chart.svg');
  assert.equal(root.name, 'svg');
  assert.equal(root.attributes.get('role'), 'img');
  assert.equal(root.children[0].name, 'title');
  assert.equal(root.attributes.get('aria-label'), root.children[0].text);
  assert.equal(root.children[1].name, 'desc');
  assert.ok(root.children[1].text.length > 20, 'a description in words');
  assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
  for (const e of all(root)) {
    for (const name of ['x', 'y', 'width', 'height']) {
      const v = e.attributes.get(name);
      if (v !== undefined) assert.match(v, /^-?\d+(\.\d)?$/, `<${e.name} ${name}="${v}">`);
    }
  }
  return root;
}

test('axis scales: durations in the unit that suits them, fractions as percentages, counts whole', () => {
  const month = scaleFor('seconds', 0, 31 * 86_400, 8, true);
  assert.deepEqual(month.ticks.map(month.format), ['0 d', '5 d', '10 d', '15 d', '20 d', '25 d', '30 d']);
  assert.equal(month.max, 31 * 86_400, 'a time axis ends where the run does');
  const hours = scaleFor('seconds', 0, 45 * 3600);
  assert.deepEqual(hours.ticks.map(hours.format), ['0 h', '10 h', '20 h', '30 h', '40 h', '50 h']);
  const share = scaleFor('fraction', 0, 1);
  assert.deepEqual(share.ticks.map(share.format), ['0%', '20%', '40%', '60%', '80%', '100%']);
  const growth = scaleFor('fraction', -0.0076, 0.2387);
  assert.deepEqual(growth.ticks.map(growth.format), ['\u22125%', '0%', '5%', '10%', '15%', '20%', '25%']);
  const queue = scaleFor('count', 0, 3);
  assert.deepEqual(queue.ticks, [0, 1, 2, 3]);
  assert.equal(valueText('seconds', 10_800), '3 h');
  assert.equal(valueText('seconds', 13_490), '3.7 h');
  assert.equal(valueText('fraction', 0.8734), '87.3%');
});

test('text is escaped in elements and attributes, and characters XML does not allow are dropped', () => {
  const title = 'Runs <of> "A & B\'s" pool\u0001';
  const svg = lineChart({
    title, description: 'a <b>bold</b> & plain description', xLabel: 'time & <space>', yLabel: 'share', yKind: 'fraction', yRange: [0, 1],
    series: [{ name: '<one>', steps: [{ from: 0, to: 50, value: 0.5 }] }, { name: '"two"', steps: [{ from: 0, to: 50, value: 0.25 }] }],
  });
  const root = parsedChart(svg);
  assert.equal(root.children[0].text, 'Runs <of> "A & B\'s" pool');
  assert.equal(root.attributes.get('aria-label'), 'Runs <of> "A & B\'s" pool');
  assert.equal(root.children[1].text, 'a <b>bold</b> & plain description');
  const texts = all(root).filter((e) => e.name === 'text').map((e) => e.text);
  assert.ok(texts.includes('time & <space>') && texts.includes('<one>') && texts.includes('"two"'), texts.join(' | '));
  assert.ok(!svg.includes('<of>') && !svg.includes('<one>') && !svg.includes('\u0001'));
});

test('a bar chart: one bar per figure given, growing from zero either way, each with its value; sections named once', () => {
  const svg = barChart({
    title: 'growth', description: 'measured against published growth', xLabel: 'load', yLabel: 'growth', yKind: 'fraction', series: ['ours', 'published'],
    groups: [
      { label: '10%', section: 'NOVM-SR', values: [-0.0042, -0.0076] },
      { label: '20%', section: 'NOVM-SR', values: [0.0047, 0.001] },
      { label: '10%', section: 'VM-MULT', values: [null, 0.006] },
    ],
  });
  const root = parsedChart(svg);
  const rects = all(root).filter((e) => e.name === 'rect' && e.children.length > 0);
  assert.equal(rects.length, 5, 'no bar where a figure is missing');
  assert.deepEqual(rects.map((r) => r.children[0].text), [
    'NOVM-SR 10%, ours: \u22120.4%', 'NOVM-SR 10%, published: \u22120.8%', 'NOVM-SR 20%, ours: 0.5%', 'NOVM-SR 20%, published: 0.1%', 'VM-MULT 10%, published: 0.6%',
  ]);
  // The negative bars hang from the zero line where the positive ones stand on it.
  const [down, , up] = rects.map((r) => ({ top: Number(r.attributes.get('y')), bottom: Number(r.attributes.get('y')) + Number(r.attributes.get('height')) }));
  assert.ok(Math.abs(down.top - up.bottom) <= 0.1, `${JSON.stringify(down)} ${JSON.stringify(up)}`);
  const labels = all(root).filter((e) => e.name === 'text').map((e) => e.text);
  assert.equal(labels.filter((t) => t === 'NOVM-SR').length, 1);
  assert.equal(labels.filter((t) => t === '10%').length, 2);
  assert.ok(root.children.some((e) => e.name === 'g' && e.attributes.get('aria-hidden') === 'true'), 'a legend for two series');
});

const perNode = { cpu: 1, memoryMiB: 100, diskMiB: 0 };
const pool: NodeSpec[] = Array.from({ length: 4 }, (_, i) => ({ id: `n${i + 1}`, ...perNode }));
const workload: LeaseRequest[] = Array.from({ length: 40 }, (_, i) => ({
  id: `L${i + 1}`, kind: 'best-effort', arrival: i * 600, requestedStart: null, duration: 1800 + (i % 7) * 900, nodes: 1 + (i % 4), perNode, preemptible: false,
}));

function chartsOf(requests: readonly LeaseRequest[]) {
  const leases = simulate({ requests, nodes: pool, config: configWith({}) }).allLeases();
  return simCharts({ leases, poolLeases: leases, poolCpu: 4, byListOrder: false });
}

test('the charts of a run are the same bytes each time, parse, and hold the figures they describe', () => {
  const first = chartsOf(workload);
  assert.deepEqual(chartsOf(workload), first);
  assert.deepEqual(first.map((c) => c.file), ['utilization.svg', 'queue.svg', 'waits-by-size.svg']);
  for (const c of first) parsedChart(c.svg);
  const [utilization, queue, waits] = first.map((c) => parseXml(c.svg, c.file));
  assert.match(utilization.children[1].text, /^The share of the pool's 4 CPUs held by leases' runs, as the mean over each 10 min of 34\.2 h: runs \d+(\.\d)?% over the whole run\.$/);
  assert.equal(all(utilization).filter((e) => e.name === 'path' && e.attributes.get('fill') === 'none').length, 1, 'no overheads here: one line, no legend');
  assert.equal(all(queue).filter((e) => e.name === 'path' && e.attributes.get('fill') === 'none').length, 2, 'the mean and the most at once');
  assert.deepEqual(all(waits).filter((e) => e.name === 'text' && /^\(\d+\)$/.test(e.text)).map((e) => e.text), ['(9)', '(19)', '(10)'], '38 of 40 leases measured: the first two by arrival (5%) left out, of 1 and 2 nodes');
});

test('a run with no leases still draws three charts that parse', () => {
  for (const c of chartsOf([])) parsedChart(c.svg);
});

test('the HPDC\'08 chart in the docs is the one drawn from the committed results: 18 groups of ours beside the published', () => {
  const results = JSON.parse(readFileSync(new URL('../../bench/results/hpdc08.json', import.meta.url), 'utf8'));
  const svg = hpdc08Chart(results.rows);
  assert.equal(readFileSync(new URL('../../docs/hpdc08-chart.svg', import.meta.url), 'utf8'), svg, 'npm run repro:hpdc08 writes both');
  const bars = all(parsedChart(svg)).filter((e) => e.name === 'rect' && e.children.length > 0).map((e) => e.children[0].text);
  assert.equal(bars.length, 36);
  assert.equal(bars[0], 'NOVM-NOSR 10%, vws, B = 100 MB/s: 3.8%');
  assert.equal(bars[35], 'VM-REUSE-SKEWED 30%, published: 10.4%');
});
