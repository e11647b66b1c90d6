// vdcaudit findings explorer. Inlined into the report; its sha256 is in the page's
// Content-Security-Policy. It reads the findings from the JSON data block (never evaluated as
// script), builds every cell with textContent (never innerHTML), and renders one page of rows
// at a time so a 100,000-finding report stays responsive.
(function () {
  "use strict";
  var PAGE = 50;
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // The findings data is gzip'd JSON in base64 (a tenth of the bytes the browser must read and
  // scan); decompressed by the browser's own DecompressionStream, no network involved.
  function loadData(done) {
    var binary = atob($("vdc-data").textContent.trim());
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    new Response(stream).text().then(function (text) { done(JSON.parse(text)); });
  }

  function start(raw) {
    var S = raw.strings;
    var rules = raw.rules;
    // Row layout, kept in step with html_report.py's _finding_row().
    var FP = 0, RULE = 1, STATUS = 2, SEV = 3, CAT = 4, NAME = 5, TYPE = 6, ID = 7, SUB = 8, RG = 9,
        MSG = 10, EVIDENCE = 11, WAIVER = 12, SOURCE = 13, LOCATION = 14;
    var rows = raw.findings;
    var byFp = {};
    rows.forEach(function (r, i) { byFp[r[FP]] = i; });
    // Fingerprints that already have a server-rendered card: the table must not reuse their ids.
    var carded = {};
    document.querySelectorAll("article.finding[id^='finding-']").forEach(function (el) {
      carded[el.id.slice(8)] = true;
    });

    var controls = { status: $("fx-status"), severity: $("fx-severity"), category: $("fx-category"),
                     subscription: $("fx-subscription"), rule: $("fx-rule"), q: $("fx-search") };
    var tbody = document.querySelector("#fx-table tbody");
    var state = { matches: [], page: 0, open: null };
    var haystack = null;
    function str(i) { return i === null || i === undefined || i < 0 ? "" : S[i]; }
    function column(r) { return r[WAIVER] ? "waived" : r[STATUS]; }

    function option(select, value, label) {
      var o = el("option", null, label);
      o.value = value;
      select.appendChild(o);
    }
    function fillSelects() {
      var subs = {};
      rows.forEach(function (r) { subs[str(r[SUB]) || "(none)"] = true; });
      Object.keys(subs).sort().forEach(function (s) { option(controls.subscription, s, s); });
      rules.forEach(function (rule) { option(controls.rule, rule.id, rule.id + " " + rule.title); });
    }

    function searchText(i) {
      if (!haystack) {
        haystack = rows.map(function (r) {
          var rule = rules[r[RULE]];
          return [r[NAME], r[ID], str(r[TYPE]), str(r[MSG]), rule.id, rule.title, str(r[SUB]), str(r[RG])]
            .join("\n").toLowerCase();
        });
      }
      return haystack[i];
    }

    function apply() {
      var f = { status: controls.status.value, severity: controls.severity.value, category: controls.category.value,
                subscription: controls.subscription.value, rule: controls.rule.value,
                q: controls.q.value.trim().toLowerCase() };
      var out = [];
      for (var i = 0; i < rows.length; i++) {
        var r = rows[i];
        if (f.status === "gaps") {
          if (r[WAIVER] || !(r[STATUS] === "FAIL" || r[STATUS] === "UNKNOWN" || r[STATUS] === "ERROR")) continue;
        } else if (f.status && column(r) !== f.status) continue;
        if (f.severity && r[SEV] !== f.severity) continue;
        if (f.category && r[CAT] !== f.category) continue;
        if (f.subscription && (str(r[SUB]) || "(none)") !== f.subscription) continue;
        if (f.rule && rules[r[RULE]].id !== f.rule) continue;
        if (f.q && searchText(i).indexOf(f.q) < 0) continue;
        out.push(i);
      }
      state.matches = out;
      state.page = 0;
      state.open = null;
      render();
    }

    function remediationBlock(rule, parent) {
      var box = el("div", "remediation");
      box.appendChild(el("div", null, rule.remediation.summary || ""));
      ["portal", "az", "powershell", "bicep"].forEach(function (k) {
        if (!rule.remediation[k]) return;
        var line = el("div");
        line.appendChild(el("span", "tag", k));
        line.appendChild(el("code", "break", rule.remediation[k]));
        box.appendChild(line);
      });
      parent.appendChild(box);
    }

    function detail(i) {
      var r = rows[i], rule = rules[r[RULE]];
      var tr = el("tr", "detail"), td = el("td");
      td.colSpan = 6;
      var dl = el("dl", "kv");
      function kv(k, v, cls) { dl.appendChild(el("dt", null, k)); dl.appendChild(el("dd", cls, v)); }
      kv("Resource id", r[ID], "mono break");
      kv("Type", str(r[TYPE]));
      kv("Subscription", str(r[SUB]) || "(none)");
      kv("Resource group", str(r[RG]) || "(none)");
      kv("Source", str(r[SOURCE]));
      if (r[LOCATION] && r[LOCATION].file) kv("Location", r[LOCATION].file + (r[LOCATION].line ? ":" + r[LOCATION].line : ""), "mono break");
      kv("Fingerprint", r[FP], "mono");
      td.appendChild(dl);
      var ev = r[EVIDENCE];
      if (ev && Object.keys(ev).length) {
        td.appendChild(el("strong", null, "Evidence"));
        var ul = el("ul", "evidence mono");
        Object.keys(ev).forEach(function (k) {
          var v = ev[k];
          ul.appendChild(el("li", "break", k + " = " + (v === null ? "absent" : typeof v === "string" ? v : JSON.stringify(v))));
        });
        td.appendChild(ul);
      }
      if (r[WAIVER]) {
        var w = el("div", "waiver");
        w.appendChild(el("strong", null, "Waived"));
        w.appendChild(el("div", null, "by " + r[WAIVER].owner + (r[WAIVER].expires ? ", until " + r[WAIVER].expires : ", no expiry")));
        w.appendChild(el("div", null, r[WAIVER].justification));
        td.appendChild(w);
      }
      td.appendChild(el("p", "small", rule.rationale));
      remediationBlock(rule, td);
      tr.appendChild(td);
      return tr;
    }

    function row(i) {
      var r = rows[i], rule = rules[r[RULE]], col = column(r);
      var tr = el("tr", "row");
      tr.dataset.fp = r[FP];
      tr.dataset.status = col;
      if (!carded[r[FP]]) tr.id = "finding-" + r[FP];
      tr.appendChild(el("td", "status st-" + col, col === "waived" ? "waived (" + r[STATUS] + ")" : col));
      var sev = el("td");
      sev.appendChild(el("span", "sev sev-" + r[SEV], r[SEV]));
      tr.appendChild(sev);
      tr.appendChild(el("td", null, r[CAT]));
      var rc = el("td");
      rc.appendChild(el("strong", null, rule.id));
      rc.appendChild(el("div", "small", rule.title));
      tr.appendChild(rc);
      var res = el("td", "resource");
      res.appendChild(el("div", "name", r[NAME]));
      res.appendChild(el("div", "small", str(r[TYPE])));
      tr.appendChild(res);
      tr.appendChild(el("td", "message", str(r[MSG])));
      tr.addEventListener("click", function () {
        state.open = state.open === i ? null : i;
        render();
      });
      return tr;
    }

    function render() {
      var total = state.matches.length, pages = Math.max(1, Math.ceil(total / PAGE));
      if (state.page >= pages) state.page = pages - 1;
      var start = state.page * PAGE, end = Math.min(total, start + PAGE);
      var frag = document.createDocumentFragment();
      for (var k = start; k < end; k++) {
        var i = state.matches[k];
        frag.appendChild(row(i));
        if (state.open === i) frag.appendChild(detail(i));
      }
      tbody.replaceChildren(frag);
      $("fx-count").textContent = total ? (start + 1) + "–" + end + " of " + total + " findings" : "no findings match";
      $("fx-page").textContent = "page " + (state.page + 1) + " of " + pages;
      $("fx-prev").disabled = state.page === 0;
      $("fx-next").disabled = state.page >= pages - 1;
    }

    function reset() {
      Object.keys(controls).forEach(function (k) { controls[k].value = ""; });
    }

    // #finding-<fingerprint>: a server-rendered card is scrolled to by the browser itself; any
    // other finding is shown in the explorer, filters cleared, on its page, opened.
    function follow() {
      var m = /^#finding-([0-9a-f]+)$/.exec(location.hash);
      if (!m || carded[m[1]] || !(m[1] in byFp)) return;
      var i = byFp[m[1]];
      reset();
      apply();
      var pos = state.matches.indexOf(i);
      state.page = Math.floor(pos / PAGE);
      state.open = i;
      render();
      var target = document.getElementById("finding-" + m[1]);
      target.classList.add("target");
      target.scrollIntoView({ block: "center" });
    }

    Object.keys(controls).forEach(function (k) {
      controls[k].addEventListener(k === "q" ? "input" : "change", apply);
    });
    $("fx-prev").addEventListener("click", function () { state.page--; render(); });
    $("fx-next").addEventListener("click", function () { state.page++; render(); });
    $("fx-reset").addEventListener("click", function () { reset(); apply(); });
    // Buttons in the server-rendered views ("show all 3,120 in the explorer") set a filter.
    document.querySelectorAll("button[data-filter]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () {
        reset();
        var spec = JSON.parse(b.dataset.filter);
        Object.keys(spec).forEach(function (k) { controls[k].value = spec[k]; });
        apply();
        $("explorer").scrollIntoView();
      });
    });
    window.addEventListener("hashchange", follow);

    fillSelects();
    apply();
    follow();
    document.documentElement.dataset.ready = "1";
  }

  // Long server-rendered tables (subscriptions) show their first page in the HTML; the full rows
  // sit in a JSON block (layout mirrored in html_report.py's _subscription_rows) and are drawn a
  // page at a time here.
  function countCells(tr, counts) {
    counts.forEach(function (n) {
      tr.appendChild(el("td", n ? "num" : "num zero", n.toLocaleString("en-US")));
    });
  }
  function subscriptionRows(data, frag, columns) {
    var tr = el("tr", "sub-row");
    tr.dataset.subscription = data[0];
    tr.appendChild(el("th", "mono break", data[0] === "(none)" ? "(no subscription: on-premises SDN, templates)" : data[0]));
    countCells(tr, data[1]);
    var score = el("td", "num");
    // as Python prints the float the server renders: 50.0, 66.7
    score.appendChild(el("strong", null, data[2] === null ? "n/a" : (Number.isInteger(data[2]) ? data[2].toFixed(1) : data[2]) + "%"));
    tr.appendChild(score);
    frag.appendChild(tr);
    data[3].forEach(function (g) {
      var gr = el("tr");
      gr.appendChild(el("td", null, "\u00a0\u00a0" + g[0]));
      countCells(gr, g[1]);
      gr.appendChild(el("td"));
      frag.appendChild(gr);
    });
    if (data[4]) {
      var more = el("tr"), cell = el("td", "more", "… and " + data[4].toLocaleString("en-US") + " more resource groups with fewer gaps");
      cell.colSpan = columns;
      more.appendChild(cell);
      frag.appendChild(more);
    }
  }
  document.querySelectorAll("table[data-rows]").forEach(function (table) {
    var all = JSON.parse($(table.dataset.rows).textContent);
    var per = parseInt(table.dataset.perPage, 10), page = 0, pages = Math.ceil(all.length / per);
    var pager = document.querySelector("[data-pager='" + table.id + "']");
    var columns = table.tHead.rows[0].cells.length;
    function draw() {
      var frag = document.createDocumentFragment();
      all.slice(page * per, (page + 1) * per).forEach(function (r) { subscriptionRows(r, frag, columns); });
      table.tBodies[0].replaceChildren(frag);
      pager.querySelector(".pager-page").textContent = "page " + (page + 1) + " of " + pages + " (" +
        (page * per + 1) + "–" + Math.min(all.length, (page + 1) * per) + " of " + all.length + ")";
      pager.querySelector("[data-step='-1']").disabled = page === 0;
      pager.querySelector("[data-step='1']").disabled = page >= pages - 1;
    }
    pager.querySelectorAll("button").forEach(function (b) {
      b.addEventListener("click", function () { page += parseInt(b.dataset.step, 10); draw(); });
    });
    draw();
  });

  document.querySelectorAll(".js-only").forEach(function (n) { n.hidden = false; });
  $("fx-count").textContent = "loading findings…";
  loadData(start);
})();
