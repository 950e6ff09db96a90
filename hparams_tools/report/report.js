/* hparams-tools report: draws the plotly figures and the sortable leaderboards.
   All data come from <script type="application/json"> blocks; every cell is set with
   textContent, so nothing from the event files is ever parsed as HTML. No network access. */
(function () {
  "use strict";
  function readJSON(id) { return JSON.parse(document.getElementById(id).textContent); }

  function drawFigures() {
    document.querySelectorAll("div.plotly-box[data-fig]").forEach(function (div) {
      var spec = readJSON(div.getAttribute("data-fig"));
      var layout = spec.layout || {};
      layout.autosize = true;
      window.Plotly.newPlot(div, spec.data || [], layout, { responsive: true, displaylogo: false });
    });
  }

  function fmt(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") {
      if (Number.isInteger(v)) return String(v);
      var a = Math.abs(v);
      return (a !== 0 && (a < 1e-3 || a >= 1e6)) ? v.toExponential(3) : String(Number(v.toPrecision(5)));
    }
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
          td.textContent = fmt(v);
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
    if (window.Plotly) drawFigures();
    document.body.setAttribute("data-ready", "1");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
