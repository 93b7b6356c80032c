// bench/sim-case.ts
import { parseArgs } from "node:util";

// src/sim/experiment.ts
import { setFlagsFromString } from "node:v8";

// src/sim/image-assignment.ts
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = a + 1831565813 >>> 0;
    let t = a;
    t = Math.imul(t ^ t >>> 15, t | 1);
    t ^= t + Math.imul(t ^ t >>> 7, t | 61);
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}
function imageWeights(choice, count) {
  if (choice === "single") return [1];
  if (choice === "uniform") return Array.from({ length: count }, () => 1 / count);
  if (choice === "skewed") {
    const popular = Math.min(7, count);
    const rest = count - popular;
    const popularShare = rest === 0 ? 1 / popular : 0.1;
    const restShare = rest === 0 ? 0 : (1 - popular * popularShare) / rest;
    return Array.from({ length: count }, (_, i) => i < popular ? popularShare : restShare);
  }
  return [];
}
function assignImages(leases, a) {
  if (a.choice === "none") return leases.map((l) => "image" in l ? (({ image: _drop, ...rest }) => rest)(l) : l);
  if (!(a.sizeMiB > 0)) throw new RangeError(`image size must be positive, got ${a.sizeMiB}`);
  const weights = imageWeights(a.choice, a.count);
  const cumulative = [];
  weights.reduce((sum, w, i) => cumulative[i] = sum + w, 0);
  const random = seededRandom(a.seed);
  const images = weights.map((_, i) => ({ id: `image-${i + 1}`, sizeMiB: a.sizeMiB }));
  return leases.map((l) => {
    const r = random() * cumulative[cumulative.length - 1];
    let k = cumulative.findIndex((c) => r < c);
    if (k < 0) k = cumulative.length - 1;
    return { ...l, image: images[k] };
  });
}

// src/sim/metrics.ts
var RAMP_UP_FRACTION = 0.05;
var SLOWDOWN_BOUND = 10;
function computeMetrics(leases, nodes2, wallSeconds) {
  let completed = 0;
  let rejected = 0;
  let allBestEffort = 0;
  let suspensions = 0;
  let migrations = 0;
  let preemptions = 0;
  let runCpuSeconds = 0;
  let lastEnd = 0;
  const bestEffort = [];
  let counted = 0;
  for (const l of leases) {
    if (l.state === "expanded") continue;
    counted++;
    if (l.state === "completed") completed++;
    if (l.state === "rejected") rejected++;
    suspensions += l.suspensions;
    migrations += l.migrations;
    preemptions += l.preemptions;
    for (const s of l.history) {
      lastEnd = Math.max(lastEnd, s.end);
      if (s.kind === "run") runCpuSeconds += (s.end - s.start) * s.nodes.length * s.cpu;
    }
    if (l.req.kind === "best-effort" && l.state === "completed") {
      bestEffort.push(l);
      allBestEffort = Math.max(allBestEffort, l.endedAt);
    }
  }
  bestEffort.sort((a, b) => a.req.arrival - b.req.arrival || a.seq - b.seq);
  const measured = bestEffort.slice(Math.floor(bestEffort.length * RAMP_UP_FRACTION));
  let waitSum = 0;
  let slowdownSum = 0;
  for (const l of measured) {
    waitSum += l.firstStart - l.req.arrival;
    const dedicated = Math.min(l.req.realDuration ?? l.req.duration, l.req.duration);
    slowdownSum += (l.endedAt - l.req.arrival) / Math.max(dedicated, SLOWDOWN_BOUND);
  }
  const poolCpu = nodes2.reduce((a, n) => a + n.cpu, 0);
  return {
    leases: counted,
    completed,
    rejected,
    allBestEffort,
    meanWait: measured.length ? waitSum / measured.length : 0,
    meanBoundedSlowdown: measured.length ? slowdownSum / measured.length : 0,
    utilization: lastEnd > 0 ? runCpuSeconds / (poolCpu * lastEnd) : 0,
    suspensions,
    migrations,
    preemptions,
    wallSeconds
  };
}

// src/sim/pool.ts
var STUDY_POOL = { nodes: 144, cpu: 1, memoryMiB: 1024, diskMiB: 4e4 };
function uniformPool(shape) {
  if (!Number.isInteger(shape.nodes) || shape.nodes < 1) throw new RangeError(`--nodes must be a positive integer, got ${shape.nodes}`);
  if (!(shape.cpu > 0)) throw new RangeError(`--node-cpu must be positive, got ${shape.cpu}`);
  if (!(shape.memoryMiB > 0)) throw new RangeError(`--node-memory must be positive, got ${shape.memoryMiB}`);
  return Array.from({ length: shape.nodes }, (_, i) => ({ id: `n${i + 1}`, cpu: shape.cpu, memoryMiB: shape.memoryMiB, diskMiB: shape.diskMiB }));
}

// src/sim/readers/errors.ts
var TraceError = class extends Error {
  file;
  /** 1-based; null when the problem is the file as a whole. */
  line;
  constructor(file, line, problem, remedy) {
    super(`${line === null ? file : `${file}:${line}`}: ${problem}; ${remedy}`);
    this.name = "TraceError";
    this.file = file;
    this.line = line;
  }
};

// src/sim/readers/injected-ars.ts
var FIELD_NAMES = [
  "arrival",
  "start",
  "duration",
  "realduration",
  "numnodes",
  "cpu",
  "mem",
  "disk",
  "image",
  "imagesize"
];
var FORMAT_HINT = `each line is: ${FIELD_NAMES.join(" ")}`;
var WHOLE_NUMBER = /^[+-]?\d+$/;
var DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;
function splitFields(line) {
  const fields = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i])) {
      i++;
      continue;
    }
    const start = i;
    if (line[i] === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) return null;
      i = close + 1;
    }
    while (i < line.length && !/\s/.test(line[i])) i++;
    fields.push(line.slice(start, i));
  }
  return fields;
}
function unquote(field) {
  return field.length >= 2 && field.startsWith("'") && field.endsWith("'") ? field.slice(1, -1) : field;
}
function parseArLine(line, file, lineNumber, opts) {
  const error = (problem, remedy = "fix the line") => new TraceError(file, lineNumber, problem, remedy);
  const fields = splitFields(line);
  if (fields === null) throw error("the image name opens a quote that is never closed", "close the quote");
  if (fields.length !== FIELD_NAMES.length) {
    throw error(
      `expected ${FIELD_NAMES.length} whitespace-separated AR fields, found ${fields.length}`,
      `${FORMAT_HINT}; fix or delete the line`
    );
  }
  const wholeNumber = (position) => {
    if (!WHOLE_NUMBER.test(fields[position])) {
      throw error(
        `${FIELD_NAMES[position]} must be a whole number, found "${fields[position]}"`,
        `${FORMAT_HINT}; fix the line`
      );
    }
    return Number(fields[position]);
  };
  const arrival = wholeNumber(0);
  const start = wholeNumber(1);
  const duration = wholeNumber(2);
  const realDuration = wholeNumber(3);
  const nodes2 = wholeNumber(4);
  const memoryMiB = wholeNumber(6);
  const diskMiB = wholeNumber(7);
  const imageSizeMiB = wholeNumber(9);
  if (!DECIMAL_NUMBER.test(fields[5])) {
    throw error(`cpu must be a number, found "${fields[5]}"`, `${FORMAT_HINT}; fix the line`);
  }
  const cpu = Number(fields[5]);
  const image = unquote(fields[8]);
  if (arrival < 0) {
    throw error(`arrival is negative (${arrival})`, "times count seconds from the trace start; fix the line");
  }
  if (start < arrival && !opts.allowStartBeforeArrival) {
    throw error(
      `start ${start} is before arrival ${arrival}`,
      "an AR cannot be requested after it starts; fix the line, or read with allowStartBeforeArrival to keep it"
    );
  }
  if (duration <= 0) throw error(`duration must be positive, found ${duration}`);
  if (realDuration <= 0) throw error(`realduration must be positive, found ${realDuration}`);
  if (nodes2 < 1) throw error(`numnodes must be at least 1, found ${nodes2}`);
  if (cpu <= 0) throw error(`cpu must be positive, found ${fields[5]}`);
  if (memoryMiB < 0 || diskMiB < 0 || imageSizeMiB < 0) throw error("mem, disk and imagesize cannot be negative");
  if (image === "") throw error("the image name is empty", "name the image, e.g. 'NONE.img'");
  return {
    id: `ar-${lineNumber}`,
    kind: "exact",
    arrival,
    requestedStart: start,
    duration,
    realDuration,
    nodes: nodes2,
    perNode: { cpu, memoryMiB, diskMiB },
    image: { id: image, sizeMiB: imageSizeMiB },
    preemptible: false
  };
}
function parseInjectedArs(text, file, opts = {}) {
  const leases = [];
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    if (lines[index].trim() !== "") leases.push(parseArLine(lines[index], file, index + 1, opts));
  }
  return leases.sort((a, b) => a.arrival - b.arrival);
}

// src/sim/readers/lwf-time.ts
var LWF_TIME = /^(?:(\d+):)?(\d+):(\d+):(\d+(?:\.\d*)?)$/;
function parseLwfTime(value) {
  const match = LWF_TIME.exec(value.trim());
  if (!match) return null;
  const [, days = "0", hours, minutes, seconds2] = match;
  if (Number(minutes) >= 60 || Number(seconds2) >= 60) return null;
  return Math.round(((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds2));
}

// src/sim/readers/xml.ts
var NAME = /[A-Za-z_:\u00C0-\uFFFF][-A-Za-z0-9_:.\u00B7\u00C0-\uFFFF]*/y;
var ENTITY = /&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+);/y;
var NAMED_ENTITIES = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
var Cursor = class {
  constructor(text, file) {
    this.text = text;
    this.file = file;
  }
  text;
  file;
  pos = 0;
  line = 1;
  moveTo(target) {
    for (let i = this.pos; i < target; i++) if (this.text.charCodeAt(i) === 10) this.line++;
    this.pos = target;
  }
  skipBlanks() {
    let i = this.pos;
    while (i < this.text.length && /\s/.test(this.text[i])) i++;
    this.moveTo(i);
  }
  readName() {
    NAME.lastIndex = this.pos;
    const match = NAME.exec(this.text);
    if (!match) return null;
    this.moveTo(NAME.lastIndex);
    return match[0];
  }
  error(problem, remedy, line = this.line) {
    return new TraceError(this.file, line, problem, remedy);
  }
};
function lineWithin(raw, index, firstLine) {
  let line = firstLine;
  for (let i = 0; i < index; i++) if (raw.charCodeAt(i) === 10) line++;
  return line;
}
function decodeEntities(raw, firstLine, cursor) {
  if (!raw.includes("&")) return raw;
  let decoded = "";
  let from = 0;
  for (let amp = raw.indexOf("&"); amp >= 0; amp = raw.indexOf("&", from)) {
    decoded += raw.slice(from, amp);
    ENTITY.lastIndex = amp;
    const match = ENTITY.exec(raw);
    const body = match?.[1];
    let character;
    if (body?.startsWith("#x")) character = String.fromCodePoint(parseInt(body.slice(2), 16));
    else if (body?.startsWith("#")) character = String.fromCodePoint(parseInt(body.slice(1), 10));
    else if (body !== void 0) character = NAMED_ENTITIES[body];
    if (character === void 0) {
      const shown = match ? match[0] : raw.slice(amp, amp + 12).split(/\s/)[0];
      throw cursor.error(`unknown entity "${shown}"`, "write &amp; for a literal &", lineWithin(raw, amp, firstLine));
    }
    decoded += character;
    from = ENTITY.lastIndex;
  }
  return decoded + raw.slice(from);
}
function readAttributes(cursor, element) {
  const { text } = cursor;
  for (; ; ) {
    cursor.skipBlanks();
    if (cursor.pos >= text.length) {
      throw cursor.error(`tag <${element.name}> is never closed by '>'`, `end the tag with '>' or '/>'`, element.line);
    }
    if (text[cursor.pos] === ">") {
      cursor.moveTo(cursor.pos + 1);
      return false;
    }
    if (text.startsWith("/>", cursor.pos)) {
      cursor.moveTo(cursor.pos + 2);
      return true;
    }
    const name2 = cursor.readName();
    if (name2 === null) {
      throw cursor.error(
        `unexpected "${text[cursor.pos]}" in tag <${element.name}>`,
        `write attributes as name="value" and end the tag with '>' or '/>'`
      );
    }
    cursor.skipBlanks();
    if (text[cursor.pos] !== "=") {
      throw cursor.error(`attribute ${name2} of <${element.name}> has no value`, `write ${name2}="value"`);
    }
    cursor.moveTo(cursor.pos + 1);
    cursor.skipBlanks();
    const quote = text[cursor.pos];
    if (quote !== '"' && quote !== "'") {
      throw cursor.error(`the value of attribute ${name2} of <${element.name}> is not quoted`, `write ${name2}="value"`);
    }
    const close = text.indexOf(quote, cursor.pos + 1);
    if (close < 0) {
      throw cursor.error(
        `the value of attribute ${name2} of <${element.name}> is never closed by ${quote}`,
        `add the closing ${quote}`
      );
    }
    const raw = text.slice(cursor.pos + 1, close);
    if (raw.includes("<")) {
      throw cursor.error(
        `the value of attribute ${name2} of <${element.name}> contains '<'`,
        "write &lt; for a literal <, or add the missing closing quote"
      );
    }
    if (element.attributes.has(name2)) {
      throw cursor.error(`attribute ${name2} appears twice in <${element.name}>`, "keep only one");
    }
    const valueLine = cursor.line;
    cursor.moveTo(close + 1);
    element.attributes.set(name2, decodeEntities(raw, valueLine, cursor).replace(/[\t\r\n]/g, " "));
  }
}
function parseXml(text, file) {
  const cursor = new Cursor(text, file);
  const open = [];
  let root = null;
  const addText = (raw, line) => {
    const parent = open[open.length - 1];
    if (parent) {
      parent.text += raw;
      return;
    }
    const firstVisible = raw.search(/\S/);
    if (firstVisible >= 0) {
      throw cursor.error(
        "text outside the root element",
        "remove it or move it inside the root element",
        lineWithin(raw, firstVisible, line)
      );
    }
  };
  while (cursor.pos < text.length) {
    const lt = text.indexOf("<", cursor.pos);
    const textEnd = lt < 0 ? text.length : lt;
    if (textEnd > cursor.pos) {
      const line2 = cursor.line;
      const raw = text.slice(cursor.pos, textEnd);
      cursor.moveTo(textEnd);
      addText(decodeEntities(raw, line2, cursor), line2);
    }
    if (lt < 0) break;
    const line = cursor.line;
    if (text.startsWith("<!--", lt)) {
      const close = text.indexOf("-->", lt + 4);
      if (close < 0) throw cursor.error("comment is never closed", "end it with -->");
      cursor.moveTo(close + 3);
    } else if (text.startsWith("<?", lt)) {
      const close = text.indexOf("?>", lt + 2);
      if (close < 0) throw cursor.error("declaration <? is never closed", "end it with ?>");
      cursor.moveTo(close + 2);
    } else if (text.startsWith("<![CDATA[", lt)) {
      const close = text.indexOf("]]>", lt + 9);
      if (close < 0) throw cursor.error("CDATA section is never closed", "end it with ]]>");
      addText(text.slice(lt + 9, close), line);
      cursor.moveTo(close + 3);
    } else if (text.startsWith("<!", lt)) {
      throw cursor.error("DOCTYPE and other <! declarations are not supported", "remove the declaration");
    } else if (text.startsWith("</", lt)) {
      cursor.moveTo(lt + 2);
      const name2 = cursor.readName();
      cursor.skipBlanks();
      if (name2 === null || text[cursor.pos] !== ">") {
        throw cursor.error("malformed closing tag", "write it as </name>", line);
      }
      cursor.moveTo(cursor.pos + 1);
      const element = open.pop();
      if (!element) throw cursor.error(`closing tag </${name2}> has no opening tag`, "remove it", line);
      if (element.name !== name2) {
        throw cursor.error(
          `closing tag </${name2}> does not match <${element.name}> opened at line ${element.line}`,
          `close <${element.name}> with </${element.name}> first`,
          line
        );
      }
    } else {
      cursor.moveTo(lt + 1);
      const name2 = cursor.readName();
      if (name2 === null) throw cursor.error(`'<' is not followed by a tag name`, "write &lt; for a literal <", line);
      const element = { name: name2, attributes: /* @__PURE__ */ new Map(), children: [], text: "", line };
      const parent = open[open.length - 1];
      if (parent) parent.children.push(element);
      else if (root) {
        throw cursor.error(
          `second root element <${name2}> (the first is <${root.name}> at line ${root.line})`,
          "an XML document has exactly one root element",
          line
        );
      } else root = element;
      const selfClosing = readAttributes(cursor, element);
      if (!selfClosing) open.push(element);
    }
  }
  const unclosed = open[open.length - 1];
  if (unclosed) {
    throw cursor.error(`<${unclosed.name}> is never closed`, `add </${unclosed.name}>`, unclosed.line);
  }
  if (!root) throw new TraceError(file, null, "no XML element found", "is this the right file?");
  return root;
}

// src/sim/readers/lwf-xml.ts
var START_TERMS = 'use <start/>, or in <start> one of <exact time="..."/>, <now/>, <urgent/>, <periodic time="..." period="..." count="..."/>';
var TIME_FORMAT = "write times as [DD:]HH:MM:SS[.ss] from the workload start";
var LwfReader = class {
  constructor(file, opts) {
    this.file = file;
    this.opts = opts;
  }
  file;
  opts;
  error(element, problem, remedy) {
    return new TraceError(this.file, element.line, problem, remedy);
  }
  // The vocabulary inside these elements is closed: a misspelt element would
  // otherwise be dropped without a word.
  onlyChildren(element, allowed) {
    for (const child of element.children) {
      if (!allowed.includes(child.name)) {
        throw this.error(
          child,
          `unexpected <${child.name}> inside <${element.name}>`,
          `expected only ${allowed.map((name2) => `<${name2}>`).join(", ")}`
        );
      }
    }
  }
  child(element, name2, required) {
    const found = element.children.filter((child) => child.name === name2);
    if (found.length > 1) throw this.error(found[1], `more than one <${name2}> inside <${element.name}>`, "keep one");
    if (required && found.length === 0) {
      throw this.error(element, `<${element.name}> has no <${name2}>`, `add a <${name2}> element`);
    }
    return found[0];
  }
  attribute(element, name2) {
    const value = element.attributes.get(name2);
    if (value === void 0) {
      throw this.error(element, `<${element.name}> lacks the required attribute ${name2}`, `add ${name2}="..."`);
    }
    return value;
  }
  time(element, name2) {
    const value = this.attribute(element, name2);
    const seconds2 = parseLwfTime(value);
    if (seconds2 === null) {
      throw this.error(element, `malformed time ${name2}="${value}" in <${element.name}>`, TIME_FORMAT);
    }
    return seconds2;
  }
  wholeNumber(element, name2, least) {
    const value = this.attribute(element, name2);
    const number = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!(number >= least)) {
      throw this.error(
        element,
        `${name2}="${value}" in <${element.name}> is not a whole number >= ${least}`,
        "fix the attribute"
      );
    }
    return number;
  }
  nodeSet(nodeSet) {
    this.onlyChildren(nodeSet, ["res"]);
    const count = this.wholeNumber(nodeSet, "numnodes", 1);
    const amounts = /* @__PURE__ */ new Map();
    for (const res of nodeSet.children) {
      const type = this.attribute(res, "type");
      if (res.children.length > 0) {
        throw this.error(res, `<res type="${type}"> has per-instance amounts`, 'give a single amount="..." instead');
      }
      if (amounts.has(type)) throw this.error(res, `resource ${type} appears twice in one <node-set>`, "keep one");
      amounts.set(type, this.wholeNumber(res, "amount", 0));
    }
    for (const type of ["CPU", "Memory"]) {
      if (!amounts.has(type)) {
        throw this.error(nodeSet, `<node-set> has no <res type="${type}">`, `add <res type="${type}" amount="..."/>`);
      }
    }
    return {
      count,
      perNode: { cpu: amounts.get("CPU") / 100, memoryMiB: amounts.get("Memory"), diskMiB: amounts.get("Disk") ?? 0 }
    };
  }
  nodes(nodes2) {
    this.onlyChildren(nodes2, ["node-set"]);
    if (nodes2.children.length === 0) {
      throw this.error(nodes2, "<nodes> has no <node-set>", 'add <node-set numnodes="...">');
    }
    const sets = nodes2.children.map((nodeSet) => this.nodeSet(nodeSet));
    const [first] = sets;
    const sameResources = (r) => r.cpu === first.perNode.cpu && r.memoryMiB === first.perNode.memoryMiB && r.diskMiB === first.perNode.diskMiB;
    if (!sets.every((set) => sameResources(set.perNode))) {
      throw this.error(
        nodes2,
        "node sets with different resources in one lease are not supported",
        "split the lease, or give every <node-set> the same resources"
      );
    }
    return { count: sets.reduce((sum, set) => sum + set.count, 0), perNode: first.perNode };
  }
  start(start) {
    if (/\S/.test(start.text)) throw this.error(start, `unknown start term "${start.text.trim()}"`, START_TERMS);
    if (start.children.length === 0) return { kind: "best-effort", requestedStart: null };
    const [term, extra] = start.children;
    if (extra) throw this.error(extra, "more than one start term in <start>", START_TERMS);
    if (term.name === "exact") return { kind: "exact", requestedStart: this.time(term, "time") };
    if (term.name === "now") return { kind: "immediate", requestedStart: null };
    if (term.name === "urgent") return { kind: "urgent", requestedStart: null };
    if (term.name === "periodic") return { kind: "periodic", requestedStart: this.time(term, "time"), recurrence: this.recurrence(term) };
    throw this.error(term, `unknown start term <${term.name}>`, START_TERMS);
  }
  recurrence(term) {
    const period = this.time(term, "period");
    if (period <= 0) throw this.error(term, 'period="..." in <periodic> must be longer than 0 s', "fix the period");
    const hasCount = term.attributes.has("count");
    if (hasCount === term.attributes.has("until")) {
      throw this.error(term, '<periodic> needs exactly one of count="N" or until="TIME"', "say how many occurrences, or until when");
    }
    const recurrence = hasCount ? { period, count: this.wholeNumber(term, "count", 1) } : { period, until: this.time(term, "until") };
    const partial = term.attributes.get("partial");
    if (partial !== void 0) {
      if (partial !== "true" && partial !== "false") throw this.error(term, `partial="${partial}" is neither true nor false`, 'write partial="true" or "false"');
      recurrence.acceptPartial = partial === "true";
    }
    return recurrence;
  }
  software(software) {
    this.onlyChildren(software, ["disk-image", "none"]);
    const [choice, extra] = software.children;
    if (!choice || extra) {
      throw this.error(software, "<software> must hold exactly one of <disk-image> or <none/>", "fix <software>");
    }
    if (choice.name === "none") return void 0;
    const id = this.attribute(choice, "id");
    if (id.trim() === "") throw this.error(choice, "<disk-image> has an empty id", "name the image");
    return { id, sizeMiB: this.wholeNumber(choice, "size", 0) };
  }
  positiveTime(element) {
    const seconds2 = this.time(element, "time");
    if (seconds2 <= 0) throw this.error(element, `<${element.name}> must be longer than 0 s`, "fix the time");
    return seconds2;
  }
  leaseRequest(request, ordinal) {
    this.onlyChildren(request, ["lease", "realduration"]);
    const arrival = this.time(request, "arrival");
    const lease = this.child(request, "lease", true);
    this.onlyChildren(lease, ["nodes", "start", "duration", "realduration", "software", "deadline", "extra"]);
    const preemptibleText = this.attribute(lease, "preemptible").trim().toLowerCase();
    if (preemptibleText !== "true" && preemptibleText !== "false") {
      throw this.error(
        lease,
        `preemptible="${preemptibleText}" is neither true nor false`,
        'write preemptible="true" or "false"'
      );
    }
    const deadlineElement = this.child(lease, "deadline", false);
    const { count, perNode } = this.nodes(this.child(lease, "nodes", true));
    const start = this.child(lease, "start", true);
    const term = this.start(start);
    let { kind } = term;
    const { requestedStart, recurrence } = term;
    let deadline;
    if (deadlineElement) {
      if (kind !== "best-effort" && kind !== "exact") {
        throw this.error(
          deadlineElement,
          `a <deadline> lease cannot have the start term <${start.children[0].name}>`,
          'give <start/> (from arrival) or <start><exact time="..."/></start> (the earliest start)'
        );
      }
      kind = "deadline";
      deadline = this.time(deadlineElement, "time");
    }
    if (requestedStart !== null && requestedStart < arrival && !this.opts.allowStartBeforeArrival) {
      throw this.error(
        start,
        `exact start ${requestedStart} s is before arrival ${arrival} s`,
        "a lease cannot be requested after it starts; fix the times, or read with allowStartBeforeArrival to keep it"
      );
    }
    const duration = this.positiveTime(this.child(lease, "duration", true));
    const outer = this.child(request, "realduration", false);
    const inner = this.child(lease, "realduration", false);
    if (outer && inner) throw this.error(inner, "<realduration> given both inside and beside <lease>", "keep one");
    const realDurationElement = outer ?? inner;
    const software = this.child(lease, "software", false);
    const image = software ? this.software(software) : void 0;
    const leaseRequest = {
      id: lease.attributes.get("id")?.trim() || `lwf-${ordinal}`,
      kind,
      arrival,
      requestedStart,
      duration,
      nodes: count,
      perNode,
      preemptible: preemptibleText === "true"
    };
    if (deadline !== void 0) {
      if (deadline <= (requestedStart ?? arrival)) {
        throw this.error(deadlineElement, `deadline ${deadline} s is not after the earliest start ${requestedStart ?? arrival} s`, "fix the times");
      }
      leaseRequest.deadline = deadline;
    }
    if (recurrence) leaseRequest.recurrence = recurrence;
    if (realDurationElement) leaseRequest.realDuration = this.positiveTime(realDurationElement);
    if (image) leaseRequest.image = image;
    return leaseRequest;
  }
};
function parseLwfXml(text, file, opts = {}) {
  const root = parseXml(text, file);
  const reader = new LwfReader(file, opts);
  if (root.name !== "lease-workload") {
    throw reader.error(root, `the root element is <${root.name}>, not <lease-workload>`, "is this a Haizea LWF file?");
  }
  const requests2 = reader.child(root, "lease-requests", true);
  reader.onlyChildren(requests2, ["lease-request"]);
  const leases = [];
  const lineOfId = /* @__PURE__ */ new Map();
  requests2.children.forEach((request, index) => {
    const lease = reader.leaseRequest(request, index + 1);
    const earlier = lineOfId.get(lease.id);
    if (earlier !== void 0) {
      throw reader.error(
        request,
        `lease id "${lease.id}" is already used at line ${earlier}`,
        "give each lease its own id"
      );
    }
    lineOfId.set(lease.id, request.line);
    leases.push(lease);
  });
  return leases.sort((a, b) => a.arrival - b.arrival);
}

