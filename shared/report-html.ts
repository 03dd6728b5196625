// The report as one self-contained HTML page: summary cards, a hand-written
// SVG stacked bar chart of the categories per group, a sortable table of the
// groups, a sortable and filterable table of the sites, scope usage and
// findings per code. No network: no external script, style, font or image,
// and a Content-Security-Policy that forbids fetching anything. The same page
// runs in the VS Code webview, where a click on a site posts a message
// instead of following a vscode:// link. Pure (a string out), so the client
// and the CLI share it and tests read it.

import { CATEGORIES, CATEGORY_INFO, byLabel, type Category, type ReportDocument } from './report';

export interface HtmlOptions {
  /** The href of a site (vscode://file/ABS:LINE:COL); default: no link, only the text. */
  readonly link?: (file: string, line: number, column: number) => string | undefined;
  /** In a VS Code webview: a click on a site posts {command: 'open', file, line, column}. */
  readonly webview?: { readonly nonce: string; readonly cspSource: string };
  /** Chart rows shown before "show all" (default 30). */
  readonly chartRows?: number;
}

/** Okabe-Ito colours: distinct for the common colour-vision deficiencies. */
export const CATEGORY_COLOURS: Readonly<Record<Category, string>> = {
  'under-atomic': '#D55E00',
  redundant: '#009E73',
  convertible: '#0072B2',
  unexplained: '#E69F00',
  other: '#9AA0A6',
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const num = (n: number): string => n.toLocaleString('en-US');
const pct = (n: number, total: number): string => (total === 0 ? '0%' : `${((100 * n) / total).toFixed(n > 0 && (100 * n) / total < 1 ? 1 : 0)}%`);

/** A round axis maximum (1, 2, 2.5 or 5 times a power of ten) at or above `max`. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function chart(doc: ReportDocument, rowsShown: number): string {
  const groups = doc.groups.filter((g) => g.sites > 0);
  if (groups.length === 0) return '<p class="empty">No explicit GFP_NOFS or GFP_NOIO site.</p>';
  const W = 1000;
  const labelW = 210;
  const valueW = 60;
  const plotW = W - labelW - valueW;
  const rowH = 22;
  const barH = 14;
  const max = niceMax(Math.max(...groups.map((g) => g.sites)));
  const x = (v: number): number => labelW + (plotW * v) / max;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max).filter((v, i, all) => i === 0 || Math.round(v) !== Math.round(all[i - 1]));
  const axis = [`<svg class="axis" viewBox="0 0 ${W} 22" width="100%" role="presentation">`];
  for (const t of ticks) axis.push(`<text x="${x(t).toFixed(1)}" y="15" text-anchor="middle">${num(Math.round(t))}</text>`);
  axis.push('</svg>');
  const h = groups.length * rowH + 4;
  const svg = [`<svg class="bars" viewBox="0 0 ${W} ${h}" width="100%" role="img" aria-label="Categories per ${esc(byLabel(doc.by))}">`];
  for (const t of ticks) svg.push(`<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="0" y2="${h}"/>`);
  groups.forEach((g, i) => {
    const y = i * rowH + 4;
    const label = g.name.length > 30 ? `…${g.name.slice(-29)}` : g.name;
    svg.push(`<g class="row${i >= rowsShown ? ' extra' : ''}" data-group="${esc(g.name)}" tabindex="0">`);
    svg.push(`<title>${esc(g.name)}: ${num(g.sites)} site${g.sites === 1 ? '' : 's'} — ${CATEGORIES.map((c) => `${CATEGORY_INFO[c].label} ${g.counts[c]}`).join(', ')}</title>`);
    svg.push(`<rect class="hit" x="0" y="${y - 3}" width="${W}" height="${rowH}"/>`);
    svg.push(`<text class="label" x="${labelW - 8}" y="${y + barH - 3}" text-anchor="end">${esc(label)}</text>`);
    let at = 0;
    for (const c of CATEGORIES) {
      const n = g.counts[c];
      if (n === 0) continue;
      const x0 = x(at);
      const w = Math.max(x(at + n) - x0, 0.8);
      svg.push(`<rect x="${x0.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${barH}" fill="${CATEGORY_COLOURS[c]}"><title>${esc(g.name)} — ${CATEGORY_INFO[c].label}: ${num(n)}</title></rect>`);
      at += n;
    }
    svg.push(`<text class="value" x="${(x(g.sites) + 6).toFixed(1)}" y="${y + barH - 3}">${num(g.sites)}</text>`);
    svg.push('</g>');
  });
  svg.push('</svg>');
  const more = groups.length > rowsShown
    ? `<button type="button" id="chart-more" data-rows="${rowsShown}" data-total="${groups.length}">Show all ${groups.length} ${esc(byLabel(doc.by))}s</button>`
    : '';
  const collapsedH = Math.min(groups.length, rowsShown) * rowH + 4;
  return `<div class="chart" data-collapsed-height="${collapsedH}" data-full-height="${h}" data-width="${W}">${axis.join('')}<div class="chart-body">${svg.join('\n')}</div>${more}</div>`;
}

function legend(doc: ReportDocument): string {
  return `<ul class="legend">${CATEGORIES.map((c) => `<li><span class="swatch" style="background:${CATEGORY_COLOURS[c]}"></span>${esc(CATEGORY_INFO[c].label)} <span class="muted">${num(doc.totals.counts[c])}</span></li>`).join('')}</ul>`;
}

function miniBar(counts: Record<Category, number>, total: number): string {
  if (total === 0) return '';
  return `<span class="mini">${CATEGORIES.filter((c) => counts[c] > 0).map((c) => `<i style="flex:${counts[c]};background:${CATEGORY_COLOURS[c]}"></i>`).join('')}</span>`;
}

const pill = (c: Category): string => `<span class="pill" style="--c:${CATEGORY_COLOURS[c]}">${esc(CATEGORY_INFO[c].label)}</span>`;

export function renderHtml(doc: ReportDocument, options: HtmlOptions = {}): string {
  const t = doc.totals;
  const rowsShown = options.chartRows ?? 30;
  const webview = options.webview;
  const where = (file: string, line: number, column: number): string => {
    const href = webview ? '#' : options.link?.(file, line, column);
    const data = `data-file="${esc(file)}" data-line="${line}" data-column="${column}"`;
    const text = `${esc(file)}:${line}`;
    return href !== undefined ? `<a class="loc" href="${esc(href)}" ${data}>${text}</a>` : `<span class="loc" ${data}>${text}</span>`;
  };
  const csp = webview
    ? `default-src 'none'; style-src ${webview.cspSource} 'unsafe-inline'; script-src 'nonce-${webview.nonce}'; img-src ${webview.cspSource} data:;`
    : "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:;";
  const by = byLabel(doc.by);
  const cards = [
    `<div class="card total"><div class="n">${num(t.sites)}</div><div class="k">explicit sites</div><div class="s">${num(t.nofs)} GFP_NOFS · ${num(t.noio)} GFP_NOIO</div></div>`,
    ...CATEGORIES.map((c) => `<div class="card" style="--c:${CATEGORY_COLOURS[c]}"><div class="n">${num(t.counts[c])}</div><div class="k">${esc(CATEGORY_INFO[c].label)}</div><div class="s">${pct(t.counts[c], t.sites)} of sites</div></div>`),
    `<div class="card total"><div class="n">${num(t.saves)}</div><div class="k">scope saves</div><div class="s">memalloc_*_save() covering ${num(doc.scopes.reduce((n, s) => n + s.covers, 0))} allocations</div></div>`,
  ].join('');
  const shareBar = t.sites > 0
    ? `<div class="share" role="img" aria-label="Share of each category">${CATEGORIES.filter((c) => t.counts[c] > 0).map((c) => `<i style="flex:${t.counts[c]};background:${CATEGORY_COLOURS[c]}" title="${esc(CATEGORY_INFO[c].label)}: ${num(t.counts[c])} (${pct(t.counts[c], t.sites)})"></i>`).join('')}</div>`
    : '';

  const groupRows = doc.groups.map((g) => `<tr data-group="${esc(g.name)}"><td class="name" data-v="${esc(g.name)}"><a href="#sites" class="group-link">${esc(g.name)}</a></td>${[g.nofs, g.noio, ...CATEGORIES.map((c) => g.counts[c]), g.sites, g.saves].map((v) => `<td class="num" data-v="${v}">${v === 0 ? '<span class="zero">0</span>' : num(v)}</td>`).join('')}<td class="bar">${miniBar(g.counts, g.sites)}</td></tr>`);
  const groupTable = `<table class="sortable" id="groups"><thead><tr><th data-type="text">${esc(by)}</th><th data-type="num">NOFS</th><th data-type="num">NOIO</th>${CATEGORIES.map((c) => `<th data-type="num"><span class="swatch" style="background:${CATEGORY_COLOURS[c]}"></span>${esc(CATEGORY_INFO[c].label)}</th>`).join('')}<th data-type="num" class="sorted desc">total</th><th data-type="num">saves</th><th class="nosort">share</th></tr></thead><tbody>${groupRows.join('\n')}</tbody><tfoot><tr><td>total</td>${[t.nofs, t.noio, ...CATEGORIES.map((c) => t.counts[c]), t.sites, t.saves].map((v) => `<td class="num">${num(v)}</td>`).join('')}<td class="bar">${miniBar(t.counts, t.sites)}</td></tr></tfoot></table>`;

  // Category first (the actionable ones lead), then file order.
  const ordered = [...doc.sites].sort((a, b) => CATEGORIES.indexOf(a.category) - CATEGORIES.indexOf(b.category));
  const siteRows = ordered.map((s) => {
    const text = `${s.file} ${s.function} ${s.callee} ${s.mask} ${s.why} ${s.group}`.toLowerCase();
    return `<tr data-cat="${s.category}" data-group="${esc(s.group)}" data-text="${esc(text)}"><td data-v="${CATEGORIES.indexOf(s.category)}">${pill(s.category)}</td><td class="mono" data-v="${esc(`${s.file}:${String(s.line).padStart(6, '0')}`)}">${where(s.file, s.line, s.column)}</td><td class="mono" data-v="${esc(s.function)}">${esc(s.function)}()</td><td class="mono" data-v="${esc(s.callee)}">${esc(s.callee)}(<span class="mask">${esc(s.mask)}</span>)</td><td data-v="${esc(s.group)}">${esc(s.group)}</td><td class="why" data-v="${esc(s.why)}">${esc(s.why)}</td></tr>`;
  });
  const chips = CATEGORIES.map((c) => `<label class="chip" style="--c:${CATEGORY_COLOURS[c]}"><input type="checkbox" value="${c}" checked><span>${esc(CATEGORY_INFO[c].label)} <b>${num(t.counts[c])}</b></span></label>`).join('');
  const groupOptions = doc.groups.filter((g) => g.sites > 0).map((g) => `<option value="${esc(g.name)}">${esc(g.name)} (${g.sites})</option>`).join('');
  const siteTable = `<div class="filters"><input type="search" id="q" placeholder="Filter: file, function, allocator, mask, reason…" aria-label="Filter sites"><select id="group" aria-label="${esc(by)}"><option value="">all ${esc(by)}s</option>${groupOptions}</select><div class="chips">${chips}</div><span id="count" class="muted"></span></div>
<div class="scroll"><table class="sortable" id="site-table"><colgroup><col style="width:112px"><col style="width:22%"><col style="width:18%"><col style="width:19%"><col style="width:9%"><col></colgroup><thead><tr><th data-type="num">category</th><th data-type="text">site</th><th data-type="text">function</th><th data-type="text">allocation</th><th data-type="text">${esc(by)}</th><th data-type="text">why</th></tr></thead><tbody>${siteRows.join('\n')}</tbody></table></div>`;

  const maxScopes = 300;
  const scopeRows = doc.scopes.slice(0, maxScopes).map((s) => `<tr><td class="mono" data-v="${esc(`${s.file}:${String(s.line).padStart(6, '0')}`)}">${where(s.file, s.line, s.column)}</td><td class="mono" data-v="${esc(s.function)}">${esc(s.function)}()</td><td class="mono" data-v="${esc(s.api)}">${esc(s.api)}()</td><td class="num" data-v="${s.covers}">${num(s.covers)}</td><td class="num" data-v="${s.coversAlways}">${num(s.coversAlways)}</td><td data-v="${s.escapes ? 1 : 0}">${s.escapes ? 'escapes' : ''}</td></tr>`);
  const scopeTable = doc.scopes.length === 0
    ? '<p class="empty">No memalloc_*_save() call.</p>'
    : `<table class="sortable" id="scopes"><thead><tr><th data-type="text">save</th><th data-type="text">function</th><th data-type="text">scope</th><th data-type="num" class="sorted desc">covers</th><th data-type="num">on every path</th><th data-type="num">cookie</th></tr></thead><tbody>${scopeRows.join('\n')}</tbody></table>${doc.scopes.length > maxScopes ? `<p class="muted">The ${maxScopes} saves that cover the most allocations; all ${num(doc.scopes.length)} are in the JSON output.</p>` : ''}`;
  const entered = doc.enteredBy.length === 0
    ? ''
    : `<h3>Scopes entered by callees</h3><table class="sortable compact" id="entered"><thead><tr><th data-type="text">callee</th><th data-type="num" class="sorted desc">allocation sites covered</th></tr></thead><tbody>${doc.enteredBy.slice(0, 25).map((e) => `<tr><td class="mono" data-v="${esc(e.callee)}">${esc(e.callee)}()</td><td class="num" data-v="${e.covers}">${num(e.covers)}</td></tr>`).join('')}</tbody></table>`;
  const findings = doc.findings.length === 0
    ? '<p class="empty">No findings.</p>'
    : `<table class="sortable compact" id="findings"><thead><tr><th data-type="text">code</th><th data-type="text">severity</th><th data-type="num" class="sorted desc">count</th></tr></thead><tbody>${doc.findings.map((f) => `<tr><td class="mono" data-v="${esc(f.code)}">${esc(f.code)}</td><td data-v="${esc(f.severity)}"><span class="sev ${esc(f.severity)}">${esc(f.severity)}</span></td><td class="num" data-v="${f.count}">${num(f.count)}</td></tr>`).join('')}</tbody></table>`;
  const precedence = CATEGORIES.map((c) => `<li>${pill(c)} ${esc(CATEGORY_INFO[c].meaning)}</li>`).join('');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GFP_NOFS / GFP_NOIO census — kernel ${esc(doc.kernel.version)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>GFP_NOFS / GFP_NOIO census</h1>
<p class="lede">Where each explicit <code>GFP_NOFS</code> and <code>GFP_NOIO</code> stands on the way to <code>memalloc_nofs_save()</code> scopes: already redundant, convertible at a transaction start or lock, or unexplained.</p>
<p class="meta">Kernel ${esc(doc.kernel.version)} · ${num(doc.files)} files analysed · grouped by ${esc(by)} · gfp-lens ${esc(doc.tool.version)}</p>
<p class="meta small">${esc(doc.kernel.source)}</p>
</header>
<section class="cards">${cards}</section>
${shareBar}
<section>
<h2>Categories per ${esc(by)}</h2>
${legend(doc)}
${chart(doc, rowsShown)}
<p class="hint">Click a bar to list its sites.</p>
</section>
<section>
<h2>By ${esc(by)}</h2>
<div class="scroll">${groupTable}</div>
</section>
<section id="sites">
<h2>Sites</h2>
${siteTable}
</section>
<section>
<h2>Scope usage</h2>
<p class="muted">Each <code>memalloc_*_save()</code> with the allocation sites of its function inside the scope it opened, on some path and on every path. A cookie that escapes (stored in a struct, returned) keeps the scope open for the callers.</p>
<div class="scroll">${scopeTable}</div>
${entered}
</section>
<section>
<h2>Findings per code</h2>
${findings}
</section>
<footer>
<h2>Categories</h2>
<p>Each explicit <code>GFP_NOFS</code>/<code>GFP_NOIO</code> (a written name that takes effect, with any modifiers) belongs to the first category that applies, in this order:</p>
<ol class="precedence">${precedence}</ol>
</footer>
</main>
<script${webview ? ` nonce="${esc(webview.nonce)}"` : ''}>${SCRIPT}${webview ? WEBVIEW_SCRIPT : ''}</script>
</body>
</html>
`;
}

const STYLE = `
:root{--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#d8dee4;--soft:#f6f8fa;--accent:#0969da;--grid:#eaeef2;--hover:#f3f6fa;
--mono:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace;
--sans:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,sans-serif}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--soft:#161b22;--accent:#4493f8;--grid:#21262d;--hover:#1c2128}}
body.vscode-light{--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#d8dee4;--soft:#f6f8fa;--accent:#0969da;--grid:#eaeef2;--hover:#f3f6fa}
body.vscode-dark,body.vscode-high-contrast{--bg:#1e1e1e;--fg:#d4d4d4;--muted:#9d9d9d;--line:#3c3c3c;--soft:#252526;--accent:#4fc1ff;--grid:#2d2d2d;--hover:#2a2d2e}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 var(--sans);-webkit-font-smoothing:antialiased}
main{max-width:1280px;margin:0 auto;padding:28px 32px 48px}
h1{font-size:26px;font-weight:650;margin:0 0 4px;letter-spacing:-.01em}
h2{font-size:18px;font-weight:600;margin:0 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:15px;font-weight:600;margin:20px 0 8px}
section,footer{margin-top:32px}
.meta{margin:0;color:var(--muted)}
.lede{margin:2px 0 8px;font-size:15px;max-width:900px}
.small{font-size:12px}
.muted{color:var(--muted)}
code,.mono{font-family:var(--mono);font-size:12.5px}
a{color:var(--accent);text-decoration:none}
a:hover{text-decoration:underline}
.cards{display:grid;grid-template-columns:repeat(7,minmax(0,1fr));gap:12px;margin-top:22px}
@media (max-width:1000px){.cards{grid-template-columns:repeat(4,minmax(0,1fr))}}
.card{border:1px solid var(--line);border-top:4px solid var(--c,var(--fg));border-radius:8px;padding:12px 14px;background:var(--bg)}
.card.total{--c:var(--muted);background:var(--soft)}
.card .n{font-size:26px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.15}
.card .k{font-weight:600;margin-top:2px}
.card .s{color:var(--muted);font-size:12px}
.share{display:flex;height:10px;border-radius:5px;overflow:hidden;margin-top:14px;background:var(--grid)}
.share i,.mini i{display:block;height:100%}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:6px 18px;margin:0 0 10px;padding:0}
.legend li{display:flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.chart{border:1px solid var(--line);border-radius:8px;padding:8px 12px 10px}
.chart svg{display:block}
.chart .axis text{font:11px var(--sans);fill:var(--muted)}
.chart .label{font:12px var(--mono);fill:var(--fg)}
.chart .value{font:11.5px var(--sans);fill:var(--muted);font-variant-numeric:tabular-nums}
.chart .grid{stroke:var(--grid);stroke-width:1}
.chart .hit{fill:transparent}
.chart .row{cursor:pointer}
.chart .row:hover .hit,.chart .row:focus .hit{fill:var(--hover)}
.chart .row:focus{outline:none}
.chart-body{overflow:hidden}
.chart.collapsed .extra{display:none}
#chart-more{margin-top:8px}
button,select,input[type=search]{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:5px 10px}
button{cursor:pointer;background:var(--soft)}
button:hover{border-color:var(--muted)}
.hint{color:var(--muted);font-size:12px;margin:6px 0 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{position:sticky;top:0;background:var(--soft);font-weight:600;font-size:12.5px;white-space:nowrap;z-index:1}
th[data-type]{cursor:pointer;user-select:none}
th[data-type]:hover{color:var(--accent)}
th.sorted::after{content:" ▾";color:var(--muted)}
th.sorted.asc::after{content:" ▴"}
td.num,th[data-type=num]{text-align:right}
tfoot td{font-weight:600;border-top:2px solid var(--line);border-bottom:none}
tbody tr:hover{background:var(--hover)}
.zero{color:var(--muted);opacity:.5}
td.bar{width:150px}
.mini{display:flex;height:9px;width:140px;border-radius:3px;overflow:hidden;background:var(--grid);margin-top:5px}
table.compact{width:auto;min-width:420px}
.filters{display:flex;flex-wrap:wrap;align-items:center;gap:10px;margin-bottom:10px}
.filters input[type=search]{flex:1 1 320px;min-width:240px}
.chips{display:flex;flex-wrap:wrap;gap:6px}
.chip{display:inline-flex;align-items:center;cursor:pointer;user-select:none}
.chip input{position:absolute;opacity:0;pointer-events:none}
.chip span{border:1px solid var(--c);border-radius:999px;padding:2px 10px;font-size:12.5px;color:var(--fg)}
.chip span b{font-weight:600;margin-left:2px}
.chip input:checked+span{background:color-mix(in srgb,var(--c) 18%,transparent)}
.chip input:not(:checked)+span{opacity:.45;text-decoration:line-through}
.chip input:focus-visible+span{outline:2px solid var(--accent)}
.pill{display:inline-block;white-space:nowrap;font-size:12px;font-weight:600;padding:1px 8px;border-radius:999px;color:var(--fg);background:color-mix(in srgb,var(--c) 22%,transparent);border:1px solid color-mix(in srgb,var(--c) 70%,transparent)}
#site-table{table-layout:fixed;min-width:980px}
#site-table td{overflow-wrap:anywhere;font-size:13px;padding:4px 10px}
#site-table th{text-align:left}
#site-table td.why{color:var(--muted);font-size:13px}
#site-table .mask{color:var(--muted)}
#site-table tr.hidden{display:none}
.sev{font-size:12px;font-weight:600}
.sev.error{color:#cf222e}.sev.warning{color:#9a6700}.sev.information{color:var(--accent)}.sev.hint{color:var(--muted)}
.empty{color:var(--muted);font-style:italic}
footer ol{padding-left:20px}
footer li{margin:6px 0}
`;

const SCRIPT = `
(function(){
  function val(td){var v=td?td.getAttribute('data-v'):'';return v===null?td.textContent:v;}
  document.querySelectorAll('table.sortable').forEach(function(table){
    var ths=table.tHead.rows[0].cells;
    Array.prototype.forEach.call(ths,function(th,i){
      var type=th.getAttribute('data-type'); if(!type) return;
      th.addEventListener('click',function(){
        var desc=th.classList.contains('sorted')?!th.classList.contains('desc'):type==='num';
        Array.prototype.forEach.call(ths,function(o){o.classList.remove('sorted','asc','desc');});
        th.classList.add('sorted',desc?'desc':'asc');
        var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
        rows.sort(function(a,b){
          var x=val(a.cells[i]),y=val(b.cells[i]),r;
          if(type==='num'){r=Number(x)-Number(y);}else{r=x<y?-1:x>y?1:0;}
          return desc?-r:r;
        });
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
  var q=document.getElementById('q'),group=document.getElementById('group'),count=document.getElementById('count');
  var table=document.getElementById('site-table');
  function filter(){
    if(!table) return;
    var words=(q.value||'').toLowerCase().split(/\\s+/).filter(Boolean);
    var cats={};document.querySelectorAll('.chip input').forEach(function(c){cats[c.value]=c.checked;});
    var g=group.value,shown=0,rows=table.tBodies[0].rows;
    for(var i=0;i<rows.length;i++){
      var r=rows[i],t=r.getAttribute('data-text');
      var ok=cats[r.getAttribute('data-cat')]&&(!g||r.getAttribute('data-group')===g)&&words.every(function(w){return t.indexOf(w)>=0;});
      r.classList.toggle('hidden',!ok); if(ok) shown++;
    }
    count.textContent=shown===rows.length?rows.length+' sites':shown+' of '+rows.length+' sites';
  }
  if(table){
    q.addEventListener('input',filter);group.addEventListener('change',filter);
    document.querySelectorAll('.chip input').forEach(function(c){c.addEventListener('change',filter);});
    filter();
  }
  function showGroup(name){
    if(!group) return;
    group.value=name; filter();
    document.getElementById('sites').scrollIntoView({behavior:'smooth'});
  }
  document.querySelectorAll('.chart .row').forEach(function(row){
    row.addEventListener('click',function(){showGroup(row.getAttribute('data-group'));});
    row.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();showGroup(row.getAttribute('data-group'));}});
  });
  document.querySelectorAll('#groups .group-link').forEach(function(a){
    a.addEventListener('click',function(e){e.preventDefault();showGroup(a.closest('tr').getAttribute('data-group'));});
  });
  var chart=document.querySelector('.chart'),more=document.getElementById('chart-more');
  if(chart&&more){
    var svg=chart.querySelector('svg.bars'),w=chart.getAttribute('data-width'),label=more.textContent;
    var setRows=function(all){
      chart.classList.toggle('collapsed',!all);
      svg.setAttribute('viewBox','0 0 '+w+' '+chart.getAttribute(all?'data-full-height':'data-collapsed-height'));
      more.textContent=all?'Show the first '+more.getAttribute('data-rows'):label;
      more.setAttribute('aria-expanded',String(all));
    };
    setRows(false);
    more.addEventListener('click',function(){setRows(chart.classList.contains('collapsed'));});
  }
})();
`;

const WEBVIEW_SCRIPT = `
(function(){
  var vscode=acquireVsCodeApi();
  document.addEventListener('click',function(e){
    var a=e.target.closest&&e.target.closest('[data-file]');
    if(!a||!a.classList.contains('loc')) return;
    e.preventDefault();
    vscode.postMessage({command:'open',file:a.getAttribute('data-file'),line:Number(a.getAttribute('data-line')),column:Number(a.getAttribute('data-column'))});
  });
})();
`;
