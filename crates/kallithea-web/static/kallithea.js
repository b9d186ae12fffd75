// The branch and tag switcher closes with Escape or a click elsewhere, as menus do.
(function () {
  "use strict";
  function close(keep) {
    document.querySelectorAll("details.switcher[open]").forEach(function (d) {
      if (!keep || !d.contains(keep)) { d.open = false; }
    });
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") { return; }
    var open = document.querySelector("details.switcher[open]");
    if (open) { close(null); open.querySelector("summary").focus(); }
  });
  document.addEventListener("click", function (ev) { close(ev.target); });
})();

// Line selection on file and annotate pages: click a line number to select it, shift-click
// another to select the range between; the address keeps it (#L3 or #L3-L7) for sharing.
(function () {
  "use strict";
  var table = document.querySelector("table.source");
  if (!table) { return; }
  var anchor = null;
  function parse(hash) {
    var m = /^#L(\d+)(?:-L(\d+))?$/.exec(hash);
    if (!m) { return null; }
    var a = parseInt(m[1], 10), b = m[2] ? parseInt(m[2], 10) : a;
    var lo = Math.min(a, b), hi = Math.min(Math.max(a, b), table.rows.length);
    // A range that starts past the end names no line.
    return lo <= hi ? [lo, hi] : null;
  }
  function mark(range) {
    table.querySelectorAll("tr.selected").forEach(function (tr) { tr.classList.remove("selected"); });
    if (!range) { return; }
    for (var n = range[0]; n <= range[1]; n++) {
      var tr = document.getElementById("L" + n);
      if (tr) { tr.classList.add("selected"); }
    }
  }
  table.addEventListener("click", function (ev) {
    var link = ev.target.closest("td.no a");
    if (!link) { return; }
    ev.preventDefault();
    var n = parseInt(link.getAttribute("href").slice(2), 10);
    var range = ev.shiftKey && anchor ? [Math.min(anchor, n), Math.max(anchor, n)] : [n, n];
    if (!ev.shiftKey) { anchor = n; }
    var hash = range[0] === range[1] ? "#L" + range[0] : "#L" + range[0] + "-L" + range[1];
    history.replaceState(null, "", hash);
    mark(range);
  });
  // From the address: when the page opens, and when a link or the user changes the fragment.
  function follow() {
    var range = parse(location.hash);
    mark(range);
    if (!range) { return; }
    anchor = range[0];
    var first = document.getElementById("L" + range[0]);
    if (first) { first.scrollIntoView({ block: "center" }); }
  }
  window.addEventListener("hashchange", follow);
  follow();
})();
