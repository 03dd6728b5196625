// Invariant: every fixture under test/fixtures/ gives exactly the findings and
// site contexts its annotations state, on both parser backends, and both
// backends agree. Findings are exhaustive (an unexpected one fails), and every
// finding code has at least one positive fixture (checked at the end).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FINDING_RULES } from '../shared/findings';
import { parseVersion } from '../shared/model/version';
import { AnalysisContext } from '../server/analysis/context';
import { LineIndex, type FileAnalysis } from '../server/analysis/analyze-file';
import { analyzeSource, summaryContext } from '../server/analysis/summary-index';
import { WorkspaceIndex } from '../server/analysis/workspace-index';
import { inProcessAnalyser } from '../server/cli/check-file';
import { createParser } from '../server/syntax/parser';
import type { BackendName, CParser } from '../server/syntax/backend';
import { parseFixture } from './fixture-format';
import { FIXTURE_ROOT, fixtureFiles } from './fixture-files';

const contexts = new Map<string, AnalysisContext>();
function contextFor(version: string): AnalysisContext {
  let ctx = contexts.get(version);
  if (!ctx) {
    ctx = new AnalysisContext(parseVersion(version));
    contexts.set(version, ctx);
  }
  return ctx;
}

function render(analysis: FileAnalysis, text: string): { findings: string[]; sites: Map<number, { ctx: string[]; verdicts: Record<string, string> }> } {
  const lines = new LineIndex(text);
  const findings = analysis.findings.map((f) => `${lines.line(f.span.start) + 1}: ${f.code}(${f.severity}) ${f.message}`);
  const sites = new Map<number, { ctx: string[]; verdicts: Record<string, string> }>();
  for (const s of analysis.sites) {
    const e = s.evaluation;
    const unknown = e.variants.length === 0 || s.input.contextUnknown || s.input.states.some((st) => st.unknown);
    sites.set(lines.line(s.call.calleeSpan.start), {
      ctx: unknown ? ['unknown'] : e.variants.map((v) => v.canonical).sort(),
      verdicts: { fs: e.fs, io: e.io, mayBlock: e.mayBlock, atomic: e.atomic },
    });
  }
  return { findings, sites };
}

/**
 * A fixture under test/fixtures/trees/<name>/ is analysed with every .c file of
 * that directory as a workspace index (a small tree: summaries cross files,
 * names resolve through its name table); any other fixture is a tree of its
 * own (summaries of its own functions still apply).
 */
const trees = new Map<string, Promise<ReadonlyMap<string, FileAnalysis>>>();
function treeAnalysisFor(backend: BackendName, parser: CParser, file: string, version: string): Promise<ReadonlyMap<string, FileAnalysis>> {
  const rel = path.relative(FIXTURE_ROOT, file).split(path.sep);
  const members = rel[0] === 'trees' && rel.length > 2 ? fixtureFiles(path.join(FIXTURE_ROOT, 'trees', rel[1])) : [file];
  const key = `${backend}:${members[0]}:${version}`;
  let t = trees.get(key);
  if (!t) {
    t = analyseAsIndex(contextFor(version), parser, members);
    trees.set(key, t);
  }
  return t;
}

async function analyseAsIndex(ctx: AnalysisContext, parser: CParser, members: readonly string[]): Promise<ReadonlyMap<string, FileAnalysis>> {
  const index = new WorkspaceIndex(path.dirname(members[0]), 'fixtures');
  const stats = await index.refresh(members, inProcessAnalyser(ctx, parser));
  assert.ok(stats.settled, 'the index of a fixture tree settles');
  // As check does once the index has settled: lower what findings need.
  const summaries = summaryContext(ctx, index.summaries(), index.nameTable(), index.callerInput(), true);
  const out = new Map<string, FileAnalysis>();
  for (const m of members) {
    const analysis = analyzeSource(ctx, parser, fs.readFileSync(m, 'utf8'), m, summaries);
    if (analysis) out.set(m, analysis);
  }
  return out;
}

const EMPTY: FileAnalysis = { ir: { functions: [], threadFunctions: new Set() }, functions: [], sites: [], findings: [] };

const seenCodes = new Set<string>();
const parsers = new Map<BackendName, CParser>();
const results = new Map<string, Map<BackendName, string>>();

