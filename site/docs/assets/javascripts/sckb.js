/* sckb guidance site: colour statuses and filter the dashboard's control table (no libraries). */
(function () {
  "use strict";
  var STATUS = /^(satisfied|inherited|partially-satisfied|not-satisfied|not-assessed)\b/;

  function colour(root) {
    root.querySelectorAll(".md-typeset strong").forEach(function (el) {
      var m = STATUS.exec(el.textContent.trim());
      if (m && m[0] === el.textContent.trim()) el.classList.add("sckb-status", "sckb-status--" + m[1]);
    });
  }

  function filters(root) {
    root.querySelectorAll("form.sckb-filters").forEach(function (form) {
      // the table is the first one after the form (the theme may have wrapped it in a scrolling div)
      var table = null;
      for (var el = form.nextElementSibling; el && !table; el = el.nextElementSibling)
        table = el.tagName === "TABLE" ? el : el.querySelector("table");
      if (!table) return;
      var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
      var count = form.querySelector(".sckb-count");
      function apply() {
        var want = {};
        form.querySelectorAll("select").forEach(function (s) { want[s.name] = s.value; });
        var text = (form.querySelector("input[name=q]") || { value: "" }).value.trim().toLowerCase();
        var shown = 0;
        rows.forEach(function (tr) {
          var ok = Object.keys(want).every(function (k) {
            return !want[k] || (" " + (tr.dataset[k] || "") + " ").indexOf(" " + want[k] + " ") >= 0;
          });
          if (ok && text) ok = tr.textContent.toLowerCase().indexOf(text) >= 0;
          tr.hidden = !ok;
          if (ok) shown += 1;
        });
        if (count) count.textContent = shown + " of " + rows.length + " controls";
      }
      form.addEventListener("input", apply);
      form.addEventListener("change", apply);
      form.addEventListener("submit", function (e) { e.preventDefault(); });
      apply();
    });
  }

  function run() {
    colour(document);
    filters(document);
  }
  // instant navigation re-renders the content without a page load: hook the theme's observable when present
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) window.document$.subscribe(run);
  else document.addEventListener("DOMContentLoaded", run);
})();