// src/sim/readers/swf.ts
var FIELD_COUNT = 18;
var FIELD_NAMES2 = [
  "job number",
  "submit time",
  "wait time",
  "run time",
  "allocated processors",
  "average CPU time",
  "used memory",
  "requested processors",
  "requested time",
  "requested memory",
  "status",
  "user",
  "group",
  "executable",
  "queue",
  "partition",
  "preceding job",
  "think time"
];
var JOB = 0;
var SUBMIT = 1;
var RUN = 3;
var ALLOCATED_PROCS = 4;
var REQUESTED_PROCS = 7;
var REQUESTED_TIME = 8;
var WHOLE_NUMBER_FIELDS = [JOB, SUBMIT, RUN, ALLOCATED_PROCS, REQUESTED_PROCS, REQUESTED_TIME];
var DEFAULT_PER_NODE = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
function isBlank(code) {
  return code === 32 || code === 9 || code === 13 || code === 11 || code === 12;
}
function scanFields(text, start, end, fields) {
  let count = 0;
  let i = start;
  while (i < end) {
    let code = text.charCodeAt(i);
    if (isBlank(code)) {
      i++;
      continue;
    }
    let sign = 1;
    if (code === 45 || code === 43) {
      if (code === 45) sign = -1;
      i++;
    }
    let whole = 0;
    let fraction = 0;
    let fractionScale = 1;
    let digits = 0;
    let seenPoint = false;
    let wellFormed = true;
    for (; i < end; i++) {
      code = text.charCodeAt(i);
      if (code >= 48 && code <= 57) {
        if (seenPoint) {
          fraction = fraction * 10 + (code - 48);
          fractionScale *= 10;
        } else {
          whole = whole * 10 + (code - 48);
        }
        digits++;
      } else if (code === 46 && !seenPoint) {
        seenPoint = true;
      } else if (isBlank(code)) {
        break;
      } else {
        wellFormed = false;
      }
    }
    if (count < fields.length) {
      fields[count] = wellFormed && digits > 0 ? sign * (whole + fraction / fractionScale) : NaN;
    }
    count++;
  }
  return count;
}
function tokensOf(line) {
  return line.trim().split(/\s+/);
}
function checkFields(text, lineStart, lineEnd, count, fields, file, lineNumber) {
  if (count !== FIELD_COUNT) {
    throw new TraceError(
      file,
      lineNumber,
      `expected ${FIELD_COUNT} whitespace-separated SWF fields, found ${count}`,
      "fix or delete the line"
    );
  }
  for (let index = 0; index < FIELD_COUNT; index++) {
    if (Number.isNaN(fields[index])) {
      const token = tokensOf(text.slice(lineStart, lineEnd))[index];
      throw new TraceError(
        file,
        lineNumber,
        `field ${index + 1} (${FIELD_NAMES2[index]}) is not a number: "${token}"`,
        "SWF fields are numbers, -1 when unknown; fix or delete the line"
      );
    }
  }
  for (const index of WHOLE_NUMBER_FIELDS) {
    if (!Number.isInteger(fields[index])) {
      throw new TraceError(
        file,
        lineNumber,
        `field ${index + 1} (${FIELD_NAMES2[index]}) must be a whole number, found ${fields[index]}`,
        "fix or delete the line"
      );
    }
  }
  if (fields[SUBMIT] < 0) {
    throw new TraceError(
      file,
      lineNumber,
      `submit time (field 2) is negative: ${fields[SUBMIT]}`,
      "SWF submit times count seconds from the start of the log; fix or delete the line"
    );
  }
}
function skipBlanks(text, i, end) {
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  return i;
}
function readHeaderLine(text, start, end, header) {
  let i = skipBlanks(text, start + 1, end);
  const key = text.startsWith("MaxNodes", i) ? "maxNodes" : text.startsWith("MaxProcs", i) ? "maxProcs" : null;
  if (key === null) return;
  i = skipBlanks(text, i + "MaxNodes".length, end);
  if (text.charCodeAt(i) !== 58) return;
  i = skipBlanks(text, i + 1, end);
  let value = 0;
  let digits = 0;
  for (; i < end; i++, digits++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) break;
    value = value * 10 + (code - 48);
  }
  if (digits > 0) header[key] = value;
}
function compact(x) {
  return x === (x | 0) ? x | 0 : x;
}
function parseSwf(text, file, opts = {}) {
  const given = opts.perNode ?? DEFAULT_PER_NODE;
  const perNode = Object.freeze({ cpu: given.cpu, memoryMiB: given.memoryMiB, diskMiB: given.diskMiB });
  const leases = [];
  const skipped = { cancelledWhileQueued: 0, noRequestedTime: 0, noProcessors: 0 };
  const header = {};
  const fields = new Float64Array(FIELD_COUNT);
  let inArrivalOrder = true;
  let lastArrival = -Infinity;
  let lineNumber = 0;
  for (let lineStart = 0; lineStart < text.length; ) {
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const contentStart = lineStart;
    lineStart = lineEnd + 1;
    lineNumber++;
    let first = contentStart;
    while (first < lineEnd && isBlank(text.charCodeAt(first))) first++;
    if (first === lineEnd) continue;
    if (text.charCodeAt(first) === 59) {
      readHeaderLine(text, first, lineEnd, header);
      continue;
    }
    const count = scanFields(text, first, lineEnd, fields);
    checkFields(text, first, lineEnd, count, fields, file, lineNumber);
    const runTime = fields[RUN];
    if (runTime < 0) {
      skipped.cancelledWhileQueued++;
      continue;
    }
    const requestedTime = fields[REQUESTED_TIME];
    if (requestedTime <= 0) {
      skipped.noRequestedTime++;
      continue;
    }
    const requestedProcs = fields[REQUESTED_PROCS];
    const allocatedProcs = fields[ALLOCATED_PROCS];
    const nodes2 = requestedProcs > 0 ? requestedProcs : allocatedProcs > 0 ? allocatedProcs : 0;
    if (nodes2 === 0) {
      skipped.noProcessors++;
      continue;
    }
    const arrival = fields[SUBMIT];
    if (arrival < lastArrival) inArrivalOrder = false;
    lastArrival = arrival;
    leases.push({
      id: String(fields[JOB]),
      kind: "best-effort",
      arrival: compact(arrival),
      requestedStart: null,
      duration: compact(requestedTime),
      realDuration: compact(Math.min(Math.max(runTime, 1), requestedTime)),
      nodes: compact(nodes2),
      perNode,
      preemptible: true
    });
  }
  if (!inArrivalOrder) leases.sort((a, b) => a.arrival - b.arrival);
  return { leases, skipped, header };
}

// src/sim/readers/text.ts
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
function startsWithGzipMagic(bytes) {
  return bytes.length >= 2 && bytes[0] === 31 && bytes[1] === 139;
}
var GUNZIP_CHUNK_BYTES = 1024 * 1024;
function readTraceText(path) {
  let bytes;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = err.code;
    if (code === "ENOENT") {
      throw new TraceError(
        path,
        null,
        `trace file not found: ${path}`,
        `check the path (relative paths start from ${process.cwd()})`
      );
    }
    throw new TraceError(
      path,
      null,
      `cannot read the trace file (${code ?? err.message})`,
      "check that the path names a readable file"
    );
  }
  if (startsWithGzipMagic(bytes)) {
    try {
      bytes = gunzipSync(bytes, { chunkSize: GUNZIP_CHUNK_BYTES });
    } catch (err) {
      throw new TraceError(
        path,
        null,
        `starts like gzip data but does not decompress (${err.message})`,
        "replace it with an intact copy"
      );
    }
  }
  const text = bytes.toString("utf8");
  return text.charCodeAt(0) === 65279 ? text.slice(1) : text;
}

// src/sim/readers/index.ts
function readWorkload(path, opts = {}) {
  const text = readTraceText(path);
  if (/\.swf(\.gz)?$/i.test(path)) {
    const { leases, skipped, header } = parseSwf(text, path, opts);
    return { leases, format: "swf", skipped, header };
  }
  const firstVisible = text.search(/\S/);
  if (firstVisible >= 0 && text[firstVisible] === "<") {
    return { leases: parseLwfXml(text, path, opts), format: "lwf-xml" };
  }
  return { leases: parseInjectedArs(text, path, opts), format: "ar-lines" };
}

// src/core/costs.ts
function secondsToMove(sizeMiB, rateMBps) {
  if (sizeMiB <= 0 || rateMBps === Infinity) return 0;
  if (!(rateMBps > 0)) throw new RangeError(`rate must be a positive number of MB/s or Infinity, got ${rateMBps}`);
  return Math.ceil(sizeMiB / rateMBps);
}
function stretchedSeconds(seconds2, overheadPercent) {
  return overheadPercent === 0 ? seconds2 : Math.round(seconds2 * (1 + overheadPercent / 100));
}
function unstretchedSeconds(seconds2, overheadPercent) {
  return overheadPercent === 0 ? seconds2 : Math.round(seconds2 / (1 + overheadPercent / 100));
}

// src/core/lease-record.ts
var NO_ATTEMPTS = Object.freeze([]);
var NO_NODES = Object.freeze([]);
function rareDefaults() {
  return {
    lost: NO_ATTEMPTS,
    suspendedOn: null,
    parked: false,
    lastPlannedStart: null,
    rejectReason: null,
    rejectMessage: null,
    failure: null,
    heldUntil: null,
    occurrenceIds: null,
    suspensions: 0,
    migrations: 0,
    preemptions: 0,
    imageRefs: NO_NODES
  };
}
var RARE_DEFAULTS = Object.freeze(rareDefaults());
var CompactLeaseRecord = class {
  constructor(req, seq, work) {
    this.req = req;
    this.seq = seq;
    this.work = work;
    this.queuedAt = req.arrival;
  }
  req;
  seq;
  work;
  queuedAt;
  state = "queued";
  done = 0;
  chain = [];
  chainEndsIn = "finish";
  history = [];
  inFuture = false;
  firstStart = null;
  endedAt = null;
  /** Not a rare field: most leases of a trace end before their planned work (188,000 of the SDSC log's 232,562), and a side object each would cost 17 times its 8 bytes. */
  realDuration = null;
  rare = null;
  read(key) {
    return this.rare === null ? RARE_DEFAULTS[key] : this.rare[key];
  }
  write(key, value) {
    if (this.rare === null) {
      if (value === RARE_DEFAULTS[key]) return;
      this.rare = rareDefaults();
    }
    this.rare[key] = value;
  }
  get lost() {
    return this.read("lost");
  }
  set lost(v) {
    this.write("lost", v);
  }
  get suspendedOn() {
    return this.read("suspendedOn");
  }
  set suspendedOn(v) {
    this.write("suspendedOn", v);
  }
  get parked() {
    return this.read("parked");
  }
  set parked(v) {
    this.write("parked", v);
  }
  get lastPlannedStart() {
    return this.read("lastPlannedStart");
  }
  set lastPlannedStart(v) {
    this.write("lastPlannedStart", v);
  }
  get rejectReason() {
    return this.read("rejectReason");
  }
  set rejectReason(v) {
    this.write("rejectReason", v);
  }
  get rejectMessage() {
    return this.read("rejectMessage");
  }
  set rejectMessage(v) {
    this.write("rejectMessage", v);
  }
  get failure() {
    return this.read("failure");
  }
  set failure(v) {
    this.write("failure", v);
  }
  get heldUntil() {
    return this.read("heldUntil");
  }
  set heldUntil(v) {
    this.write("heldUntil", v);
  }
  get occurrenceIds() {
    return this.read("occurrenceIds");
  }
  set occurrenceIds(v) {
    this.write("occurrenceIds", v);
  }
  get suspensions() {
    return this.read("suspensions");
  }
  set suspensions(v) {
    this.write("suspensions", v);
  }
  get migrations() {
    return this.read("migrations");
  }
  set migrations(v) {
    this.write("migrations", v);
  }
  get preemptions() {
    return this.read("preemptions");
  }
  set preemptions(v) {
    this.write("preemptions", v);
  }
  get imageRefs() {
    return this.read("imageRefs");
  }
  set imageRefs(v) {
    this.write("imageRefs", v.length === 0 ? NO_NODES : v);
  }
};
function newLeaseRecord(req, seq, work) {
  return new CompactLeaseRecord(req, seq, work);
}
function hasEnded(lease) {
  return lease.state === "completed" || lease.state === "rejected" || lease.state === "cancelled";
}
function remainingWork(lease) {
  return lease.work - lease.done;
}
function queueBefore(a, b) {
  return a.queuedAt < b.queuedAt || a.queuedAt === b.queuedAt && a.seq < b.seq;
}

// src/core/calendar.ts
var EPS = 1e-9;
function exclusiveFreeUntil(cal, capCpu, capMem, t, cpu, mem, horizon) {
  for (let k = 0; k < cal.length; k++) {
    const s = cal[k];
    if (s.start >= horizon) return horizon;
    if (s.end <= t) continue;
    if (s.cpu + cpu <= capCpu + EPS && s.memoryMiB + mem <= capMem + EPS) return null;
    if (s.start <= t) return t;
    return s.start;
  }
  return horizon;
}
function sweepFreeUntil(cal, capCpu, capMem, t, cpu, mem, horizon, ignore, ignoreFrom) {
  let usedC = 0;
  let usedM = 0;
  let changes = null;
  for (let k = 0; k < cal.length; k++) {
    const s = cal[k];
    if (s.start >= horizon) break;
    let end = s.end;
    if (ignore !== void 0 && ignore.has(s.leaseId)) end = Math.min(end, Math.max(s.start, ignoreFrom));
    if (end <= t) continue;
    if (s.start <= t) {
      usedC += s.cpu;
      usedM += s.memoryMiB;
      if (end < horizon) (changes ??= []).push(end, -s.cpu, -s.memoryMiB);
    } else {
      (changes ??= []).push(s.start, s.cpu, s.memoryMiB);
      if (end < horizon) changes.push(end, -s.cpu, -s.memoryMiB);
    }
  }
  if (usedC + cpu > capCpu + EPS || usedM + mem > capMem + EPS) return t;
  if (changes === null) return horizon;
  const order = sortedTripleIndices(changes);
  for (const i of order) {
    const dc = changes[i + 1];
    const dm = changes[i + 2];
    usedC += dc;
    usedM += dm;
    if ((dc > 0 || dm > 0) && (usedC + cpu > capCpu + EPS || usedM + mem > capMem + EPS)) return changes[i];
  }
  return horizon;
}
function exclusiveGaps(cal, spec2, from, cpu, mem) {
  const out = [];
  let cursor = from;
  for (const s of cal) {
    if (s.end <= from) continue;
    if (s.cpu + cpu <= spec2.cpu + EPS && s.memoryMiB + mem <= spec2.memoryMiB + EPS) return null;
    if (s.start > cursor) out.push([cursor, s.start]);
    if (s.end > cursor) cursor = s.end;
  }
  out.push([cursor, Infinity]);
  return out;
}
function addExclusiveGaps(cal, spec2, from, cpu, mem, latestOpen, add) {
  for (const s of cal) if (s.end > from && s.cpu + cpu <= spec2.cpu + EPS && s.memoryMiB + mem <= spec2.memoryMiB + EPS) return false;
  let cursor = from;
  for (const s of cal) {
    if (cursor > latestOpen) return true;
    if (s.end <= from) continue;
    if (s.start > cursor) add(cursor, s.start);
    if (s.end > cursor) cursor = s.end;
  }
  add(cursor, Infinity);
  return true;
}
function nextReleaseAfter(cal, t, ignore) {
  let next = Infinity;
  const counts = (s) => ignore === void 0 || !ignore.has(s.leaseId);
  for (const s of cal) if (s.end > t && s.end < next && s.start <= t && counts(s)) next = s.end;
  if (next === Infinity) {
    for (const s of cal) if (s.end > t && s.end < next && counts(s)) next = s.end;
  }
  return next;
}
function roomFromOn(cal, spec2, t, cpu, mem, skip) {
  const v = roomExplained(cal, spec2, t, cpu, mem, UNREAD, 0, skip);
  return v === v ? v : null;
}
var UNREAD = new Float64Array(2);
function roomExplained(cal, spec2, t, cpu, mem, out, at, skip) {
  let from = t;
  for (const s of cal) {
    if (s.end <= from || s.leaseId === skip) continue;
    if (s.cpu + cpu <= spec2.cpu + EPS && s.memoryMiB + mem <= spec2.memoryMiB + EPS) {
      out[at] = s.end;
      out[at + 1] = Number.NaN;
      return Number.NaN;
    }
    if (s.start > from) {
      out[at] = s.start;
      out[at + 1] = from;
      return Number.NaN;
    }
    from = s.end;
  }
  return from;
}
function removeFrom(cal, seg) {
  const i = cal[0] === seg ? 0 : cal.indexOf(seg);
  if (i < 0) return;
  for (let k = i + 1; k < cal.length; k++) cal[k - 1] = cal[k];
  cal.pop();
}
function insertByStart(cal, seg) {
  const last = cal.length > 0 ? cal[cal.length - 1] : void 0;
  if (last === void 0 || last.start < seg.start || last.start === seg.start && last.seq < seg.seq) {
    cal.push(seg);
    return;
  }
  let lo = 0;
  let hi = cal.length;
  while (lo < hi) {
    const mid = lo + hi >>> 1;
    const m = cal[mid];
    if (m.start < seg.start || m.start === seg.start && m.seq < seg.seq) lo = mid + 1;
    else hi = mid;
  }
  cal.push(seg);
  for (let k = cal.length - 1; k > lo; k--) cal[k] = cal[k - 1];
  cal[lo] = seg;
}
function firstOfK(opens, closes, k) {
  opens.sort();
  closes.sort();
  let open = 0;
  let c = 0;
  for (let i = 0; i < opens.length; i++) {
    const t = opens[i];
    while (c < closes.length && closes[c] < t) {
      c++;
      open--;
    }
    open++;
    if (open >= k) return t;
  }
  return Infinity;
}
function kthSmallest(xs, count, k) {
  let lo = 0;
  let hi = count - 1;
  const want = k - 1;
  while (lo < hi) {
    const pivot = xs[lo + hi >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i] < pivot) i++;
      while (xs[j] > pivot) j--;
      if (i <= j) {
        const x = xs[i];
        xs[i] = xs[j];
        xs[j] = x;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return xs[want];
  }
  return xs[want];
}
function sortedTripleIndices(changes) {
  const idx = [];
  for (let i = 0; i < changes.length; i += 3) idx.push(i);
  idx.sort((a, b) => changes[a] - changes[b] || changes[a + 1] - changes[b + 1] || a - b);
  return idx;
}
function small(t) {
  return t === (t | 0) ? t | 0 : t;
}

// src/core/reservation-ops.ts
var ENDS = 0;
var STARTS = 1;
function place(s, lease, kind, start, end, nodes2) {
  const begins = start <= s.now;
  const seg = s.table.reserve(lease.req.id, kind, start, end, nodes2, lease.req.perNode.cpu, lease.req.perNode.memoryMiB, begins);
  s.changed?.add(lease);
  if (lease.history.length === 0) lease.history = [seg];
  else lease.history.push(seg);
  s.boundaries.push(end, ENDS, seg);
  if (begins) startSegment(s, seg, lease);
  else s.boundaries.push(start, STARTS, seg);
  return seg;
}
function startSegment(s, seg, lease = s.book.mustGet(seg.leaseId)) {
  s.table.activate(seg);
  s.started.push(seg);
  s.changed?.add(lease);
  if (lease.inFuture) {
    lease.inFuture = false;
    s.future.delete(lease);
  }
  lease.state = "active";
  if (lease.firstStart === null) lease.firstStart = seg.start;
  if (seg.kind === "migrate") lease.migrations++;
}
function truncate(s, seg, end) {
  const lease = s.book.mustGet(seg.leaseId);
  s.changed?.add(lease);
  s.table.setEnd(seg, end);
  if (seg.active && end <= s.now) {
    s.table.deactivate(seg);
    if (seg.kind === "run") lease.done += end - seg.start;
    removeFrom(lease.chain, seg);
    return;
  }
  s.boundaries.push(end, ENDS, seg);
}
function cutChainAfter(s, lease, seg) {
  const i = lease.chain.indexOf(seg);
  if (i + 1 >= lease.chain.length) return;
  for (const later of lease.chain.slice(i + 1)) dropSegment(s, lease, later);
  lease.chain.length = i + 1;
}
function dropSegment(s, lease, seg) {
  if (seg.active || seg.start < s.now) {
    truncate(s, seg, Math.min(seg.end, s.now));
    return;
  }
  s.table.release(seg);
  s.changed?.add(lease);
  const h = lease.history.lastIndexOf(seg);
  if (h >= 0 && lease.history.length === 1) lease.history = [];
  else if (h >= 0) lease.history.splice(h, 1);
}
function dropPlan(s, lease, now) {
  for (const seg of [...lease.chain]) dropSegment(s, lease, seg);
  lease.chain = [];
  if (lease.inFuture) {
    lease.inFuture = false;
    s.future.delete(lease);
  }
  s.link.cancel(lease.req.id, now);
}

// src/core/lease-lifecycle.ts
function enqueue(s, lease) {
  if (lease.state !== "suspended") lease.state = "queued";
  s.changed?.add(lease);
  insertSorted(s.queue, lease);
}
function insertSorted(q, lease) {
  let lo = 0;
  let hi = q.length;
  while (lo < hi) {
    const mid = lo + hi >>> 1;
    if (queueBefore(q[mid], lease)) lo = mid + 1;
    else hi = mid;
  }
  q.splice(lo, 0, lease);
}
function settleIfChainDone(s, lease, at, lastNodes) {
  if (lease.chain.length > 0 || lease.state !== "active" && lease.state !== "scheduled") return;
  s.changed?.add(lease);
  if (lease.chainEndsIn === "suspend" && remainingWork(lease) > 0) {
    lease.state = "suspended";
    lease.suspensions++;
    if (s.config.suspendedQueueOrder === "suspension") lease.queuedAt = at;
    lease.suspendedOn = lastNodes ?? lease.history[lease.history.length - 1]?.nodes ?? null;
    if (!lease.parked) enqueue(s, lease);
  } else {
    complete(s, lease, at);
    s.completed.push(lease);
  }
}
function complete(s, lease, at) {
  lease.state = "completed";
  lease.endedAt = at;
  s.images.release(lease, s.now);
}
function unschedule(s, lease, now) {
  const wasSuspendedOn = lease.chain.length > 0 && lease.chain[0].kind !== "boot" && lease.chain[0].kind !== "run" ? previousMemoryNodes(s, lease) : null;
  dropPlan(s, lease, now);
  if (wasSuspendedOn) {
    lease.state = "suspended";
    lease.suspendedOn = wasSuspendedOn;
  } else {
    s.images.release(lease, s.now);
    lease.state = "queued";
  }
  enqueue(s, lease);
}
function previousMemoryNodes(s, lease) {
  for (let i = lease.history.length - 1; i >= 0; i--) {
    const seg = lease.history[i];
    if (seg.kind === "suspend" && seg.end <= s.now) return seg.nodes;
  }
  return lease.chain[0]?.nodes ?? null;
}
function restartLosingWork(s, lease, now) {
  dropPlan(s, lease, now);
  s.changed?.add(lease);
  lease.lost = [...lease.lost, { segments: lease.history }];
  lease.history = [];
  lease.done = 0;
  lease.work = lease.req.kind === "best-effort" ? stretchedSeconds(lease.req.duration, s.config.runtimeOverheadPercent) : lease.req.duration;
  lease.firstStart = null;
  lease.suspendedOn = null;
  s.images.release(lease, s.now);
  lease.state = "queued";
  enqueue(s, lease);
}
function cancelLease(s, lease, now) {
  if (lease.state === "queued" || lease.state === "suspended") {
    const i = s.queue.indexOf(lease);
    if (i >= 0) s.queue.splice(i, 1);
  }
  const running = lease.chain.find((seg) => seg.active);
  if (running) {
    cutChainAfter(s, lease, running);
    truncate(s, running, now);
  }
  dropPlan(s, lease, now);
  s.images.release(lease, s.now);
  lease.state = "cancelled";
  lease.endedAt = now;
  s.changed?.add(lease);
  s.mustReevaluate = true;
}
function failLease(s, lease, now, code, message) {
  cancelLease(s, lease, now);
  lease.failure = { code, message };
}
function powerOffAt(s, lease, at) {
  for (const seg of [...lease.chain]) {
    if (seg.start >= at) {
      dropSegment(s, lease, seg);
      const i = lease.chain.indexOf(seg);
      if (i >= 0) lease.chain.splice(i, 1);
    } else if (seg.end > at) truncate(s, seg, at);
  }
  settleIfChainDone(s, lease, at);
}

// src/core/preemption.ts
function preemptionKind(ctx, lease, at) {
  const chain = lease.chain;
  if (chain.length === 0) return "unschedule";
  if (remainingWork(lease) <= 0) return "power-off";
  if (chain[0].start >= at) return "unschedule";
  if (ctx.config.preemption === "suspend" && suspensionPoint(ctx, lease, at) !== null) return "suspend";
  if (chain[0].start >= ctx.now && !chain[0].active) return "unschedule";
  return "requeue";
}
function suspensionPoint(ctx, lease, at) {
  const s = ctx.costs.suspendSeconds(lease.req);
  let runIndex = -1;
  for (let i = lease.chain.length - 1; i >= 0; i--) {
    if (lease.chain[i].kind === "run" && lease.chain[i].start < at) {
      runIndex = i;
      break;
    }
  }
  if (runIndex < 0) return null;
  const run = lease.chain[runIndex];
  const suspendAt = at - s;
  if (suspendAt < ctx.now || suspendAt <= run.start) return null;
  if (at - run.start < ctx.costs.suspendThreshold(lease.req, lease.state === "suspended")) return null;
  return { runIndex, suspendAt };
}
function victimCandidates(ctx, from, to) {
  const seen = /* @__PURE__ */ new Set();
  const out = [];
  for (let n = 0; n < ctx.table.size; n++) {
    for (const id of ctx.table.leasesOverlapping(n, from, to)) {
      if (seen.has(id)) continue;
      seen.add(id);
      const l = ctx.leaseById(id);
      if (!l.req.preemptible || l.req.kind !== "best-effort" || justResumed(l, ctx.now)) continue;
      const running = l.chain.find((s) => s.kind === "run" && s.active);
      const ranSeconds = l.done + (running ? ctx.now - running.start : 0);
      out.push({
        leaseId: id,
        arrival: l.req.arrival,
        seq: l.seq,
        workAtRisk: preemptionKind(ctx, l, from) === "requeue" ? ranSeconds * l.req.nodes : 0,
        memoryMiB: l.req.perNode.memoryMiB * l.req.nodes
      });
    }
  }
  return out;
}
function justResumed(l, now) {
  const first = l.chain[0];
  return first !== void 0 && first.active && first.kind === "run" && first.start === now && l.done > 0;
}
function preempt(s, lease, how, at, now) {
  lease.preemptions++;
  switch (how) {
    case "power-off":
      return powerOffAt(s, lease, at);
    case "unschedule":
      return lease.chain.length > 0 ? unschedule(s, lease, now) : void 0;
    case "suspend":
      return suspendBy(s, lease, at);
    case "requeue":
      return restartLosingWork(s, lease, now);
  }
}
function suspendBy(s, lease, at) {
  const point = suspensionPoint(s, lease, at);
  if (point === null) throw new Error(`internal: lease ${lease.req.id} was planned to be suspended by ${at}, but cannot be`);
  const run = lease.chain[point.runIndex];
  cutChainAfter(s, lease, run);
  truncate(s, run, point.suspendAt);
  lease.chainEndsIn = "suspend";
  const secs = s.costs.suspendSeconds(lease.req);
  if (secs > 0) lease.chain.push(place(s, lease, "suspend", point.suspendAt, at, run.nodes));
  settleIfChainDone(s, lease, at, run.nodes);
}

