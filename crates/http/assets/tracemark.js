// Tracemark's one script, progressive: every page works without it.
// On the search page it shows, as the officer types, the forms of the marking the index
// compares (canonical; and the look-alike key, where other scripts' look-alikes and common
// misreadings are made equal), asked of the server's own normalizer (/search/normalize), so
// what is shown is what is searched.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var out = document.getElementById("q-normalized");
  if (!input || !out || !window.fetch) { return; }
  var label = out.getAttribute("data-label") || "";
  var keyLabel = out.getAttribute("data-key-label") || "";
  var timer = null;
  var last = null;
  function serial(text) {
    var b = document.createElement("bdi");
    b.className = "serial";
    b.setAttribute("dir", "ltr");
    b.textContent = text;
    return b;
  }
  function show(canonical, key) {
    while (out.firstChild) { out.removeChild(out.firstChild); }
    if (!canonical) { return; }
    out.appendChild(document.createTextNode(label + " "));
    out.appendChild(serial(canonical));
    if (key && key !== canonical) {
      out.appendChild(document.createTextNode(" · " + keyLabel + " "));
      out.appendChild(serial(key));
    }
  }
  function ask() {
    var q = input.value;
    if (q === last) { return; }
    last = q;
    if (!q.trim()) { show("", ""); return; }
    fetch("/search/normalize?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d && d.query === input.value) { show(d.canonical, d.normalized); } })
      .catch(function () {});
  }
  input.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(ask, 150);
  });
})();