for (const backend of ['native', 'wasm'] as const) {
  for (const file of fixtureFiles()) {
    const name = path.relative(FIXTURE_ROOT, file);
    test(`fixture ${name} [${backend}]`, async () => {
      let parser = parsers.get(backend);
      if (!parser) {
        parser = await createParser(backend);
        parsers.set(backend, parser);
      }
      const text = fs.readFileSync(file, 'utf8');
      const fixture = parseFixture(text);
      {
        const analysis = (await treeAnalysisFor(backend, parser, file, fixture.version ?? '6.12')).get(file) ?? EMPTY;
        const got = render(analysis, text);
        const problems: string[] = [];
        const lines = new LineIndex(text);
        // Findings: each expected one must match a distinct actual one; leftovers are unexpected.
        const remaining = analysis.findings.map((f) => ({ line: lines.line(f.span.start), f }));
        for (const exp of fixture.findings) {
          const idx = remaining.findIndex(
            (r) => r.line === exp.line && r.f.code === exp.code && (!exp.severity || r.f.severity === exp.severity) && (!exp.contains || r.f.message.includes(exp.contains)),
          );
          if (idx < 0) problems.push(`[${fixture.caseOf[exp.line]}] line ${exp.line + 1}: expected ${exp.code}${exp.severity ? `(${exp.severity})` : ''}${exp.contains ? ` ~"${exp.contains}"` : ''}, not found`);
          else {
            seenCodes.add(exp.code);
            remaining.splice(idx, 1);
          }
        }
        for (const r of remaining) problems.push(`[${fixture.caseOf[r.line]}] line ${r.line + 1}: unexpected ${r.f.code}(${r.f.severity}): ${r.f.message}`);
        for (const exp of fixture.sites) {
          const site = got.sites.get(exp.line);
          if (!site) {
            problems.push(`[${fixture.caseOf[exp.line]}] line ${exp.line + 1}: expected an allocation site, found none`);
            continue;
          }
          if (exp.ctx && JSON.stringify([...exp.ctx].sort()) !== JSON.stringify(site.ctx)) {
            problems.push(`[${fixture.caseOf[exp.line]}] line ${exp.line + 1}: ctx ${site.ctx.join(' || ')}, expected ${exp.ctx.join(' || ')}`);
          }
          for (const [k, v] of Object.entries(exp.verdicts ?? {})) {
            if (site.verdicts[k] !== v) problems.push(`[${fixture.caseOf[exp.line]}] line ${exp.line + 1}: ${k}=${site.verdicts[k]}, expected ${v}`);
          }
        }
        const summary = JSON.stringify({ f: got.findings, s: [...got.sites].sort((a, b) => a[0] - b[0]) });
        const perBackend = results.get(name) ?? new Map<BackendName, string>();
        perBackend.set(backend, summary);
        results.set(name, perBackend);
        assert.deepEqual(problems, [], `\n${problems.join('\n')}\n\nall findings:\n${got.findings.join('\n')}`);
      }
    });
  }
}

test('both backends give identical results on every fixture', () => {
  const diffs: string[] = [];
  for (const [name, per] of results) {
    if (per.size === 2 && per.get('native') !== per.get('wasm')) diffs.push(name);
  }
  assert.ok(results.size > 0, 'no fixture ran');
  assert.deepEqual(diffs, []);
});

test('every finding code has a positive fixture', () => {
  const missing = FINDING_RULES.map((r) => r.code).filter((c) => !seenCodes.has(c));
  assert.deepEqual(missing, [], `codes without a positive fixture: ${missing.join(', ')}`);
});

test('every finding code has its own fixture file with a negative case', () => {
  const problems: string[] = [];
  for (const rule of FINDING_RULES) {
    const file = path.join(FIXTURE_ROOT, `${rule.code}.c`);
    if (!fs.existsSync(file)) {
      problems.push(`${rule.code}: no ${path.relative(FIXTURE_ROOT, file)}`);
      continue;
    }
    const fixture = parseFixture(fs.readFileSync(file, 'utf8'));
    if (!fixture.caseOf.some((c) => /^negative\b/.test(c))) problems.push(`${rule.code}: no "### negative" case`);
    if (!fixture.findings.some((f) => f.code === rule.code)) problems.push(`${rule.code}: its file expects no ${rule.code} finding`);
  }
  assert.deepEqual(problems, []);
});
