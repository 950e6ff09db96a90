/* hparams-tools report: draws the plotly figures and the sortable leaderboards.
   All data come from <script type="application/json"> blocks; every cell is set with
   textContent, so nothing from the event files is ever parsed as HTML. No network access. */
(function () {
  "use strict";
  function readJSON(id) { return JSON.parse(document.getElementById(id).textContent); }

  // Figures are drawn lazily: a figure is drawn when it comes within LAZY_MARGIN of the viewport, and
  // plotly.js itself (inline as inert text) is evaluated only after the first screen is drawn, or when
  // a figure needs it. Opening the page thus costs its HTML and the first screen's images, not plotly.js
  // plus every figure (3D ones through a software WebGL rasterizer take seconds each).
  // body[data-first-screen] is set (the page's clock, ms) once everything visible at load is drawn;
  // each plotly box gets data-drawn="1" once drawn. The browser tests and the benchmark wait for both.
  var LAZY_MARGIN = "300px 0px";
  var plotlyReady = null;

  function loadPlotly() {
    if (!plotlyReady) {
      plotlyReady = new Promise(function (resolve) {
        var src = document.getElementById("plotly-js");
        if (src && !window.Plotly) {
          var script = document.createElement("script");  // an inline script: allowed by the page's CSP
          script.textContent = src.textContent;
          document.head.appendChild(script);  // runs now, synchronously
        }
        resolve(window.Plotly);
      });
    }
    return plotlyReady;
  }

  function drawFigure(div) {
    if (div.getAttribute("data-drawn") !== null) return Promise.resolve();
    div.setAttribute("data-drawn", "0");
    return loadPlotly().then(function (Plotly) {
      if (!Plotly) return;  // a page written without plotly.js: the box stays data-drawn="0"
      var spec = readJSON(div.getAttribute("data-fig"));
      var layout = spec.layout || {};
      layout.autosize = true;
      return Promise.resolve(Plotly.newPlot(div, spec.data || [], layout, { responsive: true, displaylogo: false }))
        .then(function () { div.setAttribute("data-drawn", "1"); });
    });
  }

  function inViewport(el) {
    var r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < (window.innerHeight || document.documentElement.clientHeight);
  }

  function drawFigures() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("div.plotly-box[data-fig]"));
    var images = Array.prototype.slice.call(document.images).filter(inViewport);
    var first = boxes.filter(inViewport).map(drawFigure).concat(images.map(function (img) {
      return img.decode ? img.decode().catch(function () {}) : Promise.resolve();
    }));
    Promise.all(first).then(function () {
      document.body.setAttribute("data-first-screen", String(Math.round(performance.now())));
      // warm plotly.js up once the page has loaded, so that scrolling to a figure does not wait for it
      var warm = function () { setTimeout(loadPlotly, 100); };
      if (document.readyState === "complete") warm(); else window.addEventListener("load", warm);
    });
    if (!("IntersectionObserver" in window)) { boxes.forEach(drawFigure); return; }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        observer.unobserve(entry.target);
        drawFigure(entry.target);
      });
    }, { rootMargin: LAZY_MARGIN });
    boxes.forEach(function (div) { if (div.getAttribute("data-drawn") === null) observer.observe(div); });
  }

  // one number format per column: the Python side (page.column_format) picks the spec
  function formatNumber(v, spec) {
    if (!spec) return fmt(v);
    if (spec.t === "int") return Math.round(v).toLocaleString("en-US");
    if (spec.t === "fixed") return v.toLocaleString("en-US", { minimumFractionDigits: spec.d, maximumFractionDigits: spec.d });
    return v.toExponential(spec.d);
  }

  function fmt(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
    return String(v);
  }

  function compare(a, b, dir) {
    var an = a === null || a === undefined || a === "", bn = b === null || b === undefined || b === "";
    if (an || bn) return an === bn ? 0 : (an ? 1 : -1);  // missing values always last
    if (typeof a === "number" && typeof b === "number") return dir * (a - b);
    return dir * String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  function Leaderboard(root) {
    var data = readJSON(root.getAttribute("data-source"));
    var table = root.querySelector("table"), thead = table.querySelector("thead"), tbody = table.querySelector("tbody");
    var filter = root.querySelector("input.lb-filter"), more = root.querySelector("button.lb-more");
    var info = root.querySelector(".lb-info");
    var rows = data.rows.slice(), shown = data.page, sortCol = -1, sortDir = 1;
    var headRow = document.createElement("tr");
    data.columns.forEach(function (name, i) {
      var th = document.createElement("th");
      th.textContent = name;
      th.title = "click to sort";
      th.addEventListener("click", function () { sortBy(i); });
      headRow.appendChild(th);
    });
    thead.appendChild(headRow);

    function visible() {
      var q = filter.value.trim().toLowerCase();
      if (!q) return rows;
      return rows.filter(function (r) { return r.some(function (v) { return v !== null && String(v).toLowerCase().indexOf(q) >= 0; }); });
    }
    function render() {
      var list = visible(), frag = document.createDocumentFragment();
      list.slice(0, shown).forEach(function (r) {
        var tr = document.createElement("tr");
        if (r[1] === data.best) tr.className = "best";
        r.forEach(function (v, i) {
          var td = document.createElement("td");
          td.textContent = typeof v === "number" ? formatNumber(v, (data.formats || [])[i]) : fmt(v);
          if (typeof v === "number") td.className = "num";
          if (i === data.status_col && v !== null) td.className = "status-" + String(v).replace(/[^A-Z]/g, "");
          tr.appendChild(td);
        });
        frag.appendChild(tr);
      });
      tbody.replaceChildren(frag);
      info.textContent = "showing " + Math.min(shown, list.length) + " of " + list.length + " sessions";
      more.hidden = shown >= list.length;
    }
    function sortBy(i) {
      sortDir = (sortCol === i) ? -sortDir : 1;
      sortCol = i;
      rows.sort(function (a, b) { return compare(a[i], b[i], sortDir); });
      headRow.querySelectorAll("th").forEach(function (th, j) {
        th.className = j === i ? (sortDir > 0 ? "sorted-asc" : "sorted-desc") : "";
      });
      render();
    }
    filter.addEventListener("input", render);
    more.addEventListener("click", function () { shown += data.page * 5; render(); });
    render();
  }

  function init() {
    document.querySelectorAll("div.leaderboard-box").forEach(function (root) { new Leaderboard(root); });
    document.body.setAttribute("data-ready", "1");
    drawFigures();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