// src/core/node-bits.ts
var NodeBits = class {
  bits = new Int32Array(1);
  count = 0;
  /** How many nodes are in the set. */
  get size() {
    return this.count;
  }
  /** How many words hold the set's bits (bits past the last node index are 0). */
  get wordCount() {
    return this.bits.length;
  }
  /** Word w: bit b set when node 32w + b is in the set; 0 past the end. */
  word(w) {
    return w < this.bits.length ? this.bits[w] : 0;
  }
  has(n) {
    return (this.word(n >> 5) & 1 << (n & 31)) !== 0;
  }
  add(n) {
    const w = n >> 5;
    if (w >= this.bits.length) this.growTo(w + 1);
    const bit = 1 << (n & 31);
    if ((this.bits[w] & bit) !== 0) return;
    this.bits[w] |= bit;
    this.count++;
  }
  delete(n) {
    const w = n >> 5;
    if (w >= this.bits.length) return;
    const bit = 1 << (n & 31);
    if ((this.bits[w] & bit) === 0) return;
    this.bits[w] &= ~bit;
    this.count--;
  }
  /** The first node at or after `from`, by index, in the set; -1 if none. */
  next(from) {
    const bits = this.bits;
    let w = from >> 5;
    if (w >= bits.length) return -1;
    let word = bits[w] & -1 << (from & 31);
    for (; ; ) {
      if (word !== 0) return (w << 5) + lowestBit(word);
      if (++w >= bits.length) return -1;
      word = bits[w];
    }
  }
  growTo(words) {
    let length = this.bits.length;
    while (length < words) length *= 2;
    const bits = new Int32Array(length);
    bits.set(this.bits);
    this.bits = bits;
  }
};
function lowestBit(word) {
  return 31 - Math.clz32(word & -word);
}
function bitCount(word) {
  let v = word - (word >>> 1 & 1431655765);
  v = (v & 858993459) + (v >>> 2 & 858993459);
  return Math.imul(v + (v >>> 4) & 252645135, 16843009) >>> 24;
}

// src/core/node-lists.ts
var NodeLists = class {
  buckets = /* @__PURE__ */ new Map();
  /** The list last given and its shared copy: a chain's segments, placed one after another, are given one list (70,000 times on the SDSC log). */
  lastGiven = null;
  lastShared = null;
  /** The shared list equal to `nodes` (itself, the first time). */
  shared(nodes2) {
    let h = nodes2.length;
    for (const n of nodes2) h = nodeListHashStep(h, n);
    return this.sharedByHash(nodes2, h);
  }
  /** shared, given the list's hash: a caller that goes over the nodes anyway folds it in as it goes (see nodeListHashStep). */
  sharedByHash(nodes2, h) {
    if (nodes2 === this.lastGiven) return this.lastShared;
    this.lastGiven = nodes2;
    this.lastShared = this.lookUp(nodes2, h);
    return this.lastShared;
  }
  lookUp(nodes2, h) {
    const bucket = this.buckets.get(h);
    if (bucket !== void 0) {
      for (const list of bucket) if (sameList(list, nodes2)) return list;
    }
    const kept = nodes2.slice();
    if (bucket === void 0) this.buckets.set(h, [kept]);
    else bucket.push(kept);
    return kept;
  }
};
function nodeListHashStep(h, n) {
  return Math.imul(h, 31) + n | 0;
}
function sameList(a, b) {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
function indexIn(sorted, i, length = sorted.length) {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = lo + hi >>> 1;
    if (sorted[mid] < i) lo = mid + 1;
    else hi = mid;
  }
  return lo < length && sorted[lo] === i ? lo : -1;
}

// src/core/free-profile.ts
var FreeProfile = class {
  constructor(table, ask) {
    this.table = table;
    this.ask = ask;
    this.reuse(ask);
  }
  table;
  ask;
  /** Bit b of word w: node 32w + b is free from t for good. */
  good = [];
  goodCount = 0;
  /** Bit b of word w: node 32w + b is free from t for a while only, until until[32w + b]. */
  lim = [];
  until = new Float64Array(0);
  limitedCount = 0;
  /** Of each word looked at, the earliest t after which it must be looked at again though nothing about its nodes changed (see follow). */
  expires = [];
  /** Words looked at so far (the first `words`), of all, at the table's version. */
  words = 0;
  wordsInAll = 0;
  version = -1;
  /** Of a profile of the future, which nodes the table's RoomIndex tells free for good from t, and which it cannot tell (once roomKnown). */
  roomGood = [];
  roomUnknown = [];
  roomKnown = false;
  /** Whether an empty calendar alone tells that a node is free for good (nothing else to ask of it). */
  emptyIsFree = false;
  /** The open nodes big enough for the shape, when emptyIsFree. */
  fitting = null;
  /** The limited nodes packed by index, and until when, as limited() last listed them. */
  limitedNodes = [];
  limitedUntil = [];
  /** Makes this the profile of `ask` at the table's present version, keeping its arrays. */
  reuse(ask) {
    this.ask = ask;
    this.version = this.table.version;
    this.wordsInAll = this.table.size + 31 >> 5;
    if (this.good.length !== this.wordsInAll) {
      this.good = new Array(this.wordsInAll).fill(0);
      this.lim = new Array(this.wordsInAll).fill(0);
      this.expires = new Array(this.wordsInAll).fill(0);
    }
    if (this.until.length !== this.table.size) this.until = new Float64Array(this.table.size);
    this.emptyIsFree = ask.eligible === void 0;
    this.fitting = this.emptyIsFree ? this.table.openFitting(ask.cpu, ask.memoryMiB) : null;
    this.goodCount = 0;
    this.limitedCount = 0;
    this.words = 0;
    this.roomKnown = false;
    return this;
  }
  /**
   * Makes this profile of the current instant (onlyFreeNow, nothing ineligible or ignored) the one at
   * `now` and the table's present version, looking again only at the words of nodes where something
   * changed since (the table stamps them) or whose free-until may have passed. At each placement of a
   * whole log only the nodes of a few leases started or ended changed: the others' answers hold.
   */
  follow(now) {
    const { table, ask } = this;
    const simple = ask.onlyFreeNow && ask.eligible === void 0 && ask.ignore === void 0;
    const kept = simple && now >= ask.t && this.wordsInAll === table.size + 31 >> 5 && this.fitting === table.openFitting(ask.cpu, ask.memoryMiB);
    if (kept && this.version === table.version && now === ask.t) return this;
    const at = simple ? { t: now, cpu: ask.cpu, memoryMiB: ask.memoryMiB, onlyFreeNow: true } : { ...ask, t: now };
    if (!kept) return this.reuse(at);
    const since = this.version;
    const moved = now > ask.t;
    this.ask = at;
    this.version = table.version;
    for (let w = 0; w < this.words; w++) {
      if (table.wordChangedAt(w) <= since && !(moved && this.expires[w] <= now)) continue;
      this.goodCount -= bitCount(this.good[w]);
      this.limitedCount -= bitCount(this.lim[w]);
      this.look(w);
    }
    return this;
  }
  get t() {
    return this.ask.t;
  }
  get cpu() {
    return this.ask.cpu;
  }
  get memoryMiB() {
    return this.ask.memoryMiB;
  }
  /** Looks at more nodes until `count` are known to take the request or none is left; answers how many are known. */
  fill(count) {
    while (this.goodCount + this.limitedCount < count && this.words < this.wordsInAll) this.look(this.words++);
    return this.goodCount + this.limitedCount;
  }
  /** Looks at the nodes of word w, adding them to the counts. */
  look(w) {
    const { table, ask } = this;
    if (table.version !== this.version) throw new Error("internal: a free profile read after the table changed");
    const notFullOnly = ask.onlyFreeNow && ask.cpu >= 1e-6 && ask.memoryMiB >= 1e-6;
    const last = table.size - (w << 5);
    let candidates = notFullOnly ? table.notFullNow.word(w) : last >= 32 ? -1 : (1 << last) - 1;
    let good = 0;
    let lim = 0;
    let expires = Infinity;
    if (this.emptyIsFree) {
      good = candidates & table.emptyNodes.word(w) & this.fitting.word(w);
      candidates &= ~good;
    }
    if (this.emptyIsFree && ask.ignore === void 0 && !ask.onlyFreeNow) {
      if (!this.roomKnown) {
        roomBits(table, ask.t, ask.cpu, ask.memoryMiB, this.roomGood, this.roomUnknown);
        this.roomKnown = true;
      }
      good |= candidates & this.roomGood[w];
      candidates &= this.roomUnknown[w];
    }
    while (candidates !== 0) {
      const b = lowestBit(candidates);
      candidates &= candidates - 1;
      const i = (w << 5) + b;
      const u = this.untilOf(i);
      if (u === null && ask.onlyFreeNow && ask.eligible === void 0 && table.fitsNow(i, ask.cpu, ask.memoryMiB)) expires = ask.t;
      if (u === null) continue;
      if (u === Infinity) good |= 1 << b;
      else {
        lim |= 1 << b;
        this.until[i] = u;
        if (u < expires) expires = u;
      }
    }
    this.good[w] = good;
    this.lim[w] = lim;
    this.expires[w] = expires;
    this.goodCount += bitCount(good);
    this.limitedCount += bitCount(lim);
  }
  /** Until when node i stays free from t, if it is one of the profile's nodes; null if not (see untilFor). */
  untilOf(i) {
    if (this.table.version !== this.version) throw new Error("internal: a free profile read after the table changed");
    return untilFor(this.table, this.ask, i);
  }
  /** Whether at least n of the profile's nodes stay free until `end` or later. */
  holds(n, end) {
    let limited = 0;
    let seen = 0;
    for (; ; ) {
      for (; seen < this.words; seen++) limited += this.limitedUntilAtLeast(seen, end);
      if (this.goodCount + limited >= n) return true;
      if (this.words === this.wordsInAll) return false;
      this.look(this.words++);
    }
  }
  /** How many of word w's limited nodes stay free until `end` or later. */
  limitedUntilAtLeast(w, end) {
    let lim = this.lim[w];
    let count = 0;
    while (lim !== 0) {
      if (this.until[(w << 5) + lowestBit(lim)] >= end) count++;
      lim &= lim - 1;
    }
    return count;
  }
  /**
   * Appends to out[count..] the profile's nodes that stay free until `end` or later, by index,
   * leaving out those in `skip` (ascending) and those not `eligible`, until out holds n; answers
   * how many it holds.
   */
  collectFreeUntil(end, n, out, count, skip, eligible) {
    for (let w = 0; count < n; w++) {
      if (w === this.words) {
        if (this.words === this.wordsInAll) break;
        this.look(this.words++);
      }
      const good = this.good[w];
      if (skip === null && eligible === void 0) {
        let take = good;
        for (let lim = this.lim[w]; lim !== 0; lim &= lim - 1) if (this.until[(w << 5) + lowestBit(lim)] >= end) take |= lim & -lim;
        for (; take !== 0 && count < n; take &= take - 1) out[count++] = (w << 5) + lowestBit(take);
        continue;
      }
      let both = good | this.lim[w];
      while (both !== 0 && count < n) {
        const b = lowestBit(both);
        both &= both - 1;
        const i = (w << 5) + b;
        if ((good & 1 << b) === 0 && this.until[i] < end) continue;
        if ((skip === null || indexIn(skip, i) < 0) && (eligible === void 0 || eligible(i))) out[count++] = i;
      }
    }
    return count;
  }
  /** untilOf(i), from what the profile holds if it has looked at i's word already (a suspended lease's home nodes, asked one by one, mostly are). */
  untilKnown(i) {
    if (i >> 5 >= this.words) return this.untilOf(i);
    const bit = 1 << (i & 31);
    if ((this.good[i >> 5] & bit) !== 0) return Infinity;
    return (this.lim[i >> 5] & bit) !== 0 ? this.until[i] : null;
  }
  /** Until when node i stays free, from what the profile holds (looking at every node first); null if it is not one of them. */
  untilIn(i) {
    this.fill(Infinity);
    return this.untilKnown(i);
  }
  /** The nodes free for a while only, by index, and until when (every node looked at first). */
  limited() {
    this.fill(Infinity);
    let count = 0;
    for (let w = 0; w < this.words; w++) {
      for (let lim = this.lim[w]; lim !== 0; lim &= lim - 1) {
        const i = (w << 5) + lowestBit(lim);
        this.limitedNodes[count] = i;
        this.limitedUntil[count++] = this.until[i];
      }
    }
    return { nodes: this.limitedNodes, until: this.limitedUntil, count };
  }
};
function untilFor(table, ask, i) {
  if (ask.onlyFreeNow && !table.fitsNow(i, ask.cpu, ask.memoryMiB)) return null;
  if (ask.eligible && !ask.eligible(i)) return null;
  const u = table.freeUntil(i, ask.t, ask.cpu, ask.memoryMiB, Infinity, ask.ignore, ask.ignoreFrom);
  return u > ask.t ? u : null;
}
function freeProfile(table, ask) {
  return new FreeProfile(table, ask);
}
function roomBits(table, t, cpu, mem, good, unknown) {
  const room = table.roomFrom(t, cpu, mem);
  for (let w = 0; w << 5 < room.length; w++) {
    let g = 0;
    let u = 0;
    const last = Math.min(32, room.length - (w << 5));
    for (let b = 0; b < last; b++) {
      const v = room[(w << 5) + b];
      if (v !== v) u |= 1 << b;
      else if (v <= t) g |= 1 << b;
    }
    good[w] = g;
    unknown[w] = u;
  }
}
function profileHolds(profile, n, length) {
  return n >= 1 && profile.holds(n, profile.t + length);
}

// src/core/node-choice.ts
function chooseNodes(profile, ask) {
  const { t } = profile;
  const horizon = t + ask.fullLength;
  if (profile.fill(ask.n) < ask.n) return null;
  const preferred = ask.preferred && ask.preferred.length > 0 ? ascendingOnce(ask.preferred) : null;
  const { eligible, n } = ask;
  const buffer = scratch;
  let count = 0;
  if (preferred) {
    for (const i of preferred) {
      const u = profile.untilIn(i);
      if (u !== null && u >= horizon && (!eligible || eligible(i))) buffer[count++] = i;
    }
  }
  if (count < n) count = profile.collectFreeUntil(horizon, n, buffer, count, preferred, eligible);
  if (count >= n) return { nodes: buffer.slice(0, n), end: horizon };
  const minLength = ask.minLength;
  if (minLength === null) return null;
  const limited = profile.limited();
  const picked = partialScratch;
  let m = 0;
  for (let k = 0; k < limited.count; k++) {
    const i = limited.nodes[k];
    const u = limited.until[k];
    if (u >= horizon || u - t < minLength || eligible && !eligible(i)) continue;
    prefScratch[k] = preferred !== null && indexIn(preferred, i) >= 0 ? 1 : 0;
    picked[m++] = k;
  }
  if (count + m < n) return null;
  picked.length = m;
  const { nodes: ln, until: lu } = limited;
  let ordered = true;
  for (let k = 1; k < m && ordered; k++) ordered = prefScratch[picked[k - 1]] > prefScratch[picked[k]] || prefScratch[picked[k - 1]] === prefScratch[picked[k]] && lu[picked[k - 1]] >= lu[picked[k]];
  if (!ordered) picked.sort((a, b) => prefScratch[b] - prefScratch[a] || lu[b] - lu[a] || ln[a] - ln[b]);
  const nodes2 = buffer.slice(0, count);
  let end = Infinity;
  for (let k = 0; k < n - count && k < m; k++) {
    nodes2.push(ln[picked[k]]);
    end = Math.min(end, lu[picked[k]]);
  }
  return { nodes: nodes2, end };
}
var partialScratch = [];
var prefScratch = [];
var scratch = [];
function sortedOnce(nodes2) {
  const sorted = [...nodes2].sort((a, b) => a - b);
  let w = 0;
  for (let r = 0; r < sorted.length; r++) if (r === 0 || sorted[r] !== sorted[r - 1]) sorted[w++] = sorted[r];
  sorted.length = w;
  return sorted;
}
function ascendingOnce(nodes2) {
  for (let k = 1; k < nodes2.length; k++) if (nodes2[k] <= nodes2[k - 1]) return sortedOnce(nodes2);
  return nodes2;
}
function ascending(nodes2) {
  for (let k = 1; k < nodes2.length; k++) if (nodes2[k] < nodes2[k - 1]) return false;
  return true;
}
function withPartial(full, partial, n) {
  const nodes2 = full.slice();
  let end = Infinity;
  for (let k = 0; k < n - full.length && k < partial.length; k++) {
    nodes2.push(partial[k].node);
    end = Math.min(end, partial[k].until);
  }
  return { nodes: nodes2, end };
}
function chooseAmong(profile, among, ask) {
  const { t } = profile;
  const horizon = t + ask.fullLength;
  const full = [];
  const partial = [];
  for (const i of ascending(among) ? among : [...among].sort((a, b) => a - b)) {
    const u = profile.untilKnown(i);
    if (u === null) continue;
    if (u >= horizon) full.push(i);
    else if (ask.minLength !== null && u - t >= ask.minLength) partial.push({ node: i, until: u });
  }
  if (full.length >= ask.n) return { nodes: full.slice(0, ask.n), end: horizon };
  if (ask.minLength === null || full.length + partial.length < ask.n) return null;
  partial.sort((a, b) => b.until - a.until || a.node - b.node);
  return withPartial(full, partial, ask.n);
}

// src/core/plan-context.ts
var refuse = (reason, message) => ({ ok: false, reason, message });

// src/core/deadline-planner.ts
var MAX_PIECES = 64;
function planDeadline(ctx, req) {
  const plan = planEarliestCompletion(ctx, req);
  if (!plan.ok) return plan;
  const deadline = req.deadline;
  if (plan.plan.end > deadline) {
    return refuse("insufficient-capacity", `cannot end by its deadline ${deadline}: the earliest it can end is ${plan.plan.end}`);
  }
  return plan;
}
function planEarliestCompletion(ctx, req) {
  const fit = ctx.nodesThatFit(req.perNode.cpu, req.perNode.memoryMiB);
  if (req.nodes > fit) return refuse("exceeds-pool", `asks for ${req.nodes} nodes; the pool has ${fit} that can hold one of its VMs`);
  if (req.deadline === void 0) return refuse("invalid", "a deadline lease needs a deadline");
  const { costs, config } = ctx;
  const cpu = req.perNode.cpu;
  const mem = req.perNode.memoryMiB;
  const transfer = costs.needsTransfer(req) ? costs.transferSeconds(req) : 0;
  const imageAt = transfer > 0 ? ctx.link.earliestSlot(ctx.now, transfer) + transfer : ctx.now;
  const notBefore = Math.max(ctx.now, req.requestedStart ?? ctx.now);
  const imageBy = (n) => transfer === 0 || ctx.imageReadyBy(req, n, notBefore) ? notBefore : Math.max(notBefore, imageAt);
  const suspend = costs.suspendSeconds(req);
  const ignore = ctx.tentative;
  const pieces = [];
  let remaining = req.duration;
  let t = notBefore;
  let previous = null;
  while (remaining > 0) {
    if (pieces.length === MAX_PIECES) return refuse("insufficient-capacity", `no plan in ${MAX_PIECES} pieces or fewer`);
    const resuming = previous !== null;
    const pre = resuming ? costs.resumeSeconds(req) : config.bootSeconds;
    const whole = pre + remaining + config.shutdownSeconds;
    const cutMin = req.preemptible && config.preemption === "suspend" ? Math.max(costs.suspendThreshold(req, resuming), pre + suspend + 1) : null;
    const shortest = cutMin === null ? whole : Math.min(whole, cutMin);
    const earliest = ctx.table.earliestWindow(req.nodes, cpu, mem, shortest, t, { notBefore: resuming ? void 0 : imageBy, ignore });
    if (earliest === Infinity) return refuse("insufficient-capacity", `${req.nodes} nodes are never free for ${shortest} s`);
    const placed = pieceAt(ctx, req, earliest, { previous, pre, whole, cutMin, imageBy: resuming ? null : imageBy, ignore });
    if (!placed) {
      const next = Math.min(ctx.table.endsAfter(earliest)[0] ?? Infinity, imageAt > earliest ? imageAt : Infinity);
      if (next === Infinity) return refuse("insufficient-capacity", `no nodes for the lease from ${earliest} on`);
      t = next;
      continue;
    }
    const { choice, moved, overhead } = placed;
    const wholeFits = choice.end >= earliest + overhead + whole;
    const last = wholeFits || choice.end - earliest - overhead - pre - suspend >= remaining;
    const end = wholeFits ? earliest + overhead + whole : choice.end;
    pieces.push({ from: earliest, end, nodes: choice.nodes, first: !resuming, moved, last });
    remaining -= last ? remaining : end - earliest - overhead - pre - suspend;
    previous = choice.nodes;
    t = end;
  }
  const first = pieces[0];
  const lacksImage = transfer > 0 && first.nodes.some((i) => !ctx.imageReadyBy(req, i, first.from));
  return { ok: true, plan: { pieces, end: pieces[pieces.length - 1].end, transferStart: lacksImage ? imageAt - transfer : null } };
}
function pieceAt(ctx, req, t, ask) {
  const eligible = ask.imageBy ? (n) => ask.imageBy(n) <= t : void 0;
  const profile = freeProfile(ctx.table, { t, cpu: req.perNode.cpu, memoryMiB: req.perNode.memoryMiB, eligible, onlyFreeNow: t === ctx.now && ask.ignore.size === 0, ignore: ask.ignore });
  const base = { n: req.nodes };
  if (ask.previous === null) {
    const choice = chooseNodes(profile, { ...base, fullLength: ask.whole, minLength: ask.cutMin });
    return choice && { choice, moved: false, overhead: 0 };
  }
  const home = new Set(ask.previous);
  const stay = chooseNodes(profile, { ...base, fullLength: ask.whole, minLength: ask.cutMin, eligible: (i) => home.has(i), preferred: ask.previous });
  if (stay) return { choice: stay, moved: false, overhead: 0 };
  if (!ctx.config.migration) return null;
  const migrate = ctx.costs.migrateSeconds(req);
  const move = chooseNodes(profile, { ...base, fullLength: migrate + ask.whole, minLength: ask.cutMin === null ? null : migrate + ask.cutMin, preferred: ask.previous });
  if (!move) return null;
  const moved = move.nodes.length !== home.size || move.nodes.some((i) => !home.has(i));
  return { choice: move, moved, overhead: moved ? migrate : 0 };
}

// src/core/preemption-policy.ts
var youngestFirst = {
  name: "youngest-first",
  score: (c) => -c.arrival
};
var leastWorkLost = {
  name: "least-work-lost",
  score: (c) => c.workAtRisk * 1e6 + c.memoryMiB
};
var PREEMPTION_POLICIES = {
  [youngestFirst.name]: youngestFirst,
  [leastWorkLost.name]: leastWorkLost
};
function orderVictims(policy, candidates) {
  return candidates.map((c) => ({ c, s: policy.score(c) })).sort((a, b) => a.s - b.s || b.c.seq - a.c.seq).map((x) => x.c);
}

// src/core/reservation-planner.ts
function workOf(req) {
  return req.duration;
}
function exceedsPool(ctx, req) {
  const fit = ctx.nodesThatFit(req.perNode.cpu, req.perNode.memoryMiB);
  return req.nodes > fit ? `asks for ${req.nodes} nodes with ${req.perNode.cpu} CPU and ${req.perNode.memoryMiB} MiB each; the pool has ${fit} such nodes` : null;
}
function victimsOn(ctx, nodes2, from, to, ignore) {
  const out = [];
  for (const n of nodes2) for (const id of ctx.table.leasesOverlapping(n, from, to)) if (ignore.has(id) && !out.includes(id)) out.push(id);
  return out.sort((a, b) => ctx.leaseById(a).seq - ctx.leaseById(b).seq);
}
function chooseWithVictims(ctx, ask, policy) {
  const { req, from, length, eligible } = ask;
  const shape = { t: from, cpu: req.perNode.cpu, memoryMiB: req.perNode.memoryMiB, eligible };
  const nodeAsk = { n: req.nodes, fullLength: length, minLength: null };
  const free = firstWholeNodes(ctx, ask) ?? chooseNodes(freeProfile(ctx.table, { ...shape, onlyFreeNow: from === ctx.now }), nodeAsk);
  if (free) return { choice: free, victims: [] };
  if (policy === null) return null;
  const ignore = /* @__PURE__ */ new Set();
  for (const v of orderVictims(policy, victimCandidates(ctx, from, from + length))) {
    ignore.add(v.leaseId);
    const choice = chooseNodes(freeProfile(ctx.table, { ...shape, onlyFreeNow: false, ignore, ignoreFrom: from }), nodeAsk);
    if (choice) return { choice, victims: victimsOn(ctx, choice.nodes, from, from + length, ignore) };
  }
  return null;
}
function firstWholeNodes(ctx, ask) {
  const { req, from, length, eligible } = ask;
  const end = from + length;
  const nodes2 = [];
  for (let i = 0; i < ctx.table.size && nodes2.length < req.nodes; i++) {
    if (eligible && !eligible(i)) continue;
    if (ctx.table.freeUntil(i, from, req.perNode.cpu, req.perNode.memoryMiB, end) >= end) nodes2.push(i);
  }
  return nodes2.length === req.nodes ? { nodes: nodes2, end } : null;
}
var describe = (ctx, victims, at) => victims.map((id) => ({ leaseId: id, how: preemptionKind(ctx, ctx.leaseById(id), at) }));
function planExact(ctx, req, policy) {
  const tooBig = exceedsPool(ctx, req);
  if (tooBig) return refuse("exceeds-pool", tooBig);
  const { bootSeconds, shutdownSeconds } = ctx.config;
  const start = req.requestedStart ?? ctx.now;
  const from = start - bootSeconds;
  if (from < ctx.now) return refuse("too-late", `must start at ${start} but its ${bootSeconds} s boot cannot begin before now (${ctx.now})`);
  const length = bootSeconds + workOf(req) + shutdownSeconds;
  const transfer = ctx.costs.needsTransfer(req) ? ctx.link.latestSlot(ctx.now, from, ctx.costs.transferSeconds(req)) : null;
  const eligible = (i) => ctx.imageReadyBy(req, i, from) || transfer !== null;
  const found = chooseWithVictims(ctx, { req, from, length, eligible }, policy);
  if (!found) return refuse("insufficient-capacity", `${req.nodes} nodes are not free${policy ? " and cannot be freed" : ""} for [${start}, ${start + req.duration})`);
  const { choice, victims } = found;
  const needsTransfer = transfer !== null && choice.nodes.some((i) => !ctx.imageReadyBy(req, i, from));
  return { ok: true, plan: { from, start, end: from + length, nodes: choice.nodes, preempted: describe(ctx, victims, from), transferStart: needsTransfer ? transfer : null } };
}
function planUrgent(ctx, req, policy) {
  const tooBig = exceedsPool(ctx, req);
  if (tooBig) return refuse("exceeds-pool", tooBig);
  const { bootSeconds, shutdownSeconds } = ctx.config;
  const length = bootSeconds + workOf(req) + shutdownSeconds;
  const transfer = ctx.costs.needsTransfer(req) ? ctx.costs.transferSeconds(req) : 0;
  const imageAt = transfer > 0 ? ctx.link.earliestSlot(ctx.now, transfer) + transfer : ctx.now;
  let from = ctx.now;
  for (let round = 0; round < 4; round++) {
    const found = chooseWithVictims(ctx, { req, from, length }, policy);
    if (!found) break;
    const lacksImage = found.choice.nodes.some((i) => !ctx.imageReadyBy(req, i, from));
    let at = lacksImage ? Math.max(from, imageAt) : from;
    for (const id of found.victims) {
      const victim = ctx.leaseById(id);
      const s = ctx.costs.suspendSeconds(victim.req);
      if (remainingWork(victim) > 0 && preemptionKind(ctx, victim, ctx.now + s) === "suspend") at = Math.max(at, ctx.now + s);
    }
    if (at === from) {
      const transferStart = lacksImage ? imageAt - transfer : null;
      return { ok: true, plan: { from, start: from + bootSeconds, end: from + length, nodes: found.choice.nodes, preempted: describe(ctx, found.victims, from), transferStart } };
    }
    from = at;
  }
  return refuse("insufficient-capacity", `${req.nodes} nodes cannot be freed now, even by preempting every preemptible lease`);
}

