import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { QuiverError } from '../errors.js';
import type { ReportData } from './collect.js';
import { PAGE_SCRIPT, CHART_IDS } from './page-script.js';

/**
 * The report as one self-contained HTML page: the data as JSON, Chart.js's UMD build and the
 * page's own script inlined, no request to anything. The page writes how many charts it drew
 * (and any error) into #quiver-report-status, which the tests read from a headless browser.
 */
export function renderReport(data: ReportData): string {
  const title = `Quiver report: ${data.table}`;
  const s = data.summary;
  const ratio = s.bytes > 0 ? (s.rawBytes / s.bytes).toFixed(2) : '-';
  const facts: [string, string][] = [
    ['rows', s.rows.toLocaleString('en-US')],
    ['chunks', s.chunks.toLocaleString('en-US')],
    ['partitions', `${data.partitions.length.toLocaleString('en-US')} (by ${s.partition})`],
    ['stored', `${bytes(s.bytes)} (${bytes(s.rawBytes)} raw, ${ratio}×)`],
    ['time', s.timeMin === null ? '-' : `${s.timeMin} .. ${s.timeMax} (stored in ${s.timeUnit})`],
    ['version', `${s.version} (${data.versions.length} retained)`],
    ['tags', s.tags.join(', ') || '-'],
    ['fields', s.fields.map((f) => `${f.name}: ${f.type}`).join(', ') || '-'],
  ];
  const figures = CHART_IDS.map(([id, heading]) => `<figure><h2>${escapeHtml(heading)}</h2><div class="plot"><canvas id="${id}" role="img" aria-label="${escapeHtml(heading)}"></canvas></div><figcaption id="${id}-note"></figcaption></figure>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; background: #fff; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
h2 { font-size: 1rem; margin: 0 0 .4rem; }
table.facts { border-collapse: collapse; margin-bottom: 1rem; }
table.facts th { text-align: left; padding: .1rem 1rem .1rem 0; color: #57606a; font-weight: normal; vertical-align: top; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 1.2rem; }
figure { margin: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: .8rem; }
.plot { position: relative; height: 300px; }
figcaption { color: #57606a; font-size: .85rem; min-height: 1em; }
#quiver-report-status { display: block; color: #57606a; margin-top: 1rem; font-size: .8rem; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<table class="facts">${facts.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>
<div class="grid">
${figures.join('\n')}
</div>
<output id="quiver-report-status" data-charts="0" data-drawn="0">charts not drawn: the page's script did not run</output>
<p style="color:#57606a;font-size:.8rem">Generated ${escapeHtml(data.generatedAt)} by quiver report.</p>
<script type="application/json" id="quiver-report-data">${jsonForScript(data)}</script>
<script>${inlineScript(chartJs())}</script>
<script>${inlineScript(PAGE_SCRIPT)}</script>
</body>
</html>
`;
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0, v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that cannot end its <script> element (names and tag values are user data). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Script text for an inline <script>: no `</script` inside, no source map comment. */
function inlineScript(code: string): string {
  return code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n').replace(/<\/(script)/gi, '<\\/$1');
}

let chartSource: string | undefined;

/** Chart.js's UMD build, read from the installed package (a dependency). */
export function chartJs(): string {
  if (chartSource === undefined) {
    let path = '(not found)';
    try {
      path = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
      chartSource = readFileSync(path, 'utf8');
    } catch (error) {
      throw new QuiverError(`report: cannot read Chart.js (${path}): ${(error as Error).message.split('\n')[0]}; reinstall quiver's dependencies (npm install)`);
    }
  }
  return chartSource;
}
