// Keyboard shortcuts for the common decisions; everything also works without this file.
(function () {
  "use strict";
  let pendingG = false;
  const typing = (el) => el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  const rows = () => Array.from(document.querySelectorAll("#queue-table tbody tr"));

  function move(step) {
    const all = rows();
    if (!all.length) return;
    let i = all.findIndex((r) => r.classList.contains("selected"));
    if (i >= 0) all[i].classList.remove("selected");
    i = Math.min(all.length - 1, Math.max(0, i + step));
    all[i].classList.add("selected");
    const link = all[i].querySelector("a");
    if (link) link.focus();
  }

  function choose(key) {
    const radio = document.querySelector('#decide-form input[type=radio][data-key="' + key + '"]');
    if (!radio) return false;
    radio.checked = true;
    const next = key === "d" ? document.getElementById("reason") : document.getElementById("rule");
    if (next) next.focus();
    return true;
  }

  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    const key = ev.key;
    if (pendingG) {
      pendingG = false;
      if (key === "q") { window.location.href = "/console/queues"; ev.preventDefault(); }
      return;
    }
    if (key === "g") { pendingG = true; return; }
    if (key === "?") { const d = document.getElementById("shortcuts"); if (d && d.showModal) d.showModal(); ev.preventDefault(); return; }
    if (key === "j") { move(1); ev.preventDefault(); return; }
    if (key === "k") { move(-1); ev.preventDefault(); return; }
    if (key === "c") { const b = document.querySelector('button[data-key="c"]'); if (b) { b.click(); ev.preventDefault(); } return; }
    if (key === "n") { const n = document.querySelector('textarea[data-key="n"]'); if (n) { n.focus(); ev.preventDefault(); } return; }
    if ("dwrsep".includes(key) && key.length === 1 && choose(key)) ev.preventDefault();
  });
})();