// src/core/negotiation.ts
function asExactNow(ctx, req) {
  return { ...req, requestedStart: ctx.now + ctx.config.bootSeconds };
}
function exactOffer(ctx, original, req, policy, reason, maxAlternatives) {
  const later = earliestExactStart(ctx, req, policy);
  const alternatives = [];
  const offer = (kind, request, plan) => {
    if (alternatives.length < maxAlternatives) alternatives.push({ kind, request, start: plan.start, end: plan.end });
  };
  if (later) offer("later-start", { ...original, kind: original.kind === "immediate" ? "exact" : original.kind, requestedStart: later.start }, later);
  if (reason !== "too-late") {
    const fewer = largestFeasible(1, req.nodes - 1, (k) => planExact(ctx, { ...req, nodes: k }, policy));
    if (fewer) offer("fewer-nodes", { ...original, nodes: fewer.value }, fewer.plan);
    if (reason === "insufficient-capacity") {
      const shorter = largestFeasible(1, req.duration - 1, (d) => planExact(ctx, { ...req, duration: d, realDuration: Math.min(req.realDuration ?? d, d) }, policy));
      if (shorter) offer("shorter", { ...original, duration: shorter.value, realDuration: Math.min(original.realDuration ?? shorter.value, shorter.value) }, shorter.plan);
    }
  }
  return { earliestStart: later?.start ?? null, alternatives };
}
function urgentOffer(ctx, req, policy, maxAlternatives) {
  const exact = { ...asExactNow(ctx, req), kind: "exact" };
  const planned = planExact(ctx, exact, policy);
  if (planned.ok) return { earliestStart: planned.plan.start, alternatives: [{ kind: "later-start", request: exact, start: planned.plan.start, end: planned.plan.end }] };
  return exactOffer(ctx, exact, exact, policy, planned.reason, maxAlternatives);
}
function deadlineOffer(ctx, req, reason) {
  const earliest = reason === "insufficient-capacity" ? planEarliestCompletion(ctx, req) : null;
  const alternatives = earliest?.ok ? [{ kind: "later-deadline", request: { ...req, deadline: earliest.plan.end }, start: earliest.plan.pieces[0].from + ctx.config.bootSeconds, end: earliest.plan.end }] : [];
  return { earliestStart: null, alternatives };
}
function earliestExactStart(ctx, req, policy) {
  const boot = ctx.config.bootSeconds;
  const first = Math.max(req.requestedStart ?? ctx.now, ctx.now + boot);
  const candidates = /* @__PURE__ */ new Set([first]);
  for (const end of ctx.table.endsAfter(first - boot)) candidates.add(end + boot);
  if (ctx.costs.needsTransfer(req)) {
    const secs = ctx.costs.transferSeconds(req);
    candidates.add(ctx.now + secs + boot);
    for (const t of ctx.link.scheduled) candidates.add(t.end + secs + boot);
  }
  for (const start of [...candidates].filter((t) => t >= first).sort((a, b) => a - b)) {
    const planned = planExact(ctx, { ...req, requestedStart: start }, policy);
    if (planned.ok) return planned.plan;
    if (planned.reason === "exceeds-pool") return null;
  }
  return null;
}
function largestFeasible(lo, hi, plan) {
  if (hi < lo) return null;
  const low = plan(lo);
  if (!low.ok) return null;
  let best = { value: lo, plan: low.plan };
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const p = plan(mid);
    if (p.ok) {
      best = { value: mid, plan: p.plan };
      lo = mid;
    } else hi = mid - 1;
  }
  return best;
}
function quoteOf(plan) {
  const req = plan.request;
  const head = { leaseId: req.id, kind: req.kind };
  if (!plan.ok) {
    const occurrences = plan.occurrences?.map(occurrenceQuote);
    if (!occurrences) return { ok: false, ...head, reason: plan.reason, message: plan.message, earliestStart: plan.earliestStart, alternatives: plan.alternatives };
    const failed = occurrences.filter((q) => !q.ok);
    return {
      ok: false,
      ...head,
      reason: plan.reason,
      earliestStart: null,
      alternatives: [],
      occurrences,
      message: `${failed.length} of ${occurrences.length} occurrences do not fit (${failed.slice(0, 5).map((q) => q.id).join(", ")}${failed.length > 5 ? ", ..." : ""}); ask with acceptPartial to take the others`
    };
  }
  const p = plan.placement;
  switch (p.kind) {
    case "queue":
      return { ok: true, ...head, state: "queued", start: p.estimate.start, end: p.estimate.end, nodes: [], preempted: [], note: p.estimate.note };
    case "reservation": {
      const r = p.reservation;
      return { ok: true, ...head, state: "scheduled", start: r.start, end: r.end, nodes: r.nodes, preempted: r.preemptions };
    }
    case "series": {
      const fits = p.occurrences.filter((o) => o.reservation !== null).map((o) => o.reservation);
      return {
        ok: true,
        ...head,
        state: "scheduled",
        start: fits[0].start,
        end: fits[fits.length - 1].end,
        nodes: fits[0].nodes,
        preempted: fits.flatMap((r) => r.preemptions),
        occurrences: p.occurrences.map(occurrenceQuote)
      };
    }
  }
}
function occurrenceQuote(o) {
  const start = o.request.requestedStart;
  return o.reservation ? { id: o.request.id, start, ok: true } : { id: o.request.id, start, ok: false, reason: o.reason, message: o.message };
}

// src/core/periodic.ts
var MAX_OCCURRENCES = 1e3;
var occurrenceId = (id, k) => `${id}#${k}`;
function expandOccurrences(req, config) {
  const r = req.recurrence;
  if (!r) return "a periodic lease needs a recurrence (period, and count or until)";
  if (req.requestedStart === null) return "a periodic lease needs the start of its first occurrence";
  if (!Number.isInteger(r.period) || r.period <= 0) return `period ${r.period} is not a whole number of seconds > 0`;
  const length = config.bootSeconds + req.duration + config.shutdownSeconds;
  if (r.period < length) return `period ${r.period} s is shorter than one occurrence (${length} s with boot and shutdown): occurrences would overlap`;
  if (r.count === void 0 === (r.until === void 0)) return "give exactly one of count or until";
  const count = r.count ?? Math.floor((r.until - req.requestedStart - 1) / r.period) + 1;
  if (!Number.isInteger(count) || count < 1) return r.count !== void 0 ? `count ${r.count} is not a whole number >= 1` : `until ${r.until} is not after the first start ${req.requestedStart}`;
  if (count > MAX_OCCURRENCES) return `${count} occurrences; at most ${MAX_OCCURRENCES} are accepted in one request`;
  const { recurrence: _, ...single } = req;
  return Array.from({ length: count }, (_2, i) => ({ ...single, id: occurrenceId(req.id, i + 1), requestedStart: req.requestedStart + i * r.period }));
}
function planOccurrences(ctx, occurrences, policy) {
  const link = ctx.link.clone();
  const whatIf = Object.create(ctx, { link: { value: link } });
  return occurrences.map((request) => {
    const planned = planExact(whatIf, request, policy);
    if (planned.ok && planned.plan.transferStart !== null) {
      const start = planned.plan.transferStart;
      link.add({ leaseId: request.id, imageId: request.image.id, start, end: start + ctx.costs.transferSeconds(request) });
    }
    return { request, planned };
  });
}

// src/core/vm-chain.ts
function layoutChain(config, costs, req, work, pieces) {
  const segments = [];
  let remaining = work;
  let endsIn = "finish";
  const suspend = costs.suspendSeconds(req);
  for (const piece of pieces) {
    let t = piece.from;
    const add = (kind, seconds2) => {
      if (seconds2 <= 0) return;
      segments.push({ kind, start: t, end: t + seconds2, nodes: piece.nodes });
      t += seconds2;
    };
    if (piece.first) add("boot", config.bootSeconds);
    else {
      if (piece.moved) add("migrate", costs.migrateSeconds(req));
      add("resume", costs.resumeSeconds(req));
    }
    if (piece.last === true || piece.last === "if-work-fits" && piece.end - suspend - t >= remaining) {
      add("run", remaining);
      add("shutdown", Math.min(config.shutdownSeconds, piece.end - t));
      endsIn = "finish";
    } else {
      const run = piece.end - suspend - t;
      add("run", run);
      add("suspend", suspend);
      remaining -= run;
      endsIn = "suspend";
    }
  }
  return { segments, endsIn };
}
function placeChain(s, lease, layout) {
  lease.chain = [];
  lease.state = "scheduled";
  s.changed?.add(lease);
  lease.chain = layout.segments.map((seg) => place(s, lease, seg.kind, seg.start, seg.end, seg.nodes));
  lease.chainEndsIn = layout.endsIn;
}
function moveImage(s, lease, move, now) {
  if (move === null) return;
  if (move.sendAt !== null) s.images.send(lease, move.nodes, move.sendAt, now);
  else s.images.useCached(lease, move.nodes, now);
}

// src/core/request-planner.ts
var DECIDING = { quoting: false };
var QUEUED = Object.freeze({ kind: "queue" });
function planRequest(ctx, req, policies, detail) {
  const { now: at, version } = ctx;
  const accept = (placement) => ({ request: req, at, version, ok: true, placement });
  const refuse2 = (reason, message, offer) => ({ request: req, at, version, ok: false, reason, message, earliestStart: offer?.earliestStart ?? null, alternatives: offer?.alternatives ?? [] });
  const max = detail.quoting ? detail.maxAlternatives : 0;
  const fit = ctx.nodesThatFit(req.perNode.cpu, req.perNode.memoryMiB);
  if (req.nodes > fit) return refuse2("exceeds-pool", `asks for ${req.nodes} nodes with ${req.perNode.cpu} CPU and ${req.perNode.memoryMiB} MiB each; the pool has ${fit} such nodes`);
  switch (req.kind) {
    case "best-effort": {
      if (!detail.quoting) return accept(QUEUED);
      const length = ctx.costs.wholeChain(req.duration);
      const from = ctx.table.earliestWindow(req.nodes, req.perNode.cpu, req.perNode.memoryMiB, length, ctx.now);
      const note = `queued behind ${detail.queueLength} waiting leases; the start is the earliest the pool has room, not a promise`;
      return accept({ kind: "queue", estimate: { start: from + ctx.config.bootSeconds, end: from + length, note } });
    }
    case "exact":
    case "immediate": {
      const asPlanned = req.kind === "exact" ? req : asExactNow(ctx, req);
      const policy = req.kind === "exact" ? policies.preemption : null;
      const planned = planExact(ctx, asPlanned, policy);
      if (planned.ok) return accept({ kind: "reservation", reservation: reservationOf(ctx, req, planned.plan) });
      return refuse2(planned.reason, planned.message, detail.quoting ? exactOffer(ctx, req, asPlanned, policy, planned.reason, max) : void 0);
    }
    case "urgent": {
      const planned = planUrgent(ctx, req, policies.urgent);
      if (planned.ok) return accept({ kind: "reservation", reservation: reservationOf(ctx, req, planned.plan) });
      return refuse2(planned.reason, planned.message, detail.quoting ? urgentOffer(ctx, req, policies.preemption, max) : void 0);
    }
    case "deadline": {
      const planned = planDeadline(ctx, req);
      if (planned.ok) return accept({ kind: "reservation", reservation: deadlineReservation(ctx, req, planned.plan) });
      return refuse2(planned.reason, planned.message, detail.quoting ? deadlineOffer(ctx, req, planned.reason) : void 0);
    }
    case "periodic":
      return planSeries(ctx, req, policies.preemption, accept, refuse2);
  }
}
function planSeries(ctx, req, policy, accept, refuse2) {
  const expanded = expandOccurrences(req, ctx.config);
  if (typeof expanded === "string") return refuse2("invalid", expanded);
  const occurrences = planOccurrences(ctx, expanded, policy).map(({ request, planned }) => planned.ok ? { request, reservation: reservationOf(ctx, request, planned.plan) } : { request, reservation: null, reason: planned.reason, message: planned.message });
  const refused = occurrences.filter((o) => o.reservation === null);
  const partial = req.recurrence?.acceptPartial === true;
  if (refused.length === 0 || partial && refused.length < occurrences.length) return accept({ kind: "series", occurrences });
  const first = refused[0];
  return { ...refuse2(first.reason, `${refused.length} of ${occurrences.length} occurrences do not fit, the first (${first.request.id}) because: ${first.message}`), occurrences };
}
function reservationOf(ctx, req, plan) {
  const chain = layoutChain(ctx.config, ctx.costs, req, req.duration, [{ from: plan.from, end: plan.end, nodes: plan.nodes, first: true, moved: false, last: true }]);
  const image = plan.transferStart !== null ? { nodes: plan.nodes, sendAt: plan.transferStart } : req.image && ctx.config.images === "transfer" ? { nodes: plan.nodes, sendAt: null } : null;
  return { from: plan.from, chain, image, preemptions: plan.preempted, displacesTentative: false, start: plan.start, end: plan.end, nodes: plan.nodes };
}
function deadlineReservation(ctx, req, plan) {
  const first = plan.pieces[0];
  const chain = layoutChain(ctx.config, ctx.costs, req, req.duration, plan.pieces);
  const image = plan.transferStart !== null ? { nodes: first.nodes, sendAt: plan.transferStart } : ctx.costs.needsTransfer(req) ? { nodes: first.nodes, sendAt: null } : null;
  return {
    from: first.from,
    chain,
    image,
    preemptions: [],
    displacesTentative: true,
    start: first.from + (first.first ? ctx.config.bootSeconds : 0),
    end: plan.end,
    nodes: first.nodes
  };
}

// src/core/admission.ts
function isCurrent(s, plan, req) {
  return plan.request === req && plan.at === s.now && plan.version === s.version;
}
function currentPlan(s, req, policies, quoted, observer) {
  if (quoted !== void 0 && isCurrent(s, quoted, req)) return quoted;
  const plan = planRequest(s, req, policies, DECIDING);
  observer.planned?.(plan);
  return plan;
}
function reject(s, lease, reason, message) {
  lease.state = "rejected";
  lease.rejectReason = reason;
  lease.rejectMessage = message;
  s.changed?.add(lease);
  return { ok: false, leaseId: lease.req.id, reason, message };
}
function applyPlan(s, lease, plan, policies, observer) {
  if (!isCurrent(s, plan, lease.req)) throw new Error(`internal: plan for ${plan.request.id} made at ${plan.at} (version ${plan.version}) applied at ${s.now} (version ${s.version})`);
  observer.applied?.(plan);
  if (!plan.ok) {
    const decision = reject(s, lease, plan.reason, plan.message);
    return plan.occurrences ? { ...decision, refusedOccurrences: plan.occurrences.filter((o) => o.reservation === null).map((o) => o.request.id) } : decision;
  }
  const p = plan.placement;
  switch (p.kind) {
    case "queue":
      enqueue(s, lease);
      return { ok: true, leaseId: lease.req.id, state: "queued" };
    case "reservation":
      return placeReservation(s, lease, p.reservation);
    case "series":
      return placeSeries(s, lease, plan.version, p.occurrences, policies);
  }
}
function placeReservation(s, lease, r) {
  const now = s.now;
  if (r.displacesTentative) {
    for (const l of [...s.future].sort((a, b) => a.seq - b.seq)) if (l.chain.length > 0 && l.chain[0].start > now) unschedule(s, l, now);
  }
  for (const p of r.preemptions) preempt(s, s.book.mustGet(p.leaseId), p.how, r.from, now);
  placeChain(s, lease, r.chain);
  moveImage(s, lease, r.image, now);
  return { ok: true, leaseId: lease.req.id, state: "scheduled", start: r.start, end: r.end, nodes: r.nodes, preempted: r.preemptions };
}
function placeSeries(s, lease, version, occurrences, policies) {
  const ids = [];
  const refused = [];
  for (const o of occurrences) {
    const part = s.book.add(o.request, o.request.duration);
    ids.push(o.request.id);
    if (o.reservation === null) {
      refused.push(o.request.id);
      reject(s, part, "insufficient-capacity", "this occurrence does not fit");
      continue;
    }
    let r = o.reservation;
    if (s.version !== version) {
      const again = planExact(s, o.request, policies.preemption);
      if (!again.ok) throw new Error(`internal: occurrence ${o.request.id} fitted when planned but not when placed: ${again.message}`);
      r = reservationOf(s, o.request, again.plan);
    }
    placeReservation(s, part, r);
  }
  lease.state = "expanded";
  lease.occurrenceIds = ids;
  s.changed?.add(lease);
  return { ok: true, leaseId: lease.req.id, state: "scheduled", occurrences: ids.filter((id) => !refused.includes(id)), refusedOccurrences: refused };
}

// src/core/best-effort-queue.ts
function processQueue(s, placement, now, placed) {
  if (s.queue.length === 0) return;
  const q = s.queue;
  s.queue = [];
  let w = 0;
  let i = 0;
  for (; i < q.length; i++) {
    const allowFuture = canPlaceInFuture(s);
    if (!allowFuture && s.table.nodesNotFullNow === 0) break;
    const lease = q[i];
    const hopeless = !allowFuture && placement.onlyNow(lease) && lease.req.nodes > s.table.nodesNotFullNow;
    if (!hopeless && scheduleBestEffort(s, placement, lease, now, allowFuture)) {
      placed(lease);
      continue;
    }
    q[w++] = lease;
    if (s.config.backfill === "none") {
      i++;
      break;
    }
  }
  if (w < i) {
    for (; i < q.length; i++) q[w++] = q[i];
    q.length = w;
  }
  for (const l of s.queue) insertSorted(q, l);
  s.queue = q;
}
function canPlaceInFuture(s) {
  const b = s.config.backfill;
  return b === "conservative" || b === "easy" && s.future.size < 1;
}
function placeNear(s, placement, lease, t, now) {
  if (t === now && lease.req.nodes > s.table.nodesNotFullNow) return false;
  if (!placement.windowAtLeast(lease, t, now)) return false;
  const spec2 = placement.findChainAt(lease, t, now, true);
  if (!spec2) return false;
  placeQueued(s, lease, spec2, now);
  return true;
}
function scheduleBestEffort(s, placement, lease, now, allowFuture) {
  const last = placement.lastNearTime(lease, now);
  if (placeNear(s, placement, lease, now, now)) return true;
  if (last > now && placeNear(s, placement, lease, last, now)) return true;
  if (!allowFuture) return false;
  const bound = placement.earliestPossibleStart(lease, last, now);
  if (bound === Infinity) return false;
  let spec2 = placement.findChainAt(lease, bound, now, true);
  for (const t of spec2 ? [] : s.table.endsAfter(bound)) {
    spec2 = placement.findChainAt(lease, t, now, true);
    if (spec2) break;
  }
  if (spec2) {
    lease.lastPlannedStart = null;
    placeQueued(s, lease, spec2, now);
    lease.inFuture = true;
    s.future.add(lease);
    return true;
  }
  const stranded = lease.state === "suspended" && !s.config.migration && (lease.suspendedOn ?? []).some((n) => !s.table.isOpen(n));
  if (stranded) return false;
  throw new Error(`internal: no place found for best-effort lease ${lease.req.id} even after every reservation ends`);
}
function placeQueued(s, lease, spec2, now) {
  const suspended = lease.state === "suspended";
  const piece = { from: spec2.t, end: spec2.end, nodes: spec2.nodes, first: !suspended, moved: spec2.moved, last: spec2.full || "if-work-fits" };
  placeChain(s, lease, layoutChain(s.config, s.costs, lease.req, remainingWork(lease), [piece]));
  const cached2 = lease.req.image && s.config.images === "transfer" && !suspended;
  moveImage(s, lease, spec2.transferStart !== null ? { nodes: spec2.nodes, sendAt: spec2.transferStart } : cached2 ? { nodes: spec2.nodes, sendAt: null } : null, now);
  if (suspended) lease.suspendedOn = null;
}
function reevaluateFuture(s, placement, now) {
  s.mustReevaluate = false;
  const freed = { until: s.table.freedUntil, nodes: s.table.freedNodes };
  s.table.forgetFreed();
  if (s.future.size === 0) return;
  if (s.config.backfill === "easy" && s.future.size === 1) {
    const [head] = s.future;
    if ((s.queue.length === 0 || queueBefore(head, s.queue[0])) && placement.staysPut(head, now, freed)) return;
  }
  const again = [...s.future].sort((a, b) => a.seq - b.seq);
  for (const lease of again) {
    if (lease.chain.length === 0 || lease.chain[0].start <= now) continue;
    lease.lastPlannedStart = lease.chain[0].start;
    unschedule(s, lease, now);
  }
}

// src/core/boundaries.ts
function nextBoundary(s) {
  const heap = s.boundaries;
  for (; ; ) {
    const t = heap.peekTime();
    if (t === Infinity) return t;
    for (let u = t; u !== Infinity; u = heap.peekTime()) {
      if (isLive(heap.peek(), u)) return t;
      heap.pop();
    }
  }
}
function isLive(seg, t) {
  if (seg.removed) return false;
  if (seg.active) return seg.end === t;
  return seg.start === t && seg.end > t;
}
function applyBoundaries(s, now, out) {
  const heap = s.boundaries;
  while (heap.peekTime() <= now) {
    const t = heap.peekTime();
    const seg = heap.pop();
    if (!isLive(seg, t)) continue;
    if (t < now) throw new Error(`internal: missed a boundary at ${t} (now ${now})`);
    if (seg.active) endSegment(s, seg, out);
    else if (s.lost.size > 0 && seg.nodes.some((n) => s.lost.has(n))) failOnLostNode(s, seg, now, out);
    else startSegment(s, seg);
  }
}
function endSegment(s, seg, out) {
  const lease = s.book.mustGet(seg.leaseId);
  s.table.deactivate(seg);
  out.ended.push(seg);
  s.changed?.add(lease);
  if (seg.kind === "run") lease.done += seg.end - seg.start;
  removeFrom(lease.chain, seg);
  if (seg.kind === "suspend" && lease.chain.length > 0) {
    lease.suspensions++;
    lease.state = "scheduled";
  }
  settleIfChainDone(s, lease, seg.end, seg.nodes);
}
function failOnLostNode(s, seg, now, out) {
  const lease = s.book.mustGet(seg.leaseId);
  const names = seg.nodes.filter((n) => s.lost.has(n)).map((n) => `'${s.table.nodes[n].id}'`).join(", ");
  failLease(s, lease, now, "node-unavailable", `its ${seg.kind} was due to begin at ${now} on node ${names}, which is still unavailable`);
  out.failed.push(lease);
}

