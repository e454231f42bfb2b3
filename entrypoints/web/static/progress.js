// Live task progress for a host app's own pages (the Flask extension's `{{ rqledger_progress_script() }}`).
//
// Mark any element with the id of a task:
//   <div data-rqledger-task="42">
//     Exporting posts... <span data-rqledger-progress>0%</span> <progress data-rqledger-progress max="100"></progress>
//     <span data-rqledger-status-text>queued</span>
//   </div>
// and this script keeps it current from the signed-in owner's event stream (no polling): the element's
// `data-rqledger-status` attribute (queued, running, finished, failed, canceled), the text of its
// `[data-rqledger-progress]` children ("45%") or their value (<progress>), the text of its
// `[data-rqledger-status-text]` children. Each change also fires a `rqledger:task` event on the element
// (detail: the task's id, status, progress) for anything more. On load and after every reconnect the
// marked tasks are read once, so a page never shows a change it missed.
"use strict";

(function () {
  const script = document.currentScript;
  const BASE = (script && script.dataset.base) || "";
  const ENDED = new Set(["finished", "failed", "canceled"]);

  function marked(id) {
    return document.querySelectorAll(id === undefined ? "[data-rqledger-task]" : `[data-rqledger-task="${id}"]`);
  }

  function show(task) {
    marked(task.id).forEach((element) => {
      element.dataset.rqledgerStatus = task.status;
      const progress = task.status === "finished" ? 100 : Math.max(0, Math.min(100, task.progress || 0));
      element.querySelectorAll("[data-rqledger-progress]").forEach((part) => {
        if (part.tagName === "PROGRESS") part.value = progress;
        else part.textContent = progress + "%";
      });
      element.querySelectorAll("[data-rqledger-status-text]").forEach((part) => { part.textContent = task.status; });
      element.dispatchEvent(new CustomEvent("rqledger:task", { bubbles: true, detail: task }));
    });
  }

  async function readAll() {
    const ids = new Set(Array.from(marked(), (element) => element.dataset.rqledgerTask));
    for (const id of ids) {
      if (!/^[0-9]+$/.test(id)) continue;
      try {
        const response = await fetch(`${BASE}/api/tasks/${id}`, {
          headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (response.ok) show(await response.json());
      } catch (e) { /* offline for a moment: the stream's reconnect reads again */ }
    }
  }

  function connect() {
    const events = new EventSource(`${BASE}/api/events`, { withCredentials: true });
    events.onopen = readAll;
    events.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.kind === "resync") readAll();
      else if (event.kind === "task" && marked(event.id).length) show(event);
    };
  }

  let following = false;

  // Follows the marked tasks (called on load; a page that marks an element later calls rqledger.follow()).
  function follow() {
    if (following) { readAll(); return; }
    following = true;
    connect();
  }

  function start() {
    const open = Array.from(marked()).some((element) => !ENDED.has(element.dataset.rqledgerStatus));
    if (open) follow();
  }

  window.rqledger = Object.assign(window.rqledger || {}, { follow });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
