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

// The file finder on folder pages: the files below the folder whose paths hold every word
// typed (case ignored): first those whose own name starts with the last word, then those
// whose name holds it, then the rest; shorter paths first. The paths are read
// once, when the box is first used; names are set as text, never as HTML.
(function () {
  "use strict";
  var box = document.querySelector("div.finder");
  if (!box || !window.fetch) { return; }
  var input = box.querySelector("input");
  var status = box.querySelector(".finder-status");
  var list = box.querySelector(".finder-results");
  var SHOWN = 50;
  var files = null, truncated = false, loading = null;
  box.hidden = false;
  function say(text) { status.textContent = text; }
  function load() {
    if (!loading) {
      say("Reading the list of files…");
      loading = fetch(box.dataset.nodelist, { headers: { "Accept": "application/json" } })
        .then(function (r) {
          return r.json().then(function (j) {
            if (!r.ok) { throw new Error(j.error || r.statusText); }
            return j;
          });
        })
        .then(function (j) {
          files = j.nodes.filter(function (n) { return n.type === "file"; })
            .map(function (n) { return n.name; });
          truncated = j.truncated;
          say("");
        }, function (e) {
          loading = null;
          say("The list of files could not be read: " + e.message);
          throw e;
        });
    }
    return loading;
  }
  function href(path) {
    return box.dataset.base + path.split("/").map(encodeURIComponent).join("/");
  }
  function show() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    list.textContent = "";
    list.hidden = true;
    if (!files) { return; }
    if (!words.length) { say(""); return; }
    var last = words[words.length - 1], found = [];
    files.forEach(function (path) {
      var low = path.toLowerCase();
      for (var i = 0; i < words.length; i++) { if (low.indexOf(words[i]) < 0) { return; } }
      var name = low.slice(low.lastIndexOf("/") + 1);
      var at = name.indexOf(last);
      found.push({ path: path, rank: at === 0 ? 0 : at > 0 ? 1 : 2 });
    });
    found.sort(function (a, b) {
      return a.rank - b.rank || a.path.length - b.path.length || (a.path < b.path ? -1 : 1);
    });
    var note = truncated ? " (only the first " + files.length + " files below this folder are searched)" : "";
    if (!found.length) { say("No file matches." + note); return; }
    say((found.length > SHOWN ? "The first " + SHOWN + " of " + found.length + " files that match" :
      found.length === 1 ? "1 file matches" : found.length + " files match") + note + ".");
    found.slice(0, SHOWN).forEach(function (f) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = href(f.path);
      a.textContent = f.path;
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = false;
  }
  input.addEventListener("focus", function () { load().catch(function () {}); });
  input.addEventListener("input", function () { load().then(show, function () {}); });
  function openFirst() {
    var first = list.querySelector("a");
    if (first) { location.href = first.href; }
  }
  input.addEventListener("keydown", function (ev) {
    var first = list.querySelector("a");
    // Enter before the list has arrived opens the first file once it has.
    if (ev.key === "Enter") { ev.preventDefault(); if (first) { openFirst(); } else { load().then(function () { show(); openFirst(); }, function () {}); } }
    if (ev.key === "ArrowDown" && first) { ev.preventDefault(); first.focus(); }
    if (ev.key === "Escape") { input.value = ""; show(); }
  });
  list.addEventListener("keydown", function (ev) {
    var li = ev.target.closest("li");
    if (!li) { return; }
    var next = ev.key === "ArrowDown" ? li.nextElementSibling : ev.key === "ArrowUp" ? li.previousElementSibling : null;
    if (ev.key === "ArrowUp" && !next) { ev.preventDefault(); input.focus(); return; }
    if (ev.key === "Escape") { input.value = ""; show(); input.focus(); return; }
    if (next) { ev.preventDefault(); next.querySelector("a").focus(); }
  });
})();

// Picking changesets on the changelog: tick two (or more) rows to see the changesets from
// the oldest ticked to the newest as one range, or to compare the two; one ticked row links
// to its changeset. A range is offered only when the newest descends from the oldest: every
// changeset between them then lies on this page (no row comes before its children), so the
// rows' parents tell.
(function () {
  "use strict";
  var bar = document.querySelector("p.picked");
  var boxes = document.querySelectorAll("input.pick");
  if (!bar || !boxes.length) { return; }
  boxes.forEach(function (b) { b.hidden = false; });
  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }
  var parents = {};
  boxes.forEach(function (b) { parents[b.value] = (b.dataset.parents || "").split(" ").filter(Boolean); });
  function descends(from, to) {
    var seen = {}, todo = [from];
    while (todo.length) {
      var id = todo.pop();
      if (id === to) { return true; }
      if (seen[id] || !parents[id]) { continue; }
      seen[id] = true;
      todo.push.apply(todo, parents[id]);
    }
    return false;
  }
  function update() {
    // Rows are newest first.
    var picked = [].filter.call(boxes, function (b) { return b.checked; });
    // The line stays, so ticking a box never moves the rows under the pointer.
    bar.hidden = false;
    bar.textContent = picked.length ? "" : "Tick changesets to see them together.";
    if (!picked.length) { return; }
    var base = bar.dataset.base, newest = picked[0], oldest = picked[picked.length - 1];
    if (picked.length === 1) {
      bar.appendChild(link(base + "/changeset/" + newest.value, "Show changeset " + newest.dataset.short));
      return;
    }
    if (descends(newest.value, oldest.value)) {
      bar.appendChild(link(base + "/changeset/" + oldest.value + "..." + newest.value,
        "Show changesets " + oldest.dataset.short + " to " + newest.dataset.short));
      bar.appendChild(document.createTextNode(" · "));
    } else {
      bar.appendChild(document.createTextNode(newest.dataset.short + " does not descend from " +
        oldest.dataset.short + ": "));
    }
    bar.appendChild(link(base + "/compare/rev@" + oldest.value + "...rev@" + newest.value,
      "Compare " + oldest.dataset.short + " with " + newest.dataset.short));
  }
  boxes.forEach(function (b) { b.addEventListener("change", update); });
  update();
})();

// The file page's "Authors" link: the list of people who changed the file, fetched once and
// shown under the toolbar (the server escapes it; without scripts the link opens it alone).
(function () {
  "use strict";
  var link = document.querySelector("a.show-authors");
  var box = document.getElementById("file-authors");
  if (!link || !box || !window.fetch) { return; }
  var loaded = false;
  link.addEventListener("click", function (ev) {
    ev.preventDefault();
    if (loaded) { box.hidden = !box.hidden; return; }
    box.hidden = false;
    box.textContent = "Reading the file's history…";
    fetch(link.href, { headers: { "X-Partial-XHR": "1" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("the server answered " + r.status + " " + r.statusText); }
        return r.text();
      })
      .then(function (html) { box.innerHTML = html; loaded = true; },
        function (e) { box.textContent = "The authors could not be read: " + e.message; });
  });
})();

// Ids in rendered documents start with "user-content-" so that none can be one of the
// page's own: an address that names a heading as written (#databases) scrolls to it too.
(function () {
  "use strict";
  function follow() {
    var id;
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (e) { return; }
    if (!id || document.getElementById(id)) { return; }
    var el = document.getElementById("user-content-" + id);
    if (el) { el.scrollIntoView(); }
  }
  window.addEventListener("hashchange", follow);
  follow();
})();