// src/core/boundary-heap.ts
var BoundaryHeap = class {
  times = [];
  orders = [];
  seqs = [];
  items = [];
  counter = 0;
  get size() {
    return this.items.length;
  }
  push(time, order, item) {
    this.times.push(time);
    this.orders.push(order);
    this.seqs.push(this.counter++);
    this.items.push(item);
    this.up(this.items.length - 1);
  }
  peek() {
    return this.items[0];
  }
  peekTime() {
    return this.items.length === 0 ? Infinity : this.times[0];
  }
  pop() {
    const n = this.items.length;
    if (n === 0) return void 0;
    const top = this.items[0];
    this.move(n - 1, 0);
    this.times.pop();
    this.orders.pop();
    this.seqs.pop();
    this.items.pop();
    if (this.items.length > 0) this.down(0);
    return top;
  }
  less(a, b) {
    return this.times[a] < this.times[b] || this.times[a] === this.times[b] && (this.orders[a] < this.orders[b] || this.orders[a] === this.orders[b] && this.seqs[a] < this.seqs[b]);
  }
  move(from, to) {
    this.times[to] = this.times[from];
    this.orders[to] = this.orders[from];
    this.seqs[to] = this.seqs[from];
    this.items[to] = this.items[from];
  }
  swap(a, b) {
    const t = this.times[a];
    this.times[a] = this.times[b];
    this.times[b] = t;
    const o = this.orders[a];
    this.orders[a] = this.orders[b];
    this.orders[b] = o;
    const s = this.seqs[a];
    this.seqs[a] = this.seqs[b];
    this.seqs[b] = s;
    const i = this.items[a];
    this.items[a] = this.items[b];
    this.items[b] = i;
  }
  up(i) {
    while (i > 0) {
      const p = i - 1 >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  down(i) {
    const n = this.items.length;
    for (; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
};

// src/core/image-cache.ts
var ImageCache = class {
  /** `onChange` hears of every image that arrives in or leaves this cache. */
  constructor(limitMiB, onChange = () => {
  }) {
    this.limitMiB = limitMiB;
    this.onChange = onChange;
  }
  limitMiB;
  onChange;
  entries = /* @__PURE__ */ new Map();
  usedMiB = 0;
  /** When the image is (or will be) on this node, or undefined if it is not. */
  readyAt(imageId) {
    return this.entries.get(imageId)?.readyAt;
  }
  /** Takes a reference, adding the image (ready at `readyAt`) if absent. False if it cannot be cached. */
  acquire(imageId, sizeMiB, readyAt, now) {
    const e = this.entries.get(imageId);
    if (e) {
      e.refs++;
      e.lastUsed = now;
      e.readyAt = Math.min(e.readyAt, readyAt);
      return true;
    }
    if (this.usedMiB - this.unreferencedMiB() + sizeMiB > this.limitMiB) return false;
    while (this.usedMiB + sizeMiB > this.limitMiB) {
      if (!this.evictOne()) return false;
    }
    this.entries.set(imageId, { sizeMiB, readyAt, refs: 1, lastUsed: now });
    this.usedMiB += sizeMiB;
    this.onChange(imageId, true);
    return true;
  }
  /** Drops a reference; an image that never arrived is forgotten once unreferenced. */
  release(imageId, now) {
    const e = this.entries.get(imageId);
    if (!e) return;
    e.refs = Math.max(0, e.refs - 1);
    e.lastUsed = Math.max(e.lastUsed, now);
    if (e.refs === 0 && e.readyAt > now) this.drop(imageId, e);
  }
  unreferencedMiB() {
    let sum = 0;
    for (const e of this.entries.values()) if (e.refs === 0) sum += e.sizeMiB;
    return sum;
  }
  evictOne() {
    let victim = null;
    let oldest = Infinity;
    for (const [id, e] of this.entries) {
      if (e.refs === 0 && e.lastUsed < oldest) {
        oldest = e.lastUsed;
        victim = id;
      }
    }
    if (victim === null) return false;
    this.drop(victim, this.entries.get(victim));
    return true;
  }
  drop(id, e) {
    this.entries.delete(id);
    this.usedMiB -= e.sizeMiB;
    this.onChange(id, false);
  }
};

// src/core/image-deployment.ts
var ImageDeployment = class {
  constructor(nodeCount, cacheMiB, costs, link) {
    this.cacheMiB = cacheMiB;
    this.costs = costs;
    this.link = link;
    this.caches = [];
    for (let n = 0; n < nodeCount; n++) this.addNode();
  }
  cacheMiB;
  costs;
  link;
  caches;
  holders = /* @__PURE__ */ new Map();
  changes = 0;
  /** Bumped by every change to what the caches hold or will hold. */
  get version() {
    return this.changes;
  }
  /** An empty cache for a node added to the pool (the next index). */
  addNode() {
    this.changes++;
    const n = this.caches.length;
    this.caches.push(new ImageCache(this.cacheMiB, (image, present) => this.note(image, n, present)));
  }
  /** Whether the lease's image is on `node` by `t` (always, for a lease that needs none sent). */
  readyBy(req, node, t) {
    if (!this.costs.needsTransfer(req)) return true;
    const at = this.caches[node].readyAt(req.image.id);
    return at !== void 0 && at <= t;
  }
  /** When the image is (or will be) on the node, undefined if it is not there. */
  readyAt(imageId, node) {
    return this.caches[node].readyAt(imageId);
  }
  /** How many nodes hold the image or are being sent it. */
  holderCount(imageId) {
    return this.holders.get(imageId)?.size ?? 0;
  }
  /** Sends the lease's image to `nodes` over the link from `start`, and has it referenced there. */
  send(lease, nodes2, start, now) {
    this.changes++;
    const img = lease.req.image;
    const end = start + this.costs.transferSeconds(lease.req);
    this.link.add({ leaseId: lease.req.id, imageId: img.id, start, end });
    lease.imageRefs = [...lease.imageRefs, ...nodes2.filter((n) => this.caches[n].acquire(img.id, img.sizeMiB, end, now))];
  }
  /** References the lease's image where it is already cached. */
  useCached(lease, nodes2, now) {
    this.changes++;
    const img = lease.req.image;
    lease.imageRefs = [...lease.imageRefs, ...nodes2.filter((n) => this.caches[n].acquire(img.id, img.sizeMiB, now, now))];
  }
  release(lease, now) {
    if (lease.imageRefs.length > 0) this.changes++;
    const img = lease.req.image;
    if (img) for (const n of lease.imageRefs) this.caches[n].release(img.id, now);
    lease.imageRefs = [];
  }
  note(imageId, node, present) {
    let holders = this.holders.get(imageId);
    if (!holders) this.holders.set(imageId, holders = /* @__PURE__ */ new Set());
    if (present) holders.add(node);
    else holders.delete(node);
  }
};

// src/core/lease-book.ts
var LeaseBook = class {
  byId = /* @__PURE__ */ new Map();
  order = [];
  seq = 0;
  /** Held leases, by when their holds expire (ties: the order they were held). */
  holds = [];
  has(id) {
    return this.byId.has(id);
  }
  get(id) {
    return this.byId.get(id);
  }
  /** A lease the scheduler itself refers to: not finding it is a bug. */
  mustGet(id) {
    const l = this.byId.get(id);
    if (!l) throw new Error(`internal: unknown lease ${id}`);
    return l;
  }
  all() {
    return this.order;
  }
  /** Records a new lease, numbered in submission order. */
  add(req, work) {
    const lease = newLeaseRecord(req, this.seq++, work);
    this.byId.set(req.id, lease);
    this.order.push(lease);
    return lease;
  }
  /** A lease and, for a periodic one, its occurrences: the records that hold reservations. */
  partsOf(lease) {
    return lease.occurrenceIds ? lease.occurrenceIds.map((id) => this.mustGet(id)) : [lease];
  }
  /** When the next hold runs out, Infinity if none. */
  get nextExpiry() {
    return this.holds[0]?.heldUntil ?? Infinity;
  }
  hold(lease, until) {
    lease.heldUntil = until;
    let i = this.holds.length;
    while (i > 0 && this.holds[i - 1].heldUntil > until) i--;
    this.holds.splice(i, 0, lease);
  }
  /** Ends a lease's hold (committed, cancelled). */
  unhold(lease) {
    this.holds.splice(this.holds.indexOf(lease), 1);
    lease.heldUntil = null;
  }
  /** Takes out the leases whose holds have run out by `now`, in expiry order. */
  takeExpired(now) {
    const expired = [];
    while (this.holds.length > 0 && this.holds[0].heldUntil <= now) {
      const lease = this.holds.shift();
      lease.heldUntil = null;
      expired.push(lease);
    }
    return expired;
  }
};

// src/core/lease-costs.ts
var LeaseCosts = class {
  constructor(config) {
    this.config = config;
  }
  config;
  needsTransfer(req) {
    return this.config.images === "transfer" && req.image !== void 0 && req.image.sizeMiB > 0;
  }
  transferSeconds(req) {
    return secondsToMove(req.image?.sizeMiB ?? 0, this.config.imageBandwidthMBps);
  }
  suspendSeconds(req) {
    return secondsToMove(req.perNode.memoryMiB, this.config.suspendRateMBps);
  }
  resumeSeconds(req) {
    return secondsToMove(req.perNode.memoryMiB, this.config.resumeRateMBps);
  }
  /** A cold migration moves the saved memory and the disk image. */
  migrateSeconds(req) {
    return secondsToMove(req.perNode.memoryMiB + (req.image?.sizeMiB ?? 0), this.config.migrateBandwidthMBps);
  }
  /** The shortest run worth starting when the run may be cut short: its overheads, times (1 + factor). */
  suspendThreshold(req, resuming) {
    const overhead = this.suspendSeconds(req) + (resuming ? this.resumeSeconds(req) : 0);
    return Math.max(1, overhead * (1 + this.config.suspendThresholdFactor));
  }
  /** Boot, run and shutdown of a fresh lease whose run takes `work` seconds. */
  wholeChain(work) {
    return this.config.bootSeconds + work + this.config.shutdownSeconds;
  }
};

// src/core/freed-nodes.ts
var FreedNodes = class {
  /** The latest instant up to which capacity was given back; -Infinity if none was, Infinity if a node was added or opened. */
  until = -Infinity;
  list = new Int32Array(64);
  spare = new Int32Array(64);
  count = 0;
  tooMany = false;
  /** Capacity was given back on `nodes` up to `end`; more than `limit` nodes since the last forget are not listed. */
  note(nodes2, end, limit) {
    this.until = Math.max(this.until, end);
    if (this.tooMany) return;
    if (this.count + nodes2.length > limit) {
      this.tooMany = true;
      return;
    }
    if (this.count + nodes2.length > this.list.length) {
      const bigger = new Int32Array(Math.max(this.list.length * 2, this.count + nodes2.length));
      bigger.set(this.list.subarray(0, this.count));
      this.list = bigger;
    }
    for (const n of nodes2) this.list[this.count++] = n;
  }
  /** The nodes noted (one may be listed more than once), or null if too many were. */
  get nodes() {
    return this.tooMany ? null : this.list.subarray(0, this.count);
  }
  forget() {
    const spare = this.spare;
    this.spare = this.list;
    this.list = spare;
    this.count = 0;
    this.tooMany = false;
    this.until = -Infinity;
  }
};

// src/core/free-windows.ts
function freeWindows(table, n, from, cpu, mem, ignore) {
  const spec2 = table.nodes[n];
  if (!table.isOpen(n) || cpu > spec2.cpu + EPS || mem > spec2.memoryMiB + EPS) return [];
  const cal = table.reservationsOn(n);
  const ignoring = ignore !== void 0 && ignore.size > 0 && cal.some((s) => ignore.has(s.leaseId));
  const gaps = ignoring ? null : exclusiveGaps(cal, spec2, from, cpu, mem);
  if (gaps !== null) return gaps;
  const out = [];
  let t = from;
  for (let guard = 0; guard < 1e5; guard++) {
    const until = table.freeUntil(n, t, cpu, mem, Infinity, ignoring ? ignore : void 0);
    if (until > t) {
      out.push([t, until]);
      if (until === Infinity) return out;
      t = until;
    }
    const next = nextReleaseAfter(cal, t, ignoring ? ignore : void 0);
    if (next === Infinity) return out;
    t = next;
  }
  throw new Error(`internal: node ${n} has too many windows`);
}

// src/core/node-memo.ts
var NodeMemo = class {
  cpu = Number.NaN;
  mem = Number.NaN;
  at = new Float64Array(0);
  value = new Float64Array(0);
  /** The table's change count when the answer was computed; -1 when there is none. */
  stamp = new Float64Array(0);
  /** Forgets every answer unless they were for this shape. */
  forShape(cpu, mem, size) {
    if (cpu === this.cpu && mem === this.mem && size === this.stamp.length) return;
    this.cpu = cpu;
    this.mem = mem;
    this.at = new Float64Array(size);
    this.value = new Float64Array(size);
    this.stamp = new Float64Array(size).fill(-1);
  }
  /**
   * "From when has node n room for good, from t on" (null as NaN): the answer v at t0 is
   * max(t, v) at any t >= t0, as reservations ending in between only make room sooner where the
   * ones left still follow one another. A null (room comes and goes) holds only at t0.
   */
  roomAt(n, t, changed) {
    if (!this.holds(n, changed)) return void 0;
    const t0 = this.at[n];
    const v = this.value[n];
    if (t === t0) return v;
    if (t > t0 && !Number.isNaN(v)) return v > t ? v : t;
    return void 0;
  }
  /**
   * "Until when can node n hold the shape from t": the answer v > t0 at t0 holds at every t in
   * [t0, v), the node having room throughout [t0, v) and not at v.
   */
  freeAt(n, t, changed) {
    if (!this.holds(n, changed)) return void 0;
    const t0 = this.at[n];
    const v = this.value[n];
    if (t === t0 || t > t0 && t < v) return v;
    return void 0;
  }
  /**
   * "Until when can node n hold the shape from t", told from a room-for-good answer v at t0 <= t
   * (this memo keeping those): the reservations from t0 follow one another up to v and none can be
   * shared, so the node is taken at t < v, and free for good from v.
   */
  freeFromRoom(n, t, changed, cpu, mem) {
    if (cpu !== this.cpu || mem !== this.mem || !this.holds(n, changed)) return void 0;
    const v = this.value[n];
    if (Number.isNaN(v) || t < this.at[n]) return void 0;
    return t >= v ? Infinity : t;
  }
  /**
   * Whether node n's answer was computed since its calendar last changed. Written so that a node
   * beyond the arrays says no: a memo sized for the pool before a node was added (freeFromRoom
   * reads the room memo without resizing it) read undefined there, which `stamp < changed` took
   * for a good answer, and a discarded plan then changed later placements.
   */
  holds(n, changed) {
    return this.stamp[n] >= changed;
  }
  remember(n, t, v, stamp) {
    this.at[n] = t;
    this.value[n] = v;
    this.stamp[n] = stamp;
  }
};

// src/core/room-index.ts
var RoomIndex = class {
  constructor(table, cpu, mem) {
    this.table = table;
    this.cpu = cpu;
    this.mem = mem;
  }
  table;
  cpu;
  mem;
  value = new Float64Array(0);
  /**
   * Of node n, from 4n on: the instant its answer is of, the table's version then, and for a NaN
   * answer what roomExplained tells: the instant before which it stays NaN while the node is untouched,
   * and, for a gap, where the reservations that follow one another end before it. Side by side rather
   * than in an array each: a refresh, 15 million of them on the whole SDSC log, then reads one line of
   * memory instead of three.
   */
  meta = new Float64Array(0);
  /**
   * The nodes whose answer was NaN when last computed (each listed once, as `listed` marks; one
   * whose answer has become a number since leaves at the next sweep), and the earliest of their
   * `until`s, at most: before it, none of them needs to be looked at again. The head of EASY's queue,
   * placed in the future, leaves its hundreds of nodes so until it begins.
   */
  notSimple = new Int32Array(0);
  notSimpleCount = 0;
  listed = new Uint8Array(0);
  sweepAt = Infinity;
  /** The latest instant an answer is of; Infinity until every node has been looked at. */
  latest = Infinity;
  /** How many answers are NaN. */
  nan = 0;
  /** The instant and node watched (watch), NaN when none is, and the counts kept for them. */
  watchAt = Number.NaN;
  watchBelow = 0;
  below = 0;
  early = 0;
  /**
   * Each node's answer at t: read node n's as max(t, values[n]), NaN when it is not simple
   * (roomForGoodFrom answers null). The array is the index's own, good until the next call.
   */
  from(t, changed) {
    this.at(t, changed);
    return this.value;
  }
  /** Brings the index up to date at t, the nodes touched since the last call being `changed`: the values and the order then answer for t. */
  at(t, changed) {
    const size = this.table.size;
    if (this.value.length !== size) this.resize(size);
    if (t < this.latest) {
      let latest = -Infinity;
      for (let n = 0; n < size; n++) {
        this.refresh(n, t);
        if (this.meta[4 * n] > latest) latest = this.meta[4 * n];
      }
      this.latest = latest;
      this.sweep(t);
      return this;
    }
    let any = false;
    for (let i = 0; i < changed.length; i++) any = this.refresh(changed[i], t) || any;
    if (t >= this.sweepAt) any = this.sweep(t) || any;
    if (any) this.latest = t;
    return this;
  }
  /** The answers as numbers, node by node (read as `from` says). */
  get values() {
    return this.value;
  }
  /**
   * For node n, whose answer at t is NaN for a gap before a reservation that begins at `at`: from when
   * it has room with that reservation and those after it left out (EASY's reservation, when no other
   * is still to begin). NaN when its answer is not so.
   */
  roomBeforeGap(n, t, at) {
    const m = 4 * n;
    const front = this.meta[m + 3];
    if (this.value[n] === this.value[n] || this.meta[m + 2] !== at || front !== front) return Number.NaN;
    return front > t ? front : t;
  }
  /** How many nodes have no simple answer. */
  get notSimpleNodes() {
    return this.nan;
  }
  /**
   * Keeps, from now on and as answers change, how many answers are below `at` (countBelow) and how
   * many nodes below `limit` have an answer at most `at` (earlyBelow): what would move EASY's
   * reservation from its start, asked each time it is checked while its start and last node stay.
   * Counting costs a pass over the pool, only when they change.
   */
  watch(at, limit) {
    if (at === this.watchAt && limit === this.watchBelow) return;
    this.watchAt = at;
    this.watchBelow = limit;
    this.recount();
  }
  /** How many answers are numbers below the instant watched. */
  get countBelow() {
    return this.below;
  }
  /** How many nodes below the node watched have an answer at most the instant watched. */
  get earlyBelow() {
    return this.early;
  }
  recount() {
    const { value, watchAt: at, watchBelow: limit } = this;
    let below = 0;
    let early = 0;
    for (let n = 0; n < value.length; n++) {
      const v = value[n];
      if (v < at) below++;
      if (n < limit && v <= at) early++;
    }
    this.below = below;
    this.early = early;
  }
  /** Looks again at the listed nodes, keeping those still not simple; answers whether any answer was recomputed. */
  sweep(t) {
    const { notSimple, listed, value, meta } = this;
    let any = false;
    let kept = 0;
    let sweepAt = Infinity;
    const count = this.notSimpleCount;
    for (let i = 0; i < count; i++) {
      const n = notSimple[i];
      any = this.refresh(n, t) || any;
      if (value[n] === value[n]) {
        listed[n] = 0;
        continue;
      }
      notSimple[kept++] = n;
      if (meta[4 * n + 2] < sweepAt) sweepAt = meta[4 * n + 2];
    }
    this.notSimpleCount = kept;
    this.sweepAt = sweepAt;
    return any;
  }
  /** Recomputes node n's answer if it may be out of date at t; answers whether it did. */
  refresh(n, t) {
    const { table, cpu, mem, value, meta } = this;
    const v = value[n];
    const m = 4 * n;
    if (meta[m + 1] >= table.touched[n] && t >= meta[m] && (v === v || t < meta[m + 2])) return false;
    let a = Infinity;
    if (table.fitsAtAll(n, cpu, mem)) {
      const cal = table.reservationsOn(n);
      const spec2 = table.nodes[n];
      a = roomExplained(cal, spec2, t, cpu, mem, meta, m + 2);
    }
    value[n] = a;
    meta[m] = t;
    meta[m + 1] = table.version;
    if (v !== v) this.nan--;
    if (a !== a) this.nan++;
    const at = this.watchAt;
    if (v < at) this.below--;
    if (a < at) this.below++;
    if (n < this.watchBelow) {
      if (v <= at) this.early--;
      if (a <= at) this.early++;
    }
    if (a !== a) {
      if (!this.listed[n]) {
        this.listed[n] = 1;
        this.notSimple[this.notSimpleCount++] = n;
      }
      if (meta[m + 2] < this.sweepAt) this.sweepAt = meta[m + 2];
    }
    return true;
  }
  resize(size) {
    this.value = new Float64Array(size);
    this.meta = new Float64Array(4 * size);
    for (let n = 0; n < size; n++) this.meta[4 * n + 1] = -1;
    this.listed = new Uint8Array(size);
    this.notSimple = new Int32Array(size);
    this.notSimpleCount = 0;
    this.sweepAt = Infinity;
    this.latest = Infinity;
    this.nan = 0;
    this.recount();
  }
};
var TouchLog = class {
  nodes = new Int32Array(64);
  listed = new Uint8Array(64);
  count = 0;
  note(n) {
    if (n >= this.listed.length) this.grow(n + 1);
    if (this.listed[n] === 1) return;
    this.listed[n] = 1;
    this.nodes[this.count++] = n;
  }
  /** The nodes noted since the last take; read it before the next note. */
  take() {
    const out = this.nodes.subarray(0, this.count);
    for (let i = 0; i < this.count; i++) this.listed[this.nodes[i]] = 0;
    this.count = 0;
    return out;
  }
  grow(size) {
    const length = Math.max(size, 2 * this.listed.length);
    const nodes2 = new Int32Array(length);
    nodes2.set(this.nodes.subarray(0, this.count));
    const listed = new Uint8Array(length);
    listed.set(this.listed);
    this.nodes = nodes2;
    this.listed = listed;
  }
};

// src/core/usage-now.ts
var UsageNow = class {
  /** `changes` tells the table's change count, which the table moves before telling of a change. */
  constructor(specs, closed, changes) {
    this.specs = specs;
    this.closed = closed;
    this.changes = changes;
  }
  specs;
  closed;
  changes;
  cpu = [];
  mem = [];
  /** Each node's capacity less EPS, at or past which it is full: read per node-slot by addAll, without going through its spec. */
  fullCpu = [];
  fullMem = [];
  /** The nodes not full now. */
  notFull = new NodeBits();
  /**
   * For each word of 32 nodes, the table's change count when what one of them holds, its calendar,
   * or whether it is open last changed: lets a profile of the current instant keep the words that did not.
   */
  wordChangedAt = [];
  /** The table has just added a node (its spec and closed flag are in place). */
  nodeAdded() {
    const n = this.cpu.length;
    this.cpu.push(0);
    this.mem.push(0);
    const spec2 = this.specs[n];
    this.fullCpu.push(spec2.cpu - EPS);
    this.fullMem.push(spec2.memoryMiB - EPS);
    this.wordChangedAt[n >> 5] = this.changes();
    this.follow(n, true);
  }
  /** Node n was closed or opened; `wasFull` is what isFull answered before. */
  closedChanged(n, wasFull) {
    this.wordChangedAt[n >> 5] = this.changes();
    this.follow(n, wasFull);
  }
  /**
   * Adds cpu/mem (negative: takes them back) to what each of `nodes` holds now: what activating and
   * deactivating a segment does on each of its nodes, 9.6 million node-slots on the whole SDSC log.
   */
  addAll(nodes2, cpu, mem) {
    const stamp = this.changes();
    for (let k = 0; k < nodes2.length; k++) this.add(nodes2[k], cpu, mem, stamp);
  }
  /**
   * addAll on one node, `stamp` being the table's change count: for a caller that goes over the
   * nodes anyway (SlotTable.reserve of what begins now).
   */
  add(n, cpu, mem, stamp) {
    this.wordChangedAt[n >> 5] = stamp;
    const closed = this.closed[n];
    const fullCpu = this.fullCpu[n];
    const fullMem = this.fullMem[n];
    const wasFull = closed || this.cpu[n] >= fullCpu || this.mem[n] >= fullMem;
    let c = this.cpu[n] + cpu;
    let m = this.mem[n] + mem;
    if (Math.abs(c) < EPS) c = 0;
    if (Math.abs(m) < EPS) m = 0;
    this.cpu[n] = c;
    this.mem[n] = m;
    this.followTo(n, wasFull, closed || c >= fullCpu || m >= fullMem);
  }
  follow(n, wasFull) {
    this.followTo(n, wasFull, this.isFull(n));
  }
  followTo(n, wasFull, isFull) {
    if (wasFull === isFull) return;
    if (isFull) this.notFull.delete(n);
    else this.notFull.add(n);
  }
  /** Full at the thresholds addAll reads (kept when the node is added), so that both say the same. */
  isFull(n) {
    return this.closed[n] || this.cpu[n] >= this.fullCpu[n] || this.mem[n] >= this.fullMem[n];
  }
  fits(n, cpu, mem) {
    const spec2 = this.specs[n];
    return !this.closed[n] && this.cpu[n] + cpu <= spec2.cpu + EPS && this.mem[n] + mem <= spec2.memoryMiB + EPS;
  }
  /** The change count when something about one of nodes 32w..32w+31 last changed. */
  wordChanged(w) {
    return this.wordChangedAt[w];
  }
  /** The table changed node n's calendar or whether it is open. */
  noteChange(n) {
    this.wordChangedAt[n >> 5] = this.changes();
  }
  get notFullCount() {
    return this.notFull.size;
  }
  /** The first node at or after `from`, by index, that is not full; -1 if none. */
  nextNotFull(from) {
    return this.notFull.next(from);
  }
};

// src/core/window-search.ts
var WindowSearch = class {
  constructor(table) {
    this.table = table;
  }
  table;
  opens = new Float64Array(1024);
  closes = new Float64Array(1024);
  /**
   * The earliest t >= from at which at least k nodes can each hold cpu/mem for `length`
   * seconds from t, where node i may only start at notBefore(i), and reservations of leases in
   * `ignore` do not count. Infinity if never (or if not at or before `latestStart`: windows
   * opening later are left out of the sweep).
   * A sweep over every node's free windows: O(W log W) for W windows in the pool.
   */
  earliestWindow(k, cpu, mem, length, from, opts) {
    const { notBefore, latestStart = Infinity, ignore } = opts;
    const ignoring = ignore !== void 0 && ignore.size > 0;
    if (!ignoring) {
      const simple = this.earliestWhereRoomStays(k, cpu, mem, from, notBefore, latestStart);
      if (simple !== null) return simple;
    }
    const table = this.table;
    let count = 0;
    const add = (a, b) => {
      const lastStart = b - length;
      if (lastStart < a || a > latestStart) return;
      if (count === this.opens.length) this.grow();
      this.opens[count] = a;
      this.closes[count] = lastStart;
      count++;
    };
    for (let n = 0; n < table.nodes.length; n++) {
      const nb = notBefore ? Math.max(from, notBefore(n)) : from;
      if (nb === Infinity) continue;
      if (!ignoring && (!table.fitsAtAll(n, cpu, mem) || addExclusiveGaps(table.reservationsOn(n), table.nodes[n], nb, cpu, mem, latestStart, add))) continue;
      for (const [a, b] of table.freeWindows(n, nb, cpu, mem, ignore)) add(a, b);
    }
    return count < k ? Infinity : firstOfK(this.opens.subarray(0, count), this.closes.subarray(0, count), k);
  }
  /**
   * earliestWindow when every node, once it has room, keeps it (what is reserved on it follows on
   * from `from` without a gap): each node's one window is [a, Infinity), so the answer is the k-th
   * smallest a, found without building and sweeping windows. Null when some node is not that simple.
   */
  earliestWhereRoomStays(k, cpu, mem, from, notBefore, latestStart) {
    const table = this.table;
    let count = 0;
    if (notBefore === void 0) {
      const index = table.roomIndex(from, cpu, mem);
      if (index.notSimpleNodes > 0) return null;
      const room = index.values;
      if (this.opens.length < room.length) this.grow(room.length);
      const opens = this.opens;
      for (let n = 0; n < room.length; n++) {
        const v = room[n];
        const a = v > from ? v : from;
        if (a === Infinity || a > latestStart) continue;
        opens[count++] = a;
      }
      return count < k ? Infinity : kthSmallest(opens, count, k);
    }
    for (let n = 0; n < table.nodes.length; n++) {
      const nb = notBefore ? Math.max(from, notBefore(n)) : from;
      if (nb === Infinity) continue;
      const a = table.roomForGoodFrom(n, nb, cpu, mem);
      if (a === null) return null;
      if (a === Infinity || a > latestStart) continue;
      if (count === this.opens.length) this.grow();
      this.opens[count++] = a;
    }
    if (count < k) return Infinity;
    return kthSmallest(this.opens, count, k);
  }
  grow(atLeast = 0) {
    const twice = (a) => {
      const b = new Float64Array(Math.max(a.length * 2, atLeast));
      b.set(a);
      return b;
    };
    this.opens = twice(this.opens);
    this.closes = twice(this.closes);
  }
};

// src/core/slot-table.ts
var SlotTable = class {
  specs = [];
  calendars = [];
  /** Nodes that take no new reservations (draining, removed or lost); what they hold runs on. */
  closed = [];
  usage = new UsageNow(this.specs, this.closed, () => this.changes);
  nextSeq = 1;
  /** Bumped by every change to reservations or to which nodes take them: an answer computed at one version holds until it moves. */
  changes = 0;
  /** Reservations that have not begun (never activated, not released). */
  pending = /* @__PURE__ */ new Set();
  freed = new FreedNodes();
  nodeLists = new NodeLists();
  /** Bumped when a node is added, closed or opened: what openNodesThatFit answered holds until it moves. */
  membership = 0;
  fitCount = { membership: -1, cpu: 0, mem: 0, count: 0 };
  fitting = { membership: -1, cpu: 0, mem: 0, nodes: new NodeBits() };
  /** Nodes whose calendar is empty: free for good, for any shape that fits them, if they are open. */
  empty = new NodeBits();
  /** For each node, the change count at which its calendar (or whether it is open) last changed: what NodeMemo answers are checked against. */
  touchedAt = [];
  roomMemo = new NodeMemo();
  rooms = null;
  /** The nodes touched since the RoomIndex last looked. */
  touchLog = new TouchLog();
  freeMemo = new NodeMemo();
  windows = new WindowSearch(this);
  constructor(nodes2) {
    for (const n of nodes2) this.addNode(n);
  }
  get nodes() {
    return this.specs;
  }
  get size() {
    return this.specs.length;
  }
  /** Bumped by every change to the table: an answer computed at the same version is still right. */
  get version() {
    return this.changes;
  }
  /** How many reservations are still to begin. */
  get pendingReservations() {
    return this.pending.size;
  }
  /**
   * The latest instant up to which capacity was given back (a reservation released or cut
   * short, a node opened: Infinity) since forgetFreed; -Infinity if none was. Lets a caller tell
   * that nothing it planned after that instant could now be planned differently.
   */
  get freedUntil() {
    return this.freed.until;
  }
  /** The nodes on which capacity was given back since forgetFreed (a node may be listed more than once), or null if too many. */
  get freedNodes() {
    return this.freed.nodes;
  }
  /** Forgets what was freed. The list last read through freedNodes stays as it was until the next call. */
  forgetFreed() {
    this.freed.forget();
  }
  noteFreed(seg) {
    this.freed.note(seg.nodes, seg.end, 4 * this.specs.length);
  }
  /** Adds a node to the pool and returns its index; indices are never reused. */
  addNode(spec2) {
    this.changes++;
    this.membership++;
    this.specs.push(spec2);
    this.calendars.push([]);
    this.empty.add(this.specs.length - 1);
    this.closed.push(false);
    this.touchedAt.push(this.changes);
    this.usage.nodeAdded();
    this.freed.until = Infinity;
    return this.specs.length - 1;
  }
  /** Stops node n from taking new reservations. */
  close(n) {
    if (this.closed[n]) return;
    this.changes++;
    this.membership++;
    this.stampNode(n);
    const wasFull = this.usage.isFull(n);
    this.closed[n] = true;
    this.usage.closedChanged(n, wasFull);
  }
  /** Lets node n take new reservations again. */
  open(n) {
    if (!this.closed[n]) return;
    this.changes++;
    this.membership++;
    this.stampNode(n);
    this.freed.until = Infinity;
    const wasFull = this.usage.isFull(n);
    this.closed[n] = false;
    this.usage.closedChanged(n, wasFull);
  }
  isOpen(n) {
    return !this.closed[n];
  }
  /** Open nodes that could hold `cpu`/`mem` at all. Asked of every request: the last answer is kept while the pool stays the same. */
  openNodesThatFit(cpu, mem) {
    const last = this.fitCount;
    if (last.membership === this.membership && last.cpu === cpu && last.mem === mem) return last.count;
    let count = 0;
    for (let n = 0; n < this.specs.length; n++) if (!this.closed[n] && this.specs[n].cpu >= cpu && this.specs[n].memoryMiB >= mem) count++;
    this.fitCount = { membership: this.membership, cpu, mem, count };
    return count;
  }
  /** Open nodes big enough for cpu/mem (fitsAtAll), kept while the pool and the shape stay the same. */
  openFitting(cpu, mem) {
    const last = this.fitting;
    if (last.membership === this.membership && last.cpu === cpu && last.mem === mem) return last.nodes;
    const nodes2 = new NodeBits();
    for (let n = 0; n < this.specs.length; n++) if (this.fitsAtAll(n, cpu, mem)) nodes2.add(n);
    this.fitting = { membership: this.membership, cpu, mem, nodes: nodes2 };
    return nodes2;
  }
  /** Nodes whose calendar is empty (closed ones included). */
  get emptyNodes() {
    return this.empty;
  }
  /** Nodes with some capacity left at the current instant. */
  get notFullNow() {
    return this.usage.notFull;
  }
  /** A reservation; one that `begins` now is activated as it is made (two changes, read by nothing in between), its nodes gone over once (232,000 of the SDSC log's 336,000). */
  reserve(leaseId, kind, start, end, nodes2, cpu, memoryMiB, begins = false) {
    this.changes += begins ? 2 : 1;
    const seg = { seq: this.nextSeq++, leaseId, kind, start: small(start), end: small(end), nodes: nodes2, cpu, memoryMiB, active: begins, removed: false };
    let h = nodes2.length;
    for (let k = 0; k < nodes2.length; k++) {
      const n = nodes2[k];
      insertByStart(this.calendars[n], seg);
      this.empty.delete(n);
      this.stampNode(n);
      if (begins) this.usage.add(n, cpu, memoryMiB, this.changes);
      h = nodeListHashStep(h, n);
    }
    seg.nodes = this.nodeLists.sharedByHash(nodes2, h);
    if (!begins) this.pending.add(seg);
    return seg;
  }
  /** Moves a reservation's end (cut short, or stretched into room known to be free): the only way an end changes. */
  setEnd(seg, end) {
    if (end === seg.end) return;
    this.changes++;
    if (end < seg.end && !seg.removed) this.noteFreed(seg);
    seg.end = small(end);
    this.touch(seg.nodes);
  }
  /** Drops a reservation; an active one stops counting towards usage now. */
  release(seg) {
    if (seg.removed) return;
    this.changes++;
    this.noteFreed(seg);
    if (seg.active) this.deactivate(seg);
    this.pending.delete(seg);
    seg.removed = true;
    for (const n of seg.nodes) this.takeOut(n, seg);
    this.touch(seg.nodes);
  }
  takeOut(n, seg) {
    const cal = this.calendars[n];
    removeFrom(cal, seg);
    if (cal.length === 0) this.empty.add(n);
  }
  /** Node n's calendar, or whether it is open, changed. */
  stampNode(n) {
    this.touchedAt[n] = this.changes;
    this.usage.noteChange(n);
    this.touchLog.note(n);
  }
  touch(nodes2) {
    for (const n of nodes2) this.stampNode(n);
  }
  /** Marks a reservation as in force at the current instant. */
  activate(seg) {
    if (seg.active || seg.removed) return;
    this.changes++;
    this.pending.delete(seg);
    seg.active = true;
    this.usage.addAll(seg.nodes, seg.cpu, seg.memoryMiB);
  }
  /**
   * Marks a reservation as over at its end (one cut short: its new end, set and stamped by setEnd): it stops counting now and leaves the calendars.
   * Its nodes are not stamped: every question is of an instant at or after now, where an ended reservation is passed over, so what was remembered holds.
   */
  deactivate(seg) {
    if (!seg.active) return;
    this.changes++;
    seg.active = false;
    this.usage.addAll(seg.nodes, -seg.cpu, -seg.memoryMiB);
    for (const n of seg.nodes) this.takeOut(n, seg);
  }
  /** The first node at or after `from`, by index, with some capacity left at the current instant; -1 if none. */
  nextNotFullNow(from) {
    return this.usage.nextNotFull(from);
  }
  isFullNow(n) {
    return this.usage.isFull(n);
  }
  /** The change count after which nothing about nodes 32w..32w+31 (calendars, open or not, usage now) changed. */
  wordChangedAt(w) {
    return this.usage.wordChanged(w);
  }
  /** Nodes with some capacity left at the current instant. */
  get nodesNotFullNow() {
    return this.usage.notFullCount;
  }
  /** Whether `cpu`/`mem` fit on node n at the current instant, by the usage counters. */
  fitsNow(n, cpu, mem) {
    return this.usage.fits(n, cpu, mem);
  }
  /**
   * The latest x in (t, horizon] such that node n can hold `cpu`/`mem` on top of its
   * reservations throughout [t, x); t itself when it cannot hold them at t.
   * Reservations of leases in `ignore` are treated as absent from `ignoreFrom` on.
   */
  freeUntil(n, t, cpu, mem, horizon, ignore, ignoreFrom = -Infinity) {
    const spec2 = this.specs[n];
    if (this.closed[n] || cpu > spec2.cpu + EPS || mem > spec2.memoryMiB + EPS) return t;
    const cal = this.calendars[n];
    if (cal.length === 0) return horizon;
    if (ignore === void 0 && horizon === Infinity) return this.freeUntilForGood(n, t, cpu, mem);
    if (ignore === void 0) {
      const exclusive = exclusiveFreeUntil(cal, spec2.cpu, spec2.memoryMiB, t, cpu, mem, horizon);
      if (exclusive !== null) return exclusive;
    }
    return sweepFreeUntil(cal, spec2.cpu, spec2.memoryMiB, t, cpu, mem, horizon, ignore, ignoreFrom);
  }
  /** freeUntil with no horizon and nothing ignored, the profiles' question: remembered per node. */
  freeUntilForGood(n, t, cpu, mem) {
    const memo = this.freeMemo;
    memo.forShape(cpu, mem, this.specs.length);
    const known = memo.freeAt(n, t, this.touchedAt[n]) ?? this.roomMemo.freeFromRoom(n, t, this.touchedAt[n], cpu, mem);
    if (known !== void 0) return known;
    const spec2 = this.specs[n];
    const cal = this.calendars[n];
    const v = exclusiveFreeUntil(cal, spec2.cpu, spec2.memoryMiB, t, cpu, mem, Infinity) ?? sweepFreeUntil(cal, spec2.cpu, spec2.memoryMiB, t, cpu, mem, Infinity, void 0, -Infinity);
    memo.remember(n, t, v, this.changes);
    return v;
  }
  /** See free-windows.ts. */
  freeWindows(n, from, cpu, mem, ignore) {
    return freeWindows(this, n, from, cpu, mem, ignore);
  }
  /**
   * The earliest t >= from at which at least k nodes can each hold cpu/mem for `length`
   * seconds from t: see WindowSearch.
   */
  earliestWindow(k, cpu, mem, length, from, opts = {}) {
    return this.windows.earliestWindow(k, cpu, mem, length, from, opts);
  }
  /**
   * When node n has room for cpu/mem from t on for good, leaving out the reservations of lease
   * `skip`: t, or the end of the reservations that follow one another from t on. Infinity if it
   * never will (closed, too small). Null when the answer is not that simple: a reservation could
   * share the node with the request, or one begins after a gap (room comes and goes).
   */
  roomForGoodFrom(n, t, cpu, mem, skip) {
    if (!this.fitsAtAll(n, cpu, mem)) return Infinity;
    if (skip !== void 0) return roomFromOn(this.calendars[n], this.specs[n], t, cpu, mem, skip);
    const memo = this.roomMemo;
    memo.forShape(cpu, mem, this.specs.length);
    const known = memo.roomAt(n, t, this.touchedAt[n]);
    if (known !== void 0) return Number.isNaN(known) ? null : known;
    const v = roomFromOn(this.calendars[n], this.specs[n], t, cpu, mem);
    memo.remember(n, t, v ?? Number.NaN, this.changes);
    return v;
  }
  /** For each node, the change count at which its calendar, or whether it is open, last changed. */
  get touched() {
    return this.touchedAt;
  }
  /** roomForGoodFrom(n, t, cpu, mem) of every node n, as RoomIndex.from reads it: kept for the last shape asked. */
  roomFrom(t, cpu, mem) {
    return this.roomIndex(t, cpu, mem).values;
  }
  /** The same answers with the questions asked of all of them at once (RoomIndex.kth and the like), at t. */
  roomIndex(t, cpu, mem) {
    if (this.rooms === null || this.rooms.cpu !== cpu || this.rooms.mem !== mem) this.rooms = new RoomIndex(this, cpu, mem);
    return this.rooms.at(t, this.touchLog.take());
  }
  /** Whether node n is open and big enough for cpu/mem. */
  fitsAtAll(n, cpu, mem) {
    const spec2 = this.specs[n];
    return !this.closed[n] && cpu <= spec2.cpu + EPS && mem <= spec2.memoryMiB + EPS;
  }
  /** Leases with a reservation on node n that overlaps [t, end). */
  leasesOverlapping(n, t, end) {
    const out = [];
    for (const s of this.calendars[n]) {
      if (s.start >= end) break;
      if (s.end > t && !out.includes(s.leaseId)) out.push(s.leaseId);
    }
    return out;
  }
  /** Distinct end times of reservations that end after t, ascending. */
  endsAfter(t) {
    const ends = /* @__PURE__ */ new Set();
    for (const cal of this.calendars) for (const s of cal) if (s.end > t) ends.add(s.end);
    return [...ends].sort((a, b) => a - b);
  }
  /** Forgets reservations that ended by `now`; they live on in their leases' histories. */
  prune(now) {
    this.changes++;
    for (let n = 0; n < this.calendars.length; n++) {
      const cal = this.calendars[n];
      let w = 0;
      for (let r = 0; r < cal.length; r++) if (cal[r].end > now || cal[r].active) cal[w++] = cal[r];
      if (w === cal.length) continue;
      cal.length = w;
      if (w === 0) this.empty.add(n);
      this.stampNode(n);
    }
  }
  reservationsOn(n) {
    return this.calendars[n];
  }
};

// src/core/transfer-link.ts
var TransferLink = class _TransferLink {
  transfers = [];
  /** Queue passes ask the same question for every waiting lease; the answer holds until the link changes. */
  earliestMemo = [];
  changes = 0;
  /** Bumped by every change to the planned transfers. */
  get version() {
    return this.changes;
  }
  /** Earliest s >= from with [s, s + seconds) free. */
  earliestSlot(from, seconds2) {
    for (const m of this.earliestMemo) if (m.from === from && m.seconds === seconds2) return m.slot;
    const slot = this.firstGap(from, seconds2);
    if (this.earliestMemo.length >= 8) this.earliestMemo = [];
    this.earliestMemo.push({ from, seconds: seconds2, slot });
    return slot;
  }
  firstGap(from, seconds2) {
    let s = from;
    for (const t of this.transfers) {
      if (t.end <= s) continue;
      if (t.start >= s + seconds2) break;
      s = t.end;
    }
    return s;
  }
  /** Latest s >= from with s + seconds <= by and [s, s + seconds) free, or null. */
  latestSlot(from, by, seconds2) {
    let best = null;
    let gapStart = from;
    for (const t of this.transfers) {
      if (t.end <= gapStart) continue;
      const gapEnd = Math.min(t.start, by);
      if (gapEnd - gapStart >= seconds2) best = gapEnd - seconds2;
      if (t.start >= by) return best;
      gapStart = Math.max(gapStart, t.end);
    }
    if (by - gapStart >= seconds2) best = by - seconds2;
    return best;
  }
  add(transfer) {
    this.changes++;
    this.earliestMemo = [];
    let i = this.transfers.length;
    while (i > 0 && this.transfers[i - 1].start > transfer.start) i--;
    this.transfers.splice(i, 0, transfer);
  }
  /** Cancels a lease's transfers that have not begun by `now`. */
  cancel(leaseId, now) {
    this.changes++;
    this.earliestMemo = [];
    this.transfers = this.transfers.filter((t) => t.leaseId !== leaseId || t.start < now);
  }
  prune(now) {
    this.changes++;
    this.earliestMemo = [];
    if (this.transfers.length > 0 && this.transfers[0].end <= now) this.transfers = this.transfers.filter((t) => t.end > now);
  }
  /** A copy to plan on: what-if transfers added to it leave this link as it is. */
  clone() {
    const copy = new _TransferLink();
    copy.transfers = [...this.transfers];
    return copy;
  }
  get scheduled() {
    return this.transfers;
  }
};

// src/core/core-state.ts
var CoreState = class {
  config;
  table;
  link = new TransferLink();
  costs;
  images;
  book = new LeaseBook();
  /** Where each planned segment starts and ends: the instants at which something happens. */
  boundaries = new BoundaryHeap();
  /** Best-effort leases waiting for a place (queued, or suspended), in queue order. */
  queue = [];
  /** Best-effort leases that backfilling placed in the future. */
  future = /* @__PURE__ */ new Set();
  /** Nodes closed by a drain, and nodes lost (their agents away): either keeps a node from new work. */
  drained = /* @__PURE__ */ new Set();
  lost = /* @__PURE__ */ new Set();
  now = 0;
  /** Resources freed earlier than planned: leases backfilled into the future may now go earlier. */
  mustReevaluate = false;
  /** Segments begun and leases completed since the last advance took them. */
  started = [];
  completed = [];
  /**
   * Leases whose record changed (a segment placed, moved, begun, ended or dropped, or a change of
   * state) since the last advance took them, whatever input caused it, the lease's own or another's.
   * Null unless asked for (Scheduler.trackChanges): a simulation reads no view of its leases.
   */
  changed = null;
  costChanges = 0;
  constructor(nodes2, config) {
    this.config = config;
    this.table = new SlotTable(nodes2);
    this.costs = new LeaseCosts(config);
    this.images = new ImageDeployment(nodes2.length, config.imageCacheMiB, this.costs, this.link);
  }
  /** Every counter only grows, so their sum moves whenever any of them does. */
  get version() {
    return this.table.version + this.link.version + this.images.version + this.costChanges;
  }
  /** The cost figures were changed (setCosts). */
  costsChanged() {
    this.costChanges++;
  }
  get tentative() {
    return new Set([...this.future].map((l) => l.req.id));
  }
  leaseById(id) {
    return this.book.mustGet(id);
  }
  imageReadyBy(req, node, t) {
    return this.images.readyBy(req, node, t);
  }
  nodesThatFit(cpu, memoryMiB) {
    return this.table.openNodesThatFit(cpu, memoryMiB);
  }
};

// src/core/cost-figures.ts
var RATES = ["suspendRateMBps", "resumeRateMBps", "migrateBandwidthMBps"];
var COST_FIGURE_KEYS = [...RATES, "bootSeconds"];
function costFiguresProblem(figures) {
  for (const key of RATES) {
    const v = figures[key];
    if (v !== void 0 && !(Number.isFinite(v) && v > 0)) return `${key} must be a positive number of MiB/s, got ${v}`;
  }
  const boot = figures.bootSeconds;
  if (boot !== void 0 && !(Number.isInteger(boot) && boot >= 0)) return `bootSeconds must be a whole number of seconds >= 0, got ${boot}`;
  if (RATES.every((k) => figures[k] === void 0) && boot === void 0) return "no figure to set: give at least one of suspendRateMBps, resumeRateMBps, migrateBandwidthMBps, bootSeconds";
  return null;
}

// src/core/plan.ts
function planStart(plan) {
  const p = plan.placement;
  if (p.kind === "reservation") return p.reservation.start;
  if (p.kind === "queue") return p.estimate?.start ?? null;
  return p.occurrences.find((o) => o.reservation !== null)?.reservation.start ?? null;
}

// src/core/types.ts
var refusal = (code, message) => ({ ok: false, code, message });

// src/core/holds.ts
var HOLDABLE = /* @__PURE__ */ new Set(["exact", "deadline", "periodic"]);
function holdKindRefusal(kind) {
  return HOLDABLE.has(kind) ? null : refusal("unsupported", `a ${kind} lease cannot be held: only ${[...HOLDABLE].join(", ")} leases are placed when accepted; create it instead`);
}
function tooLateToHold(plan, bootSeconds, now) {
  const start = plan.ok ? planStart(plan) : null;
  return start !== null && start - bootSeconds <= now ? refusal("too-late", `it would begin now (${now}): there is nothing to hold; create it instead`) : null;
}
function workOf2(s, req) {
  return req.kind === "best-effort" ? stretchedSeconds(req.duration, s.config.runtimeOverheadPercent) : req.duration;
}
function hold(s, req, ttlSeconds, policies, observer, quoted) {
  const unholdable = holdKindRefusal(req.kind);
  if (unholdable) return unholdable;
  if (!(ttlSeconds > 0)) return refusal("invalid", `a hold must last more than 0 s, got ${ttlSeconds}`);
  if (s.book.has(req.id)) return refusal("duplicate", `lease id '${req.id}' was already submitted`);
  const now = s.now;
  const plan = currentPlan(s, req, policies, quoted, observer);
  const lease = s.book.add(req, workOf2(s, req));
  const late = tooLateToHold(plan, s.config.bootSeconds, now);
  if (late) return reject(s, lease, "too-late", late.message);
  const decision = applyPlan(s, lease, plan, policies, observer);
  if (!decision.ok) return decision;
  const parts = s.book.partsOf(lease).filter((p) => p.state === "scheduled");
  const begins = Math.min(...parts.map((p) => p.chain[0]?.start ?? Infinity));
  s.book.hold(lease, Math.min(now + ttlSeconds, begins));
  for (const p of parts) {
    p.state = "held";
    s.changed?.add(p);
  }
  return { ...decision, state: "held" };
}
function commit(s, id) {
  const lease = s.book.get(id);
  if (!lease) return refusal("not-found", `no lease '${id}' to commit`);
  if (lease.heldUntil === null) {
    const why = lease.state === "cancelled" ? "its hold expired" : `it is ${lease.state}, not held`;
    return { ok: false, leaseId: id, reason: "policy", message: `cannot commit lease '${id}': ${why}` };
  }
  s.book.unhold(lease);
  for (const p of s.book.partsOf(lease)) {
    if (p.state === "held") p.state = "scheduled";
    s.changed?.add(p);
  }
  return { ok: true, leaseId: id, state: "scheduled" };
}
function expireHolds(s, now) {
  const expired = s.book.takeExpired(now);
  for (const lease of expired) {
    for (const p of s.book.partsOf(lease)) cancelLease(s, p, now);
    if (lease.state === "expanded") lease.state = "cancelled";
    s.changed?.add(lease);
  }
  return expired;
}

// src/core/owner-actions.ts
var runningRun = (lease) => lease.chain.find((seg) => seg.kind === "run" && seg.active);
var DOING = {
  transfer: "receiving its image",
  boot: "booting",
  run: "running",
  shutdown: "shutting down",
  suspend: "suspending",
  resume: "resuming",
  migrate: "migrating"
};
function doing(lease) {
  const seg = lease.chain.find((x) => x.active);
  return seg ? DOING[seg.kind] : lease.state;
}
function ownerActionRefusal(s, id, action) {
  const lease = s.book.get(id);
  if (!lease) return refusal("not-found", `no lease '${id}'`);
  switch (action) {
    case "finish":
      return runningRun(lease) ? null : refusal("wrong-state", `lease '${id}' is not running (${doing(lease)}); cancel it instead`);
    case "suspend":
      if (lease.req.kind !== "best-effort") return refusal("policy", `lease '${id}' is ${lease.req.kind}: only a best-effort lease can be suspended by its owner (a reservation keeps its window; cancel it instead)`);
      if (!runningRun(lease)) return refusal("wrong-state", `lease '${id}' is not running (${doing(lease)}); only a running lease can be suspended`);
      if (runningRun(lease).start === s.now) return refusal("wrong-state", `lease '${id}' starts running at this very instant: suspend it once it runs`);
      return null;
    case "resume":
      return lease.parked ? null : refusal("wrong-state", `lease '${id}' was not suspended by its owner (${doing(lease)}); there is nothing to resume`);
  }
}
function finishEarly(s, id, now) {
  const refused = ownerActionRefusal(s, id, "finish");
  if (refused) return refused;
  const lease = s.book.mustGet(id);
  const run = runningRun(lease);
  const heldUntil = contiguousEnd(lease.chain, lease.chain.indexOf(run));
  s.now = now;
  cutChainAfter(s, lease, run);
  truncate(s, run, now);
  lease.work = lease.done;
  lease.realDuration = lease.req.kind === "best-effort" ? unstretchedSeconds(lease.done, s.config.runtimeOverheadPercent) : lease.done;
  lease.chainEndsIn = "finish";
  placeShutdown(s, lease, now, heldUntil, run.nodes);
  settleIfChainDone(s, lease, now);
  s.mustReevaluate = true;
  return { ok: true };
}
function placeShutdown(s, lease, from, heldUntil, nodes2) {
  const full = from + s.config.shutdownSeconds;
  if (full <= from) return;
  const { cpu, memoryMiB } = lease.req.perNode;
  const fits = full <= heldUntil || nodes2.every((n) => s.table.freeUntil(n, from, cpu, memoryMiB, full) >= full);
  const end = fits ? full : heldUntil;
  if (end > from) lease.chain.push(place(s, lease, "shutdown", from, end, nodes2));
}
function contiguousEnd(chain, i) {
  const nodes2 = chain[i].nodes;
  let end = chain[i].end;
  for (let k = i + 1; k < chain.length && chain[k].start === end && sameList(chain[k].nodes, nodes2); k++) end = chain[k].end;
  return end;
}
function suspendByOwner(s, id, now) {
  const refused = ownerActionRefusal(s, id, "suspend");
  if (refused) return refused;
  const lease = s.book.mustGet(id);
  const run = runningRun(lease);
  cutChainAfter(s, lease, run);
  truncate(s, run, now);
  lease.chainEndsIn = "suspend";
  lease.parked = true;
  const secs = s.costs.suspendSeconds(lease.req);
  if (secs > 0) lease.chain.push(place(s, lease, "suspend", now, now + secs, run.nodes));
  settleIfChainDone(s, lease, now, run.nodes);
  s.mustReevaluate = true;
  return { ok: true };
}
function resumeByOwner(s, id) {
  const refused = ownerActionRefusal(s, id, "resume");
  if (refused) return refused;
  const lease = s.book.mustGet(id);
  lease.parked = false;
  s.changed?.add(lease);
  if (lease.state === "suspended" || lease.state === "queued") enqueue(s, lease);
  return { ok: true };
}
function cancel(s, id, now) {
  const lease = s.book.get(id);
  if (!lease) return refusal("not-found", `no lease '${id}' to cancel`);
  const live = s.book.partsOf(lease).filter((p) => !hasEnded(p));
  if (live.length === 0) return refusal("wrong-state", `lease '${id}' has already ended (${lease.state})`);
  if (lease.heldUntil !== null) s.book.unhold(lease);
  for (const p of live) cancelLease(s, p, now);
  if (lease.state === "expanded") lease.state = "cancelled";
  s.changed?.add(lease);
  return { ok: true };
}
function liveMigrationRefusal(s, id, toNodes, now) {
  const lease = s.book.get(id);
  if (!lease) return refusal("not-found", `no lease ${id}`);
  if (lease.req.kind !== "best-effort" && lease.req.kind !== "deadline") return refusal("policy", `lease '${id}' is ${lease.req.kind}: only best-effort and deadline leases migrate (a reservation keeps its nodes)`);
  const run = runningRun(lease);
  if (!run || run.start > now) return refusal("wrong-state", `lease '${id}' is not running (${doing(lease)}); only a running lease migrates live`);
  if (run.start === now) return refusal("wrong-state", `lease '${id}' starts running at this very instant: migrate it once it runs`);
  if (toNodes.length !== run.nodes.length) return refusal("invalid", `lease '${id}' runs on ${run.nodes.length} node(s): name as many to move to, not ${toNodes.length}`);
  if (new Set(toNodes).size !== toNodes.length) return refusal("invalid", "name each node to move to once");
  const { cpu, memoryMiB } = lease.req.perNode;
  for (const n of toNodes) {
    if (n < 0 || n >= s.table.size) return refusal("not-found", `no node ${n} in a pool of ${s.table.size}`);
    const name2 = `node '${s.table.nodes[n].id}'`;
    if (!s.table.isOpen(n)) return refusal("node-unavailable", `${name2} is not open to new work (draining or unavailable): pick another`);
    if (run.nodes.includes(n)) return refusal("invalid", `lease '${id}' already runs on ${name2}: name nodes it is not on`);
    for (const seg of lease.chain.slice(lease.chain.indexOf(run))) {
      const from = Math.max(seg.start, now);
      if (s.table.freeUntil(n, from, cpu, memoryMiB, seg.end) < seg.end) return refusal("insufficient-capacity", `${name2} has no room for lease '${id}' from ${from} to ${seg.end}`);
    }
  }
  return null;
}
function migrateLive(s, id, toNodes, now) {
  const refused = liveMigrationRefusal(s, id, toNodes, now);
  if (refused) return refused;
  const lease = s.book.mustGet(id);
  const run = runningRun(lease);
  const rest = lease.chain.slice(lease.chain.indexOf(run)).map((seg) => ({ kind: seg.kind, start: Math.max(seg.start, now), end: seg.end }));
  cutChainAfter(s, lease, run);
  truncate(s, run, now);
  for (const seg of rest) if (seg.end > seg.start) lease.chain.push(place(s, lease, seg.kind, seg.start, seg.end, toNodes));
  lease.migrations++;
  s.mustReevaluate = true;
  return { ok: true };
}

// src/core/node-loss.ts
function nodesHoldingVms(lease) {
  const saved = lease.suspendedOn ?? lastSuspendNodes(lease);
  const seg = lease.chain.find((s) => s.active);
  if (seg) return seg.kind === "migrate" && saved ? [...seg.nodes, ...saved] : seg.nodes;
  const waitsSuspended = lease.state === "suspended" || lease.state === "scheduled" && lease.done > 0 || lease.parked;
  return waitsSuspended && saved ? saved : [];
}
function lossOutcome(lease, node) {
  if (nodesHoldingVms(lease).includes(node)) {
    if (remainingWork(lease) <= 0) return "power-off";
    return lease.req.kind === "best-effort" ? "restart" : "fail";
  }
  if (!lease.chain.some((s) => !s.active && s.nodes.includes(node))) return "untouched";
  return lease.req.kind === "best-effort" ? "unschedule" : "wait";
}
function lastSuspendNodes(lease) {
  for (let i = lease.history.length - 1; i >= 0; i--) if (lease.history[i].kind === "suspend") return lease.history[i].nodes;
  return null;
}

// src/core/pool-membership.ts
function addNode(s, spec2) {
  const n = s.table.addNode(spec2);
  s.images.addNode();
  s.mustReevaluate = true;
  return n;
}
function unknownNode(s, n) {
  return n < 0 || n >= s.table.size || !Number.isInteger(n) ? refusal("not-found", `no node ${n} in a pool of ${s.table.size}`) : null;
}
function closeNode(s, n, now) {
  const unknown = unknownNode(s, n);
  if (unknown) return unknown;
  s.drained.add(n);
  s.table.close(n);
  const requeued = [];
  const stillPlanned = [];
  const arriving = s.table.reservationsOn(n).filter((seg) => !seg.active && seg.start > now && (seg.kind === "boot" || seg.kind === "resume" || seg.kind === "migrate" || seg.kind === "run"));
  for (const id of new Set(arriving.map((seg) => seg.leaseId))) {
    const lease = s.book.mustGet(id);
    const begun = lease.chain.length === 0 || lease.chain[0].active || lease.chain[0].start <= now;
    if (lease.req.kind === "best-effort" && !begun) {
      unschedule(s, lease, now);
      requeued.push(id);
    } else if (lease.req.kind !== "best-effort") stillPlanned.push(id);
  }
  return { ok: true, requeued, stillPlanned };
}
function loseNode(s, n, now) {
  const unknown = unknownNode(s, n);
  if (unknown) return unknown;
  const loss = { restarted: [], requeued: [], failed: [], finished: [], waiting: [] };
  if (s.lost.has(n)) return { ok: true, ...loss };
  s.lost.add(n);
  s.table.close(n);
  s.mustReevaluate = true;
  const name2 = s.table.nodes[n].id;
  for (const lease of s.book.all()) {
    if (hasEnded(lease) || lease.state === "expanded" || lease.state === "rejected") continue;
    switch (lossOutcome(lease, n)) {
      case "restart":
        restartLost(s, lease, now);
        loss.restarted.push(lease.req.id);
        break;
      case "unschedule":
        unschedule(s, lease, now);
        loss.requeued.push(lease.req.id);
        break;
      case "power-off":
        powerOffAt(s, lease, now);
        loss.finished.push(lease.req.id);
        break;
      case "fail":
        failLease(s, lease, now, "node-unavailable", `node '${name2}' became unavailable while the lease's VMs were on it: a ${lease.req.kind} lease's run cannot be interrupted and moved, so it could not be kept`);
        loss.failed.push(lease.req.id);
        break;
      case "wait":
        loss.waiting.push(lease.req.id);
        break;
      case "untouched":
        break;
    }
  }
  return { ok: true, ...loss };
}
function restartLost(s, lease, now) {
  const i = s.queue.indexOf(lease);
  if (i >= 0) s.queue.splice(i, 1);
  restartLosingWork(s, lease, now);
  if (lease.parked) s.queue.splice(s.queue.indexOf(lease), 1);
}
function regainNode(s, n) {
  if (!s.lost.delete(n)) return;
  if (!s.drained.has(n)) s.table.open(n);
  s.mustReevaluate = true;
}

// src/core/stays-put.ts
var StaysPut = class {
  constructor(ctx) {
    this.ctx = ctx;
  }
  ctx;
  confirmed = null;
  /** The buffers of the last Confirmed, reused by the next (there is one at a time), and which nodes the mark holds. */
  room = new Float64Array(0);
  chosenMark = new Uint8Array(0);
  marked = [];
  homeMark = new Uint8Array(0);
  homeMarked = [];
  reused(size) {
    if (this.room.length !== size) {
      this.room = new Float64Array(size);
      this.chosenMark = new Uint8Array(size);
      this.marked = [];
      this.homeMark = new Uint8Array(size);
      this.homeMarked = [];
    }
    return this.room;
  }
  /**
   * Told without a search, and only when each node, once it has room, keeps it (its free windows
   * are [a, Infinity)): placing again would then start the lease at the n-th smallest a, on the
   * first n nodes by index with a at or before that start, whole. When no other reservation is
   * still to begin, and capacity was given back since the lease was placed (or last found to stay
   * put) only before `freed.until` < its start, that cannot have changed: only a's already below
   * the start were lowered. Otherwise it is checked node by node, or, when the last check found it
   * in place and the nodes freed since are known, on those nodes only: work given to other nodes
   * since only raised their a's, which cannot move the lease. A lease that has run (suspended, placed
   * to resume) is told the same way, with the nodes holding its memory taken first
   * (everyNodeResuming). A lease that needs an image moved is placed again.
   */
  check(lease, now, freed) {
    const chain = lease.chain;
    if (lease.state !== "scheduled" || chain.length === 0) return false;
    if (lease.req.image !== void 0 && this.ctx.config.images === "transfer") return false;
    const start = chain[0].start;
    if (start <= now) return false;
    let home = null;
    if (lease.firstStart !== null) {
      home = memoryNodes(lease, now);
      if (home === null) return false;
    }
    if (!this.isWholeChain(lease, home !== null)) return false;
    const alone = this.ctx.table.pendingReservations === chain.length;
    if (freed.until < start && alone) return true;
    const last = this.confirmed;
    this.confirmed = null;
    if (last !== null && last.lease === lease && last.start === start && freed.until !== Infinity && freed.nodes !== null) {
      const kept = this.onlyFreedNodes(last, now, freed.nodes);
      if (kept === false) return false;
      if (kept) {
        this.confirmed = last;
        return true;
      }
    }
    return home === null ? this.everyNode(lease, now, start) : this.everyNodeResuming(lease, now, start, home);
  }
  /**
   * Placed again, the lease would start at the k-th smallest a, on the first k nodes by index with
   * a at or before it: it stays where it is when each of its nodes, its own reservations left out,
   * has room by its start, no other node below its last one does, and fewer than k nodes have room
   * before the start. Asked of counts the table's RoomIndex keeps as answers change (watch), not node
   * by node: kept for one start and last node, they hold while the lease stays, and a check costs its
   * own nodes only (which the counts take with its reservations in, to be told apart).
   */
  everyNode(lease, now, start) {
    const { table } = this.ctx;
    const { nodes: k, perNode: { cpu, memoryMiB }, id } = lease.req;
    const chosen = lease.chain[0].nodes;
    if (chosen.length < k) return false;
    const index = table.roomIndex(now, cpu, memoryMiB);
    const values2 = index.values;
    const room = this.reused(table.size);
    room.set(values2);
    const mark = this.chosenMark;
    for (const n of this.marked) mark[n] = 0;
    this.marked = chosen;
    index.watch(start, chosen[k - 1]);
    let before = index.countBelow;
    let early = index.earlyBelow;
    let notSimple = index.notSimpleNodes;
    let last = -1;
    for (let i = 0; i < k; i++) {
      const n = chosen[i];
      if (n <= last) return false;
      last = n;
      const v = values2[n];
      if (v !== v) notSimple--;
      else if (v < start) before--;
      if (i < k - 1 && v <= start) early--;
    }
    if (notSimple > 0 || early > 0 || before >= k) return false;
    for (let i = 0; i < k; i++) {
      const n = chosen[i];
      const own = this.ownFromIndex(lease, index, n, now, start) ?? table.roomForGoodFrom(n, now, cpu, memoryMiB, id);
      if (own === null || own > start) return false;
      if (own < start && ++before >= k) return false;
      room[n] = own;
    }
    for (const n of chosen) mark[n] = 1;
    this.confirmed = { lease, start, before, room, chosen: mark, lastChosen: last, home: null };
    return true;
  }
  /**
   * Node n of the lease's, when its last reservations are the lease's and none other begins at or
   * after its start: its room with the lease left out, told from the index's answer with the lease
   * in, without a walk over its calendar (hundreds of nodes at each check of the SDSC log's large
   * leases). Chained through the lease's reservations, it had reservations following one another up
   * to the start; not simple for the gap before them, up to the front roomExplained kept. Null when
   * neither, or when another reservation begins later (asked of the calendar then).
   */
  ownFromIndex(lease, index, n, now, start) {
    const cal = this.ctx.table.reservationsOn(n);
    const mine = lease.chain.length;
    const id = lease.req.id;
    const at = cal.length - mine;
    if (at < 0 || cal[at].leaseId !== id || cal[cal.length - 1].leaseId !== id || at > 0 && cal[at - 1].start >= start) return null;
    const v = index.values[n];
    if (v === v) return v > start ? start : null;
    const front = index.roomBeforeGap(n, now, start);
    return front === front ? front : null;
  }
  /**
   * The check of everyNode on the nodes freed since it last passed (a node listed twice counts once:
   * its delta is then 0). null when only the count of nodes with room before the start says no: it
   * is at most, and a look at every node then finds the lease in place after all about one time in three (1,640 of 4,553 on the whole SDSC log).
   */
  onlyFreedNodes(c, now, freed) {
    const { table } = this.ctx;
    const { nodes: k, perNode: { cpu, memoryMiB }, id } = c.lease.req;
    for (let f = 0; f < freed.length; f++) {
      const n = freed[f];
      const mine = c.chosen[n] === 1;
      const a = table.roomForGoodFrom(n, now, cpu, memoryMiB, mine ? id : void 0);
      if (a === null) return false;
      if (mine ? a > c.start : a <= c.start && (n < c.lastChosen || c.home !== null && c.home[n] === 1)) return false;
      c.before += Number(a < c.start) - Number(c.room[n] < c.start);
      c.room[n] = a;
    }
    return c.before < k ? true : null;
  }
  /**
   * everyNode for a lease placed to resume: placed again, it would stay on the nodes holding its
   * memory (ascending) if all of them have room by the n-th smallest a, or else (with migration)
   * move to those of them that do, then to the lowest other nodes that do.
   */
  everyNodeResuming(lease, now, start, home) {
    const { table, config } = this.ctx;
    const { nodes: k, perNode: { cpu, memoryMiB }, id } = lease.req;
    const chosen = lease.chain[0].nodes;
    const homeSorted = ascendingOnce(home);
    if (homeSorted.length !== k || chosen.length !== k) return false;
    const room = this.reused(table.size);
    const mark = this.chosenMark;
    const homeMark = this.homeMark;
    for (const n of this.marked) mark[n] = 0;
    for (const n of this.homeMarked) homeMark[n] = 0;
    this.marked = [];
    this.homeMarked = homeSorted;
    for (const n of homeSorted) homeMark[n] = 1;
    room.set(table.roomFrom(now, cpu, memoryMiB));
    for (const n of chosen) {
      const own = table.roomForGoodFrom(n, now, cpu, memoryMiB, id);
      if (own === null) return false;
      room[n] = own;
    }
    let before = 0;
    let homeWithRoom = 0;
    for (let n = 0; n < room.length; n++) {
      const a = room[n];
      if (a !== a) return false;
      if (a < start) before++;
      if (a <= start && homeMark[n] === 1) homeWithRoom++;
    }
    if (before >= k) return false;
    const moved = homeWithRoom < k;
    if (moved && !config.migration) return false;
    if (this.ctx.costs.migrateSeconds(lease.req) > 0 && lease.chain[0].kind === "migrate" !== moved) return false;
    let c = 0;
    for (const n of homeSorted) if (room[n] <= start && chosen[c++] !== n) return false;
    let lastOther = -1;
    for (let n = 0; n < room.length && c < k; n++) {
      if (homeMark[n] === 1 || room[n] > start) continue;
      if (chosen[c++] !== n) return false;
      lastOther = n;
    }
    if (c !== k) return false;
    for (const n of chosen) mark[n] = 1;
    this.marked = chosen;
    this.confirmed = { lease, start, before, room, chosen: mark, lastChosen: lastOther, home: moved ? homeMark : null };
    return true;
  }
  /** Whether the chain is what layoutChain lays out for one whole piece: boot (or migrate if it moved, and resume), all its work, shutdown. */
  isWholeChain(lease, resuming) {
    if (lease.chainEndsIn !== "finish") return false;
    const { bootSeconds, shutdownSeconds } = this.ctx.config;
    const first = lease.chain[0];
    if (resuming && first.kind !== "migrate" && first.kind !== "resume") return false;
    let i = 0;
    let t = first.start;
    const next = (kind, seconds2) => {
      if (seconds2 <= 0) return true;
      const seg = lease.chain[i++];
      if (!seg || seg.kind !== kind || seg.start !== t || seg.end !== t + seconds2) return false;
      t += seconds2;
      return true;
    };
    const pre = resuming ? next("migrate", first.kind === "migrate" ? this.ctx.costs.migrateSeconds(lease.req) : 0) && next("resume", this.ctx.costs.resumeSeconds(lease.req)) : next("boot", bootSeconds);
    return pre && next("run", remainingWork(lease)) && next("shutdown", shutdownSeconds) && i === lease.chain.length;
  }
};
function memoryNodes(lease, now) {
  const { history, chain } = lease;
  const h = history.length - chain.length;
  for (let i = 0; i < chain.length; i++) if (history[h + i] !== chain[i]) return null;
  const last = history[h - 1];
  return last !== void 0 && last.kind === "suspend" && last.end <= now ? last.nodes : null;
}

// src/core/queue-placement.ts
var QueuePlacement = class {
  constructor(ctx, images) {
    this.ctx = ctx;
    this.images = images;
    this.stays = new StaysPut(ctx);
  }
  ctx;
  images;
  /** How long each node that could take a lease of a shape stays free from t, and the image its nodes must hold (profileFor). */
  profiles = [];
  profileImages = [];
  profileCount = 0;
  profilesVersion = -1;
  profilesNow = -1;
  /** Profiles of the current instant for leases with no image to wait for, one per shape: followed from instant to instant rather than made again. */
  nowProfiles = [];
  stays;
  marks = new Uint8Array(0);
  /**
   * The shortest chain a lease could accept: all of it, or, if it may be cut short, its overheads
   * and a suspension when that is shorter. A chain that fits whole needs no suspension, however
   * long the threshold of a worthwhile cut: a short lease is not kept waiting for a window longer
   * than itself.
   */
  shortestAcceptableChain(lease) {
    const suspended = lease.state === "suspended" && lease.suspendedOn !== null;
    const cut = this.ctx.config.preemption === "suspend" && lease.req.preemptible;
    const pre = suspended ? this.ctx.costs.resumeSeconds(lease.req) : this.ctx.config.bootSeconds;
    const whole = pre + remainingWork(lease) + this.ctx.config.shutdownSeconds;
    if (!cut) return whole;
    return Math.min(whole, Math.max(this.ctx.costs.suspendThreshold(lease.req, lease.state === "suspended"), pre + this.ctx.costs.suspendSeconds(lease.req) + 1));
  }
  /**
   * Whether n nodes have room at t for at least the shortest acceptable chain: a necessary
   * condition, checked against a per-shape list of how long each node stays free from t,
   * computed once and kept while the state does not change.
   */
  windowAtLeast(lease, t, now) {
    const image = this.imageNeededBefore(lease, t, now);
    if (image !== null && this.images.holderCount(image) < lease.req.nodes) return false;
    return profileHolds(this.profileFor(lease, t, now, image), lease.req.nodes, this.shortestAcceptableChain(lease));
  }
  /** The image a fresh lease would need to find already cached on its nodes to start at t, or null if any node will do. */
  imageNeededBefore(lease, t, now) {
    return lease.state !== "suspended" && this.ctx.costs.needsTransfer(lease.req) && this.imageArrival(lease.req, now) > t ? lease.req.image.id : null;
  }
  /** The free profile at t for the lease's shape, kept while the state does not change. */
  profileFor(lease, t, now, image) {
    const { cpu, memoryMiB } = lease.req.perNode;
    if (t === now && image === null) return this.nowProfile(cpu, memoryMiB, now);
    if (this.profilesVersion !== this.ctx.version || this.profilesNow !== now) {
      this.profileCount = 0;
      this.profilesVersion = this.ctx.version;
      this.profilesNow = now;
    }
    for (let k2 = 0; k2 < this.profileCount; k2++) {
      const p = this.profiles[k2];
      if (p.t === t && p.cpu === cpu && p.memoryMiB === memoryMiB && this.profileImages[k2] === image) return p;
    }
    const eligible = image === null ? void 0 : (i) => this.images.readyBy(lease.req, i, t);
    const ask = { t, cpu, memoryMiB, eligible, onlyFreeNow: t === now };
    if (this.profileCount >= 16) this.profileCount = 0;
    const k = this.profileCount++;
    if (k === this.profiles.length) this.profiles.push(freeProfile(this.ctx.table, ask));
    else this.profiles[k].reuse(ask);
    this.profileImages[k] = image;
    return this.profiles[k];
  }
  nowProfile(cpu, memoryMiB, now) {
    for (const p2 of this.nowProfiles) if (p2.cpu === cpu && p2.memoryMiB === memoryMiB) return p2.follow(now);
    if (this.nowProfiles.length >= 4) this.nowProfiles.shift();
    const p = freeProfile(this.ctx.table, { t: now, cpu, memoryMiB, onlyFreeNow: true });
    this.nowProfiles.push(p);
    return p;
  }
  /** When an image sent now (in the link's first free slot) would be on the nodes. */
  imageArrival(req, now) {
    const seconds2 = this.ctx.costs.transferSeconds(req);
    return this.ctx.link.earliestSlot(now, seconds2) + seconds2;
  }
  /** A lower bound on the start of a lease that cannot start near now: when enough nodes open up for its shortest acceptable chain. */
  earliestPossibleStart(lease, from, now) {
    const req = lease.req;
    const suspended = lease.state === "suspended" && lease.suspendedOn !== null;
    const length = this.shortestAcceptableChain(lease);
    let notBefore;
    if (!suspended && this.ctx.costs.needsTransfer(req)) {
      const imageBy = this.imageArrival(req, now);
      notBefore = (n) => Math.min(this.images.readyAt(req.image.id, n) ?? Infinity, imageBy);
    }
    const hint = lease.lastPlannedStart;
    if (hint !== null && hint >= from) {
      const t = this.ctx.table.earliestWindow(req.nodes, req.perNode.cpu, req.perNode.memoryMiB, length, from, { notBefore, latestStart: hint });
      if (t !== Infinity) return t;
    }
    return this.ctx.table.earliestWindow(req.nodes, req.perNode.cpu, req.perNode.memoryMiB, length, from, { notBefore });
  }
  /** Whether EASY's future reservation would be placed where it is if placed again now: see StaysPut.check. */
  staysPut(lease, now, freed) {
    return this.stays.check(lease, now, freed);
  }
  /** Whether now is the only time lastNearTime could answer: no image to move before it starts. */
  onlyNow(lease) {
    return lease.state === "suspended" || !this.ctx.costs.needsTransfer(lease.req);
  }
  /** The later of the times at which a queued lease could start without waiting for others: when its image could arrive, or now. */
  lastNearTime(lease, now) {
    if (this.onlyNow(lease)) return now;
    const t = this.imageArrival(lease.req, now);
    return t > now ? t : now;
  }
  findChainAt(lease, t, now, mayCut) {
    const req = lease.req;
    const suspended = lease.state === "suspended" && lease.suspendedOn !== null;
    const cut = mayCut && this.ctx.config.preemption === "suspend" && req.preemptible;
    const threshold = this.ctx.costs.suspendThreshold(lease.req, lease.state === "suspended");
    const suspendTime = this.ctx.costs.suspendSeconds(lease.req);
    const minLengthWith = (pre) => cut ? Math.max(threshold, pre + suspendTime + 1) : null;
    const transferStart = this.ctx.costs.needsTransfer(req) && !suspended ? this.ctx.link.earliestSlot(now, this.ctx.costs.transferSeconds(req)) : null;
    const profile = this.profileFor(lease, t, now, this.imageNeededBefore(lease, t, now));
    const tail = remainingWork(lease) + this.ctx.config.shutdownSeconds;
    if (!suspended) {
      const boot = this.ctx.config.bootSeconds;
      return this.spec(lease, t, transferStart, chooseNodes(profile, { n: req.nodes, fullLength: boot + tail, minLength: minLengthWith(boot) }), false, boot + tail);
    }
    const spec2 = (choice, moved, fullLength) => this.spec(lease, t, transferStart, choice, moved, fullLength);
    const home = lease.suspendedOn;
    const resume = this.ctx.costs.resumeSeconds(lease.req);
    const migrate = this.ctx.costs.migrateSeconds(lease.req);
    const stayLength = resume + tail;
    const moveLength = migrate + stayLength;
    const stay = (minLength) => chooseAmong(profile, home, { n: req.nodes, fullLength: stayLength, minLength });
    const move = (minLength) => chooseNodes(profile, { n: req.nodes, fullLength: moveLength, minLength, preferred: home });
    const stayFull = stay(null);
    if (stayFull) return spec2(stayFull, false, stayLength);
    if (!this.ctx.config.migration) return spec2(stay(minLengthWith(resume)), false, stayLength);
    const moveFull = move(null);
    if (moveFull) return spec2(moveFull, !this.sameNodes(moveFull.nodes, home), moveLength);
    if (!cut) return null;
    const stayCut = stay(minLengthWith(resume));
    if (stayCut) return spec2(stayCut, false, stayLength);
    const moveCut = move(minLengthWith(migrate + resume));
    return spec2(moveCut, moveCut !== null && !this.sameNodes(moveCut.nodes, home), moveLength);
  }
  /** Whether a and b hold the same nodes, whatever their order: marked in a buffer kept from call to call rather than in a Set made each time. */
  sameNodes(a, b) {
    if (a.length !== b.length) return false;
    if (this.marks.length !== this.ctx.table.size) this.marks = new Uint8Array(this.ctx.table.size);
    const marks = this.marks;
    for (const n of b) marks[n] = 1;
    let same = true;
    for (const n of a) if (marks[n] !== 1) same = false;
    for (const n of b) marks[n] = 0;
    return same;
  }
  spec(lease, t, transferStart, choice, moved, fullLength) {
    if (!choice) return null;
    const full = choice.end >= t + fullLength;
    const needsTransfer = transferStart !== null && choice.nodes.some((i) => !this.images.readyBy(lease.req, i, t));
    return { t, nodes: choice.nodes, end: full ? t + fullLength : choice.end, full, moved, transferStart: needsTransfer ? transferStart : null };
  }
};

// src/core/scheduler.ts
var Scheduler = class {
  s;
  placement;
  policies;
  observer;
  pending = [];
  steps = 0;
  /** `policies`: a site's own preemption policies, named in the config like the built-in ones. `observer` hears of every plan. */
  constructor(nodes2, config, policies = [], observer = {}) {
    this.s = new CoreState(nodes2, { ...config });
    const known = { ...PREEMPTION_POLICIES, ...Object.fromEntries(policies.map((p) => [p.name, p])) };
    this.policies = { preemption: policyNamed(known, config.preemptionPolicy), urgent: policyNamed(known, config.urgentPreemptionPolicy) };
    this.placement = new QueuePlacement(this.s, this.s.images);
    this.observer = observer;
  }
  get config() {
    return this.s.config;
  }
  get table() {
    return this.s.table;
  }
  get link() {
    return this.s.link;
  }
  get costs() {
    return this.s.costs;
  }
  get time() {
    return this.s.now;
  }
  /** Moves with every change a plan depends on: a plan is applied only at the version it was made at. */
  get version() {
    return this.s.version;
  }
  lease(id) {
    return this.s.book.get(id);
  }
  /** All leases in submission order. */
  allLeases() {
    return this.s.book.all();
  }
  get queueLength() {
    return this.s.queue.length;
  }
  /** The next instant at which a planned segment starts or ends or a hold expires, Infinity if none. */
  nextEventTime() {
    return Math.min(nextBoundary(this.s), this.s.book.nextExpiry);
  }
  /**
   * Records a request that arrives at `now`; it is decided at the next advance(now), by applying
   * `plan` (what plan() answered for this very request) if nothing changed since, else by
   * planning it then.
   */
  submit(req, now, plan) {
    if (this.s.book.has(req.id)) return refusal("duplicate", `lease id '${req.id}' was already submitted`);
    const lease = this.s.book.add(req, workOf2(this.s, req));
    this.pending.push({ lease, plan });
    this.s.now = Math.max(this.s.now, now);
    return { ok: true };
  }
  /** Ends a running lease's current run at `now`: its work is done (or its client stopped it). */
  finishEarly(id, now) {
    return finishEarly(this.s, id, now);
  }
  // ---- the pool ----
  addNode(spec2, now) {
    this.mustBeAt(now, "addNode");
    return addNode(this.s, spec2);
  }
  closeNode(n, now) {
    this.mustBeAt(now, "closeNode");
    return closeNode(this.s, n, now);
  }
  /** Whether node n holds nothing now or later, so that it can leave the pool. */
  nodeIsIdle(n) {
    return this.s.table.reservationsOn(n).length === 0;
  }
  nodeIsDrained(n) {
    return this.s.drained.has(n);
  }
  nodeIsLost(n) {
    return this.s.lost.has(n);
  }
  loseNode(n, now) {
    this.mustBeAt(now, "loseNode");
    return loseNode(this.s, n, now);
  }
  regainNode(n, now) {
    this.mustBeAt(now, "regainNode");
    regainNode(this.s, n);
  }
  /**
   * Replaces cost figures of the model with measured ones. Whatever is planned from now on uses
   * them; what is already planned keeps its times, as other leases were planned around them. Leases
   * backfilled into the future are placed again, with the new figures.
   */
  setCosts(figures, now) {
    this.mustBeAt(now, "setCosts");
    const problem = costFiguresProblem(figures);
    if (problem) return refusal("invalid", problem);
    for (const key of COST_FIGURE_KEYS) {
      const value = figures[key];
      if (value !== void 0) this.s.config[key] = value;
    }
    this.s.costsChanged();
    this.s.mustReevaluate = true;
    return { ok: true };
  }
  // ---- negotiation ----
  /**
   * What the scheduler would do with `req` now, as a plan not applied: accepted with its
   * reservations, or refused with the earliest feasible start and alternatives, each of which
   * would be accepted if requested unchanged before anything else changes. Submit or hold the
   * same request with this plan to have exactly it applied. The scheduler must be at `now`.
   */
  plan(req, now, maxAlternatives = 3) {
    this.mustBeAt(now, "plan");
    return this.quoted(req, maxAlternatives);
  }
  /** The plan for `req` now, as the client reads it. */
  quote(req, now, maxAlternatives = 3) {
    this.mustBeAt(now, "quote");
    return quoteOf(this.quoted(req, maxAlternatives));
  }
  quoted(req, maxAlternatives) {
    const plan = planRequest(this.s, req, this.policies, { quoting: true, maxAlternatives, queueLength: this.s.queue.length });
    this.observer.planned?.(plan);
    return plan;
  }
  /** Decides `req` at once and holds it for `ttlSeconds`; see holds.ts. */
  hold(req, now, ttlSeconds, plan) {
    this.mustBeAt(now, "hold");
    return hold(this.s, req, ttlSeconds, this.policies, this.observer, plan);
  }
  /** Makes a held lease binding. */
  commit(id, now) {
    this.mustBeAt(now, "commit");
    return commit(this.s, id);
  }
  // ---- owner actions ----
  cancel(id, now) {
    this.mustBeAt(now, "cancel");
    return cancel(this.s, id, now);
  }
  suspendByOwner(id, now) {
    this.mustBeAt(now, "suspendByOwner");
    return suspendByOwner(this.s, id, now);
  }
  resumeByOwner(id, now) {
    this.mustBeAt(now, "resumeByOwner");
    return resumeByOwner(this.s, id);
  }
  /** Why the owner's action on lease `id` cannot be done now, or null if it can; changes nothing. */
  ownerActionRefusal(id, action) {
    return ownerActionRefusal(this.s, id, action);
  }
  /** Why the running lease `id` cannot move to `toNodes` now, live; null if it can. */
  liveMigrationRefusal(id, toNodes, now) {
    return liveMigrationRefusal(this.s, id, toNodes, now);
  }
  migrateLive(id, toNodes, now) {
    this.mustBeAt(now, "migrateLive");
    return migrateLive(this.s, id, toNodes, now);
  }
  /** From now on each step names the leases whose record changed (StepResult.changed), for a view that shows them. */
  trackChanges() {
    this.s.changed ??= /* @__PURE__ */ new Set();
  }
  // ---- time ----
  /** Applies everything that happens at `now`, then decides pending requests and the queue. */
  advance(now) {
    const s = this.s;
    if (now < s.now) throw new RangeError(`time went backwards: ${now} < ${s.now}`);
    s.now = now;
    const expired = expireHolds(s, now);
    const result = { now, started: s.started, ended: [], completed: s.completed, decisions: [], expired, failed: [], changed: s.changed ?? NOTHING_TRACKED };
    applyBoundaries(s, now, result);
    const pending = this.pending;
    this.pending = [];
    for (const { lease, plan } of pending) result.decisions.push(applyPlan(s, lease, currentPlan(s, lease.req, this.policies, plan, this.observer), this.policies, this.observer));
    if (s.mustReevaluate) reevaluateFuture(s, this.placement, now);
    processQueue(s, this.placement, now, (lease) => result.decisions.push({ ok: true, leaseId: lease.req.id, state: "scheduled" }));
    applyBoundaries(s, now, result);
    s.started = [];
    s.completed = [];
    if (s.changed) s.changed = /* @__PURE__ */ new Set();
    if (++this.steps % 512 === 0) {
      s.table.prune(now);
      s.link.prune(now);
    }
    return result;
  }
  mustBeAt(now, what) {
    if (now !== this.s.now) throw new RangeError(`${what} at ${now}, but the scheduler is at ${this.s.now}: advance it to ${now} first`);
  }
};
var NOTHING_TRACKED = /* @__PURE__ */ new Set();
function policyNamed(known, name2) {
  const policy = known[name2];
  if (!policy) throw new RangeError(`unknown preemption policy '${name2}'; use one of ${Object.keys(known).join(", ")}`);
  return policy;
}

// src/sim/early-ends.ts
var EarlyEnds = class {
  heap = new BoundaryHeap();
  /** A run whose real work is done at `at`; at its planned end too, since a suspension may be planned there. */
  expect(run, at) {
    if (at <= run.end) this.heap.push(at, 0, run);
  }
  /** The next instant at which a still-running lease ends early, Infinity if none. */
  nextTime() {
    for (; ; ) {
      const t = this.heap.peekTime();
      if (t === Infinity) return t;
      if (this.isLive(this.heap.peek(), t)) return t;
      this.heap.pop();
    }
  }
  /** Runs whose real work is done at exactly `now`. */
  takeAt(now) {
    const out = [];
    for (let run = this.takeNext(now); run !== void 0; run = this.takeNext(now)) out.push(run);
    return out;
  }
  /**
   * The next run whose real work is done at exactly `now`, taken; undefined if none is left. The
   * simulator's loop asks it at every event (half a million on the whole SDSC log) rather than
   * takeAt, which makes an array each time: ending one run leaves the others as they were.
   */
  takeNext(now) {
    return this.nextTime() === now ? this.heap.pop() : void 0;
  }
  isLive(run, t) {
    return run.active && !run.removed && t <= run.end;
  }
};

// src/sim/simulator.ts
function realWorkOf(req, config) {
  const real = Math.min(req.realDuration ?? req.duration, req.duration);
  return req.kind === "best-effort" ? stretchedSeconds(real, config.runtimeOverheadPercent) : real;
}
function mustDo(r) {
  if (!r.ok) throw new RangeError(r.message);
}
function simulate(input) {
  const { config } = input;
  const requests2 = [...input.requests].sort((a, b) => a.arrival - b.arrival);
  const scheduler2 = new Scheduler(input.nodes, config);
  const earlyEnds = new EarlyEnds();
  let next = 0;
  let lastReport = 0;
  for (; ; ) {
    const arrival = next < requests2.length ? requests2[next].arrival : Infinity;
    const now = Math.min(arrival, scheduler2.nextEventTime(), earlyEnds.nextTime());
    if (input.until !== void 0 && now > input.until) {
      if (scheduler2.time < input.until) scheduler2.advance(input.until);
      break;
    }
    if (now === Infinity) break;
    for (let run = earlyEnds.takeNext(now); run !== void 0; run = earlyEnds.takeNext(now)) {
      const lease = scheduler2.lease(run.leaseId);
      const after = lease.chain[lease.chain.indexOf(run) + 1];
      const morePlanned = lease.chainEndsIn === "suspend" || after !== void 0 && after.kind !== "shutdown";
      if (now < run.end || morePlanned) mustDo(scheduler2.finishEarly(run.leaseId, now));
    }
    while (next < requests2.length && requests2[next].arrival === now) mustDo(scheduler2.submit(requests2[next++], now));
    const step = scheduler2.advance(now);
    for (const seg of step.started) {
      if (seg.kind !== "run") continue;
      const lease = scheduler2.lease(seg.leaseId);
      earlyEnds.expect(seg, seg.start + realWorkOf(lease.req, config) - lease.done);
    }
    if (input.onProgress && next - lastReport >= 1e3) {
      lastReport = next;
      input.onProgress(next / requests2.length);
    }
  }
  input.onProgress?.(1);
  return scheduler2;
}

// src/sim/experiment.ts
function loadRequests(spec2) {
  const perNode = { cpu: spec2.pool.cpu, memoryMiB: spec2.pool.memoryMiB, diskMiB: 0 };
  const all = [];
  const seen = /* @__PURE__ */ new Set();
  [...spec2.traces, ...spec2.injections].forEach((path, k) => {
    for (const l of readWorkload(path, { perNode, allowStartBeforeArrival: true }).leases) {
      const id = seen.has(l.id) ? `f${k + 1}-${l.id}` : l.id;
      if (seen.has(id)) throw new RangeError(`${path}: lease id '${l.id}' appears twice; give each lease a unique id`);
      seen.add(id);
      all.push(id === l.id ? l : { ...l, id });
    }
  });
  return assignImages(all, spec2.images);
}
var SIM_HEAP_GROWING_PERCENT = 50;
function limitHeapGrowth() {
  if (process.execArgv.some((a) => a.startsWith("--heap-growing-percent") || a.startsWith("--heap_growing_percent"))) return;
  setFlagsFromString(`--heap-growing-percent=${SIM_HEAP_GROWING_PERCENT}`);
}
function runExperiment(spec2, requests2 = loadRequests(spec2)) {
  limitHeapGrowth();
  const nodes2 = uniformPool(spec2.pool);
  const started = process.hrtime.bigint();
  const scheduler2 = simulate({ requests: requests2, nodes: nodes2, config: spec2.config, onProgress: spec2.onProgress, until: spec2.until });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { metrics: computeMetrics(scheduler2.allLeases(), nodes2, wallSeconds), scheduler: scheduler2, nodes: nodes2 };
}

// src/sim/schedule-export.ts
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

// src/sim/json-bytes.ts
var JsonBytes = class {
  constructor(size, flush = null, dictionary = new Uint8Array(0)) {
    this.flush = flush;
    this.start = dictionary.length;
    this.pos = this.start;
    this.buf = new Uint8Array(this.start + size);
    this.buf.set(dictionary);
  }
  flush;
  buf;
  /** Where the text begins, after the dictionary. */
  start;
  /** Where the next byte goes: moved by the writer that asked for room with `reserve`. */
  pos;
  /** Bytes written since the last flush or clear. */
  get length() {
    return this.pos - this.start;
  }
  /** The bytes written since the last flush or clear, as UTF-8 text, leaving `drop` bytes off the end. */
  toString(drop = 0) {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + this.start, this.pos - this.start - drop).toString("utf8");
  }
  /** A copy of the bytes written since the last flush or clear. */
  bytes() {
    return this.buf.slice(this.start, this.pos);
  }
  clear() {
    this.pos = this.start;
  }
  /** Hands what is left to `flush`. */
  end() {
    if (this.flush !== null && this.pos > this.start) this.flush(this.buf.subarray(this.start, this.pos));
    this.pos = this.start;
  }
  /**
   * The buffer, with room for `n` bytes from `pos`: a writer of many short pieces asks once, puts
   * them (putBytes, putNum), and sets `pos` after them.
   */
  reserve(n) {
    this.room(n);
    return this.buf;
  }
  room(n) {
    if (this.pos + n <= this.buf.length) return;
    if (this.flush !== null && this.pos > this.start) {
      this.flush(this.buf.subarray(this.start, this.pos));
      this.pos = this.start;
      if (this.pos + n <= this.buf.length) return;
    }
    const bigger = new Uint8Array(Math.max(2 * this.buf.length, this.pos + n));
    bigger.set(this.buf.subarray(0, this.pos));
    this.buf = bigger;
  }
  /** Bytes that are JSON already (a literal of the format, encoded once). */
  lit(bytes) {
    this.room(bytes.length);
    this.pos = putBytes(this.buf, this.pos, bytes);
  }
  /** Text that is JSON already (a JSON.stringify result). */
  text(s) {
    this.room(3 * s.length);
    const b = this.buf;
    const start = this.pos;
    let p = start;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128) {
        this.pos = start + Buffer.from(b.buffer, b.byteOffset, b.length).write(s, start, "utf8");
        return;
      }
      b[p++] = c;
    }
    this.pos = p;
  }
  /** A string as JSON.stringify writes it; one with nothing to escape and only ASCII, nearly every id, byte by byte. */
  str(s) {
    this.room(s.length + 2);
    const b = this.buf;
    const start = this.pos;
    let p = start;
    b[p++] = 34;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 32 || c === 34 || c === 92 || c >= 128) {
        this.pos = start;
        this.text(JSON.stringify(s));
        return;
      }
      b[p++] = c;
    }
    b[p++] = 34;
    this.pos = p;
  }
  num(x) {
    this.room(NUM_ROOM);
    this.pos = putNum(this.buf, this.pos, x);
  }
};
function putBytes(b, p, src) {
  for (let i = 0; i < src.length; i++) b[p++] = src[i];
  return p;
}
var NUM_ROOM = 32;
function putNum(b, p, x) {
  if (x < 0 || (x | 0) !== x) {
    const text = Number.isFinite(x) ? `${x}` : "null";
    for (let i = 0; i < text.length; i++) b[p++] = text.charCodeAt(i);
    return p;
  }
  const end = p + digitCount(x);
  p = end;
  while (x >= 100) {
    const q = x / 100 | 0;
    const pair = 2 * (x - 100 * q);
    b[--p] = PAIRS[pair + 1];
    b[--p] = PAIRS[pair];
    x = q;
  }
  if (x >= 10) {
    b[p - 1] = PAIRS[2 * x + 1];
    b[p - 2] = PAIRS[2 * x];
  } else b[p - 1] = 48 + x;
  return end;
}
var PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 48 + Math.floor(i / 10);
  PAIRS[2 * i + 1] = 48 + i % 10;
}
function digitCount(x) {
  if (x < 1e5) return x < 10 ? 1 : x < 100 ? 2 : x < 1e3 ? 3 : x < 1e4 ? 4 : 5;
  return x < 1e6 ? 6 : x < 1e7 ? 7 : x < 1e8 ? 8 : x < 1e9 ? 9 : 10;
}

