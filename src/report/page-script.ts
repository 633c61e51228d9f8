/**
 * The charts of a report, by canvas id and heading (html.ts lays out one figure each;
 * PAGE_SCRIPT draws them in this order).
 */
export const CHART_IDS: readonly (readonly [string, string])[] = [
  ['partitions', 'Rows per partition over time'],
  ['encodings', 'Stored bytes per column and encoding'],
  ['ratios', 'Compression ratio per column (raw / stored)'],
  ['cardinality', 'Distinct values per tag (series cardinality)'],
  ['chunk-sizes', 'Chunk sizes (stored bytes)'],
  ['versions', 'Versions over time'],
];

/**
 * The browser script of the report page (plain ES2017, run by the page, not by Node): builds
 * the six Chart.js charts from #quiver-report-data with animations off (so each chart is drawn
 * when it is created), then counts per canvas the pixels drawn at all and those in a
 * dataset's colour, and writes the result into #quiver-report-status:
 *   data-charts (charts expected), data-drawn (charts whose data pixels are not zero, or that
 *   have no data to draw), data-errors (JSON list of errors), data-results (JSON per chart).
 * ASCII only, other characters as \u escapes of the browser's JavaScript: a raw template's
 * text reaches the CLI bundle as it is, and an ASCII bundle starts faster (scripts/bundle-cli.mjs).
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var status = document.getElementById('quiver-report-status');
  var errors = [];
  var results = [];
  var ids = ${JSON.stringify(CHART_IDS.map(([id]) => id))};
  function publish() {
    var drawn = results.filter(function (r) { return r.dataInk > 0 || r.points === 0; }).length;
    status.dataset.charts = String(ids.length);
    status.dataset.drawn = String(drawn);
    status.dataset.errors = JSON.stringify(errors);
    status.dataset.results = JSON.stringify(results);
    status.textContent = drawn + ' of ' + ids.length + ' charts drawn' + (errors.length ? '; errors: ' + errors.join('; ') : '');
  }
  window.addEventListener('error', function (e) { errors.push(String(e.message || e)); publish(); });
  if (typeof Chart !== 'function') { errors.push('Chart.js did not load'); publish(); return; }
  var data = JSON.parse(document.getElementById('quiver-report-data').textContent);
  var palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.size = 11;

  function bytes(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
  }
  function count(n) { return Number(n).toLocaleString('en-US'); }
  function iso(ms) { var d = new Date(ms); return isNaN(d.getTime()) ? String(ms) : d.toISOString().replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, 'Z'); }
  function note(id, text) { document.getElementById(id + '-note').textContent = text; }
  function bar(labels, values, color, yTitle, tick, scale) {
    var y = { beginAtZero: true, title: { display: true, text: yTitle }, ticks: { callback: tick, precision: 0 } };
    if (scale === 'log') y = { type: 'logarithmic', title: { display: true, text: yTitle }, ticks: { callback: tick } };
    return {
      type: 'bar',
      data: { labels: labels, datasets: [{ data: values, backgroundColor: color, borderWidth: 0 }] },
      options: { plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) { return tick(c.parsed.y); } } } },
        scales: { y: y } },
    };
  }

  var charts = {
    partitions: function () {
      var p = data.partitions;
      note('partitions', p.length + ' partition(s) by ' + data.summary.partition + ', oldest first');
      return bar(p.map(function (x) { return x.key; }), p.map(function (x) { return x.rows; }), palette[0], 'rows', count);
    },
    encodings: function () {
      var cols = data.columns, encodings = [];
      cols.forEach(function (c) { Object.keys(c.byEncoding).forEach(function (e) { if (encodings.indexOf(e) < 0) encodings.push(e); }); });
      encodings.sort();
      note('encodings', encodings.length + ' encoding chain(s); bars stack the stored bytes of each column\'s pages by chain');
      return {
        type: 'bar',
        data: { labels: cols.map(function (c) { return c.name; }), datasets: encodings.map(function (e, i) {
          return { label: e, data: cols.map(function (c) { return c.byEncoding[e] || 0; }), backgroundColor: palette[i % palette.length], borderWidth: 0 };
        }) },
        options: { plugins: { legend: { position: 'bottom', labels: { boxWidth: 10 } }, tooltip: { callbacks: { label: function (c) { return c.dataset.label + ': ' + bytes(c.parsed.y); } } } },
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'stored bytes' }, ticks: { callback: bytes } } } },
      };
    },
    ratios: function () {
      var cols = data.columns.filter(function (c) { return c.bytes > 0; });
      note('ratios', 'raw bytes (Arrow layout) over stored bytes, whole table; logarithmic scale');
      return bar(cols.map(function (c) { return c.name; }), cols.map(function (c) { return c.rawBytes / c.bytes; }), palette[2], 'ratio', function (v) { return (v >= 10 ? Number(v).toFixed(0) : Number(v).toFixed(1)) + '\u00d7'; }, 'log');
    },
    cardinality: function () {
      var t = data.tags;
      var capped = t.filter(function (x) { return x.capped; }).map(function (x) { return x.tag; });
      note('cardinality', t.length === 0 ? 'the table has no tags' : 'distinct non-null values per tag' + (capped.length ? '; counting stopped at the limit for ' + capped.join(', ') + ' (at least that many)' : ''));
      return bar(t.map(function (x) { return x.tag + (x.capped ? ' (\u2265)' : ''); }), t.map(function (x) { return x.distinct; }), palette[4], 'distinct values', count);
    },
    'chunk-sizes': function () {
      var h = data.chunkSizes;
      note('chunk-sizes', data.summary.chunks + ' chunk file(s) in power-of-two bins');
      return bar(h.map(function (b) { return bytes(b.lo) + '\u2013' + bytes(b.hi); }), h.map(function (b) { return b.count; }), palette[1], 'chunks', count);
    },
    versions: function () {
      var v = data.versions;
      note('versions', v.length + ' retained version(s); points: rows (left), stored bytes (right)');
      return {
        type: 'line',
        data: { datasets: [
          { label: 'rows', data: v.map(function (x) { return { x: x.committedAtMs, y: x.rows, op: x.operation, version: x.version }; }), borderColor: palette[0], backgroundColor: palette[0], pointRadius: 4, yAxisID: 'y', stepped: true },
          { label: 'stored bytes', data: v.map(function (x) { return { x: x.committedAtMs, y: x.bytes, op: x.operation, version: x.version }; }), borderColor: palette[3], backgroundColor: palette[3], pointRadius: 3, yAxisID: 'y1', stepped: true },
        ] },
        options: { parsing: false, plugins: { legend: { position: 'bottom', labels: { boxWidth: 10 } },
          tooltip: { callbacks: { title: function (items) { var r = items[0].raw; return 'version ' + r.version + ' (' + r.op + ') ' + iso(r.x); },
            label: function (c) { return c.dataset.label + ': ' + (c.datasetIndex === 0 ? count(c.parsed.y) : bytes(c.parsed.y)); } } } },
          scales: { x: { type: 'linear', ticks: { callback: iso, maxRotation: 0, autoSkipPadding: 40 } },
            y: { beginAtZero: true, title: { display: true, text: 'rows' }, ticks: { callback: count } },
            y1: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'stored bytes' }, ticks: { callback: bytes } } } },
      };
    },
  };

  function rgb(hex) { return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)]; }
  /** Pixels drawn at all, and pixels exactly in one of the datasets' colours (bars, points). */
  function ink(canvas, colors) {
    var px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    var want = colors.map(rgb), any = 0, data = 0;
    for (var i = 0; i < px.length; i += 4) {
      if (px[i + 3] === 0) continue;
      any++;
      if (px[i + 3] !== 255) continue;
      for (var k = 0; k < want.length; k++) {
        if (px[i] === want[k][0] && px[i + 1] === want[k][1] && px[i + 2] === want[k][2]) { data++; break; }
      }
    }
    return { ink: any, dataInk: data };
  }

  ids.forEach(function (id) {
    try {
      var config = charts[id]();
      var canvas = document.getElementById(id);
      var chart = new Chart(canvas, config);
      var datasets = chart.data.datasets;
      var points = datasets.reduce(function (s, d) { return s + d.data.filter(function (v) { return (v && typeof v === 'object' ? v.y : v) > 0; }).length; }, 0);
      var colors = datasets.map(function (d) { return d.backgroundColor; });
      var r = ink(canvas, colors);
      results.push({ id: id, points: points, width: canvas.width, height: canvas.height, ink: r.ink, dataInk: r.dataInk });
    } catch (e) {
      errors.push(id + ': ' + (e && e.message ? e.message : String(e)));
    }
  });
  publish();
})();
`;
