/**
 * A small, strict parser of the Prometheus text exposition format 0.0.4,
 * written for the tests: every line must parse, and the families must be
 * consistent (HELP and TYPE once each and before the samples, samples of a
 * family together, no series twice, histograms cumulative with `+Inf`
 * equal to `_count`). It throws an `Error` naming the line otherwise.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help?: string;
  type?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function unescape(s: string, allowed: string, line: number): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "\\") {
      out += s[i];
      continue;
    }
    const c = s[++i];
    if (c === undefined || !allowed.includes(c)) {
      throw new Error(`line ${line}: bad escape \\${c ?? ""}`);
    }
    out += c === "n" ? "\n" : c;
  }
  return out;
}

function parseValue(s: string, line: number): number {
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) {
    throw new Error(`line ${line}: bad value ${JSON.stringify(s)}`);
  }
  return Number(s);
}

function familyOf(sampleName: string, families: Map<string, Family>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length);
      if (families.get(base)?.type === "histogram") return base;
    }
  }
  return sampleName;
}

function parseSample(text: string, n: number): Sample {
  const m = NAME.exec(text);
  if (m === null) throw new Error(`line ${n}: no metric name`);
  const name = m[0];
  let rest = text.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = rest.slice(1);
    while (!rest.startsWith("}")) {
      const l = LABEL.exec(rest);
      if (l === null) throw new Error(`line ${n}: bad label name in ${JSON.stringify(rest)}`);
      rest = rest.slice(l[0].length);
      if (!rest.startsWith('="')) throw new Error(`line ${n}: expected =" after ${l[0]}`);
      rest = rest.slice(2);
      let i = 0;
      while (i < rest.length && rest[i] !== '"') i += rest[i] === "\\" ? 2 : 1;
      if (i >= rest.length) throw new Error(`line ${n}: unterminated label value`);
      if (Object.hasOwn(labels, l[0])) throw new Error(`line ${n}: label ${l[0]} twice`);
      labels[l[0]] = unescape(rest.slice(0, i), '\\"n', n);
      rest = rest.slice(i + 1);
      if (rest.startsWith(",")) rest = rest.slice(1);
      else if (!rest.startsWith("}")) throw new Error(`line ${n}: expected , or }`);
    }
    rest = rest.slice(1);
  }
  const parts = rest.split(" ");
  if (parts[0] !== "" || parts.length < 2 || parts.length > 3) {
    throw new Error(`line ${n}: expected " value [timestamp]", got ${JSON.stringify(rest)}`);
  }
  const value = parseValue(parts[1], n);
  if (parts.length === 3 && !/^-?\d+$/.test(parts[2])) throw new Error(`line ${n}: bad timestamp`);
  return { name, labels, value };
}

function seriesKey(s: Sample): string {
  return s.name + JSON.stringify(Object.entries(s.labels).sort());
}

/** Parses and checks an exposition; returns the families in order. */
export function parsePrometheus(text: string): Family[] {
  if (!text.endsWith("\n")) throw new Error("the text must end with a line feed");
  const lines = text.slice(0, -1).split("\n");
  const families = new Map<string, Family>();
  const done = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined;
  const enter = (name: string, n: number): Family => {
    if (current !== name) {
      if (done.has(name)) throw new Error(`line ${n}: family ${name} not contiguous`);
      if (current !== undefined) done.add(current);
      current = name;
    }
    let f = families.get(name);
    if (f === undefined) families.set(name, f = { name, samples: [] });
    return f;
  };
  lines.forEach((line, i) => {
    const n = i + 1;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (m === null) {
        if (/^# (HELP|TYPE)/.test(line)) throw new Error(`line ${n}: bad ${line}`);
        return; // a comment
      }
      const f = enter(m[2], n);
      if (f.samples.length > 0) throw new Error(`line ${n}: ${m[1]} after samples`);
      if (m[1] === "HELP") {
        if (f.help !== undefined) throw new Error(`line ${n}: HELP twice`);
        f.help = unescape(m[3], "\\n", n);
      } else {
        if (f.type !== undefined) throw new Error(`line ${n}: TYPE twice`);
        if (!TYPES.has(m[3])) throw new Error(`line ${n}: bad type ${m[3]}`);
        f.type = m[3];
      }
      return;
    }
    if (line.trim() === "") throw new Error(`line ${n}: empty line`);
    const s = parseSample(line, n);
    const f = enter(familyOf(s.name, families), n);
    const key = seriesKey(s);
    if (seen.has(key)) throw new Error(`line ${n}: series ${key} twice`);
    seen.add(key);
    if (f.type === "histogram") {
      if (s.name === `${f.name}_bucket` && !Object.hasOwn(s.labels, "le")) {
        throw new Error(`line ${n}: bucket without le`);
      }
      if (s.name === f.name) throw new Error(`line ${n}: histogram sample without suffix`);
    } else if (s.name !== f.name) throw new Error(`line ${n}: sample ${s.name} in ${f.name}`);
    if (f.type === "counter" && !(s.value >= 0)) throw new Error(`line ${n}: negative counter`);
    f.samples.push(s);
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return [...families.values()];
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, Sample[]>();
  for (const s of f.samples) {
    const { le: _le, ...rest } = s.labels;
    const k = JSON.stringify(Object.entries(rest).sort());
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  for (const [k, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`);
    const sum = samples.filter((s) => s.name === `${f.name}_sum`);
    const count = samples.filter((s) => s.name === `${f.name}_count`);
    if (buckets.length === 0 || sum.length !== 1 || count.length !== 1) {
      throw new Error(`${f.name}${k}: needs buckets, one _sum and one _count`);
    }
    let lastLe = -Infinity;
    let lastCount = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels.le, 0);
      if (!(le > lastLe)) throw new Error(`${f.name}${k}: le not increasing at ${b.labels.le}`);
      if (b.value < lastCount) throw new Error(`${f.name}${k}: bucket counts not cumulative`);
      lastLe = le;
      lastCount = b.value;
    }
    if (buckets[buckets.length - 1].labels.le !== "+Inf") {
      throw new Error(`${f.name}${k}: last bucket is not +Inf`);
    }
    if (lastCount !== count[0].value) throw new Error(`${f.name}${k}: +Inf != _count`);
  }
}

/** The value of one series, or undefined. */
export function sampleValue(
  families: Family[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const f of families) {
    for (const s of f.samples) {
      if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) {
        return s.value;
      }
    }
  }
  return undefined;
}