// src/sim/schedule-export.ts
var SCHEDULE_FORMAT = "vws.schedule/v1";
function scheduleHeader(nodes2) {
  return JSON.stringify({ format: SCHEDULE_FORMAT, nodes: nodes2.map((n) => ({ id: n.id, cpu: n.cpu, memoryMiB: n.memoryMiB })) });
}
function realDurationOf(lease) {
  return lease.req.realDuration ?? lease.realDuration ?? lease.req.duration;
}
function outcomeOf(lease) {
  if (lease.state === "completed") return "completed";
  if (lease.state === "rejected") return "rejected";
  if (lease.state === "cancelled") return "cancelled";
  return "pending";
}
var lit = (text) => new Uint8Array(Buffer.from(text));
var ID = lit('{"id":');
var REQUESTED_START = lit(',"requestedStart":');
var NO_REQUESTED_START = lit(',"requestedStart":null');
var DURATION = lit(',"duration":');
var REAL_DURATION = lit(',"realDuration":');
var NODES = lit(',"nodes":');
var CPU = lit(',"cpu":');
var MEMORY = lit(',"memoryMiB":');
var DEADLINE = lit(',"deadline":');
var REQUEUED = lit(',"outcome":"cancelled","requeued":true');
var OUTCOME = {
  completed: lit(',"outcome":"completed"'),
  rejected: lit(',"outcome":"rejected"'),
  cancelled: lit(',"outcome":"cancelled"'),
  pending: lit(',"outcome":"pending"')
};
var SEGMENTS = lit(',"segments":[');
var FIRST_START = lit('{"start":');
var START = lit(',{"start":');
var END = lit(',"end":');
var SEGMENT_NODES = lit(',"nodes":[');
var LINE_END = lit("]}\n");
var FIELDS_ROOM = 7 * 32 + 6 * NUM_ROOM;
var SEGMENT_ROOM = 4 * 32 + 2 * NUM_ROOM;
var LineWriter = class {
  out;
  ids;
  /** Where node i's JSON starts in the dictionary; at [n], one past the end (as if a comma followed). */
  offsets;
  /** Room for one node's id in a list, its comma included. */
  idRoom;
  /** Literals that end with a value that recurs (a kind), by that value. */
  kindThenArrival = /* @__PURE__ */ new Map();
  segmentKindThenEnd = /* @__PURE__ */ new Map();
  lastPerNode = null;
  lastPerNodeJson = new Uint8Array(0);
  constructor(nodes2, size, flush) {
    this.ids = nodes2.map((n) => n.id);
    const json = this.ids.map((id) => JSON.stringify(id));
    this.offsets = new Int32Array(json.length + 1);
    for (let i = 0; i < json.length; i++) this.offsets[i + 1] = this.offsets[i] + Buffer.byteLength(json[i]) + 1;
    this.idRoom = json.reduce((most, id) => Math.max(most, Buffer.byteLength(id) + 1), 0);
    this.out = new JsonBytes(size, flush, lit(json.join(",")));
  }
  /** The lease's lines, each newline-terminated (a periodic lease has none: its occurrences are leases of their own). */
  lease(l) {
    if (l.state === "expanded") return;
    const r = l.req;
    const out = this.out;
    const real = realDurationOf(l);
    if (!hasExpectedShape(r, real)) {
      out.text(slowLeaseText(l, this.ids));
      return;
    }
    for (let k = 0; k < l.lost.length; k++) {
      out.lit(ID);
      out.str(`${r.id}/attempt-${k + 1}`);
      this.fields(r, real);
      out.lit(REQUEUED);
      this.segments(l.lost[k].segments);
    }
    out.lit(ID);
    out.str(r.id);
    this.fields(r, real);
    out.lit(OUTCOME[outcomeOf(l)]);
    if (l.rejectReason) out.text(`,"reason":${JSON.stringify(l.rejectReason)}`);
    this.segments(l.history);
  }
  /** The members from "kind" to "deadline", each after a comma. */
  fields(r, realDuration) {
    if (r.perNode !== this.lastPerNode) {
      this.lastPerNode = r.perNode;
      const perNode = new JsonBytes(64);
      perNode.lit(CPU);
      perNode.num(r.perNode.cpu);
      perNode.lit(MEMORY);
      perNode.num(r.perNode.memoryMiB);
      this.lastPerNodeJson = perNode.bytes();
    }
    const kind = cached(this.kindThenArrival, r.kind, (json) => `,"kind":${json},"arrival":`);
    const out = this.out;
    const b = out.reserve(FIELDS_ROOM + kind.length + this.lastPerNodeJson.length);
    let p = putBytes(b, out.pos, kind);
    p = putNum(b, p, r.arrival);
    if (r.requestedStart === null) p = putBytes(b, p, NO_REQUESTED_START);
    else p = putNum(b, putBytes(b, p, REQUESTED_START), r.requestedStart);
    p = putNum(b, putBytes(b, p, DURATION), r.duration);
    p = putNum(b, putBytes(b, p, REAL_DURATION), realDuration);
    p = putNum(b, putBytes(b, p, NODES), r.nodes);
    p = putBytes(b, p, this.lastPerNodeJson);
    if (r.deadline !== void 0) p = putNum(b, putBytes(b, p, DEADLINE), r.deadline);
    out.pos = p;
  }
  /** "segments": [{start, end, nodes: [ids], kind}] of the segments that last a while, and the line's end. */
  segments(segments) {
    const out = this.out;
    out.lit(SEGMENTS);
    let first = true;
    for (const s of segments) {
      if (!(s.end > s.start)) continue;
      const nodes2 = s.nodes;
      const kind = cached(this.segmentKindThenEnd, s.kind, (json) => `],"kind":${json}}`);
      const b = out.reserve(SEGMENT_ROOM + kind.length + nodes2.length * this.idRoom);
      let p = putBytes(b, out.pos, first ? FIRST_START : START);
      first = false;
      p = putNum(b, p, s.start);
      p = putNum(b, putBytes(b, p, END), s.end);
      p = this.putNodes(b, putBytes(b, p, SEGMENT_NODES), nodes2);
      out.pos = putBytes(b, p, kind);
    }
    out.lit(LINE_END);
  }
  /** The ids of `nodes`, comma-separated, at `b[p]`, copied from the dictionary a run of consecutive nodes at a time. */
  putNodes(b, p, nodes2) {
    const offsets = this.offsets;
    for (let i = 0; i < nodes2.length; ) {
      let j = i + 1;
      while (j < nodes2.length && nodes2[j] === nodes2[j - 1] + 1) j++;
      if (i > 0) b[p++] = 44;
      const from = offsets[nodes2[i]];
      const to = offsets[nodes2[j - 1] + 1] - 1;
      b.copyWithin(p, from, to);
      p += to - from;
      i = j;
    }
    return p;
  }
};
function cached(literals, value, make) {
  let bytes = literals.get(value);
  if (bytes === void 0) {
    bytes = lit(make(JSON.stringify(value)));
    literals.set(value, bytes);
  }
  return bytes;
}
function hasExpectedShape(r, realDuration) {
  return typeof r.id === "string" && typeof r.kind === "string" && typeof r.arrival === "number" && typeof r.duration === "number" && typeof realDuration === "number" && typeof r.nodes === "number" && typeof r.perNode.cpu === "number" && typeof r.perNode.memoryMiB === "number" && (r.requestedStart === null || typeof r.requestedStart === "number") && (r.deadline === void 0 || typeof r.deadline === "number");
}
function slowLeaseText(l, ids) {
  const r = l.req;
  const common = {
    kind: r.kind,
    arrival: r.arrival,
    requestedStart: r.requestedStart,
    duration: r.duration,
    realDuration: realDurationOf(l),
    nodes: r.nodes,
    cpu: r.perNode.cpu,
    memoryMiB: r.perNode.memoryMiB
  };
  const deadline = r.deadline !== void 0 ? { deadline: r.deadline } : {};
  const segments = (list) => list.filter((s) => s.end > s.start).map((s) => ({ start: s.start, end: s.end, nodes: s.nodes.map((i) => ids[i]), kind: s.kind }));
  const reason = l.rejectReason ? { reason: l.rejectReason } : {};
  const lines = l.lost.map((a, k) => ({ id: `${r.id}/attempt-${k + 1}`, ...common, ...deadline, outcome: "cancelled", requeued: true, segments: segments(a.segments) }));
  lines.push({ id: r.id, ...common, ...deadline, outcome: outcomeOf(l), ...reason, segments: segments(l.history) });
  return lines.map((line) => `${JSON.stringify(line)}
`).join("");
}
function writeSchedule(path, leases, nodes2) {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "w");
  try {
    const writer = new LineWriter(nodes2, 1 << 20, (bytes) => {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    });
    writer.out.text(`${scheduleHeader(nodes2)}
`);
    for (const l of leases) writer.lease(l);
    writer.out.end();
  } finally {
    closeSync(fd);
  }
}

// src/core/config.ts
var DEFAULT_CONFIG = Object.freeze({
  backfill: "easy",
  preemption: "suspend",
  suspendRateMBps: 50,
  resumeRateMBps: 50,
  migration: true,
  migrateBandwidthMBps: 100,
  images: "predeployed",
  imageBandwidthMBps: 100,
  imageCacheMiB: 2e4,
  runtimeOverheadPercent: 0,
  bootSeconds: 0,
  shutdownSeconds: 0,
  suspendThresholdFactor: 1,
  preemptionPolicy: "youngest-first",
  urgentPreemptionPolicy: "least-work-lost",
  suspendedQueueOrder: "arrival"
});
function configWith(overrides) {
  return { ...DEFAULT_CONFIG, ...overrides };
}

// bench/hpdc08-configs.ts
var TRACES = new URL("../../shared/traces/", import.meta.url).pathname;
var BLUE_30_DAYS = `${TRACES}blue/30days.swf`;
var injection = (name2) => `${TRACES}blue/injected-30days/${name2}.lwf`;

// bench/sim-cases.ts
var BLUE_500_WORK30_LWF = new URL("./fixtures/blue-500-work30.lwf", import.meta.url).pathname;
var SDSC_BLUE_LOG = `${TRACES}archive/SDSC-BLUE-2000-4.2-cln.swf.gz`;
var NO_IMAGES = { choice: "none", count: 1, sizeMiB: 1, seed: 1 };
var CASES = {
  "blue-500-work30-xml": { traces: [BLUE_500_WORK30_LWF], injections: [], pool: STUDY_POOL, config: configWith({}), images: NO_IMAGES },
  "blue-30days-work30": {
    traces: [BLUE_30_DAYS],
    injections: [injection("work_30-dur_3h-size_2medium")],
    pool: STUDY_POOL,
    config: configWith({}),
    images: NO_IMAGES
  },
  "sdsc-blue-whole-log": { traces: [SDSC_BLUE_LOG], injections: [], pool: { ...STUDY_POOL, nodes: 1152 }, config: configWith({}), images: NO_IMAGES }
};

// bench/sim-case.ts
var { positionals: [name], values } = parseArgs({ allowPositionals: true, options: { schedule: { type: "string" } } });
var spec = CASES[name];
if (!spec) throw new Error(`unknown case '${name}'; cases: ${Object.keys(CASES).join(", ")}`);
var seconds = (since) => Number(process.hrtime.bigint() - since) / 1e9;
var parseStart = process.hrtime.bigint();
var requests = loadRequests(spec);
var parseSeconds = seconds(parseStart);
var { metrics, scheduler, nodes } = runExperiment(spec, requests);
var exportSeconds = 0;
if (values.schedule) {
  const exportStart = process.hrtime.bigint();
  writeSchedule(values.schedule, scheduler.allLeases(), nodes);
  exportSeconds = seconds(exportStart);
}
console.log(JSON.stringify({
  case: name,
  leases: metrics.leases,
  parseSeconds,
  simulateSeconds: metrics.wallSeconds,
  exportSeconds,
  peakRssMiB: process.resourceUsage().maxRSS / 1024,
  allBestEffort: metrics.allBestEffort
}));
