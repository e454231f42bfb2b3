// The dashboard's behaviour: fetch the server-rendered sections, move progress bars on
// Server-Sent Events, send the buttons' and the forms' API calls (one by one for a bulk action on the task list
// or a failure group). No framework, no build step.
"use strict";

(function () {
  const TOKEN_KEY = "rqledger.token";
  // the sections this page has: the overview's four, one task's on its own page, the task list, the failures
  const ALL_SECTIONS = Array.from(document.querySelectorAll("[data-section]"), (e) => e.dataset.section);
  const TASK_SECTIONS = ALL_SECTIONS.filter((name) => ["active", "finished", "failed", "task"].includes(name));
  // sections that say which task events concern them (data-watch-*): the list's and the failures'
  const WATCHED = Array.from(document.querySelectorAll("[data-section][data-watch]"));
  const TASK_PAGE = document.body.dataset.page === "task";
  const SCHEDULE_PAGE = document.body.dataset.page === "schedule";
  // the overview's charts: re-read when a task ends, at most once per CHARTS_EVERY ms (each read is a day of rows)
  const CHARTS = ALL_SECTIONS.includes("charts");
  const CHARTS_EVERY = 5000;
  const ENDED = ["finished", "failed", "canceled"];
  let chartsTimer = null;
  // the sections that show schedules and their runs: the overview's card, the schedules page, one schedule's
  const RUN_SECTIONS = ALL_SECTIONS.filter((name) => ["schedules", "schedules_list", "schedule"].includes(name));
  const tokenRequired = document.body.dataset.tokenRequired === "true";
  // where the page is mounted ("" at the root, "/tasks" inside an app): every address below starts there
  const BASE = document.body.dataset.base || "";
  // behind the host app's login, its session cookie is the authority; with tokens no cookie ever is
  const CREDENTIALS = document.body.dataset.session === "true" ? "same-origin" : "omit";
  let events = null;
  let pending = new Set();
  let refreshTimer = null;
  let taskTypes = [];

  const $ = (id) => document.getElementById(id);

  function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

  // Every call carries the token in the Authorization header: no cookie ever carries authority.
  async function request(method, path, body) {
    const headers = { Accept: "application/json, text/html" };
    if (token()) headers.Authorization = "Bearer " + token();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(BASE + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: CREDENTIALS,
    });
    if (response.status === 401 && CREDENTIALS === "same-origin") {
      flash("Your session has ended: sign in again.", "error");
      throw new Error("signed out");
    }
    if (response.status === 401) {
      askForToken(token() ? "That token was refused." : "");
      throw new Error("an API token is required");
    }
    return response;
  }

  async function errorMessage(response) {
    try {
      const data = await response.json();
      return (data.error && data.error.message) || response.statusText;
    } catch (e) {
      return response.status + " " + response.statusText;
    }
  }

  function flash(message, kind) {
    const box = $("flash");
    box.textContent = message;
    box.className = "flash " + (kind || "info");
    box.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 8000 : 4000);
  }

  // -- sections ---------------------------------------------------------------

  async function loadSection(name) {
    const target = document.querySelector(`[data-section="${name}"]`);
    try {
      const response = await request("GET", target.dataset.path || "/dashboard/sections/" + name);
      if (!response.ok) {
        target.innerHTML = "";
        const p = document.createElement("p");
        p.className = "error";
        p.textContent = "Could not load: " + (await errorMessage(response));
        target.appendChild(p);
        return;
      }
      const checked = selectedIds(target);
      target.innerHTML = await response.text();
      // a re-read keeps what the user had selected (rows still shown stay ticked)
      target.querySelectorAll("input[data-select]").forEach((box) => { box.checked = checked.includes(box.value); });
      updateSelection();
    } catch (e) { /* 401 handled by request(); network errors: the next event or reconnect retries */ }
  }

  function refresh(names) {
    names.forEach((n) => pending.add(n));
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      const batch = Array.from(pending);
      pending = new Set();
      refreshTimer = null;
      batch.forEach(loadSection);
    }, 250);
  }

  // -- live events --------------------------------------------------------------

  function setLive(state, text) {
    const live = $("live");
    live.className = "live " + state;
    live.textContent = text;
  }

  function moveProgress(id, progress) {
    document.querySelectorAll(`[data-progress-for="${id}"]`).forEach((bar) => {
      bar.value = progress;
      bar.textContent = progress + "%";
    });
    document.querySelectorAll(`[data-progress-label-for="${id}"]`).forEach((label) => {
      label.textContent = progress + "%";
    });
  }

  // Whether a task's event changes what a watched section shows: a row (or a failure group) of it whose status
  // moved, or a task it would now list (its filters' statuses and task type; only on the newest page).
  function concerns(section, event) {
    const shown = section.querySelector(`[data-task-row="${event.id}"], [data-task-ids~="${event.id}"]`);
    if (shown) return shown.dataset.status !== event.status;
    const watch = section.dataset;
    if (watch.watchNew !== "true") return false;
    const statuses = (watch.watchStatuses || "").split(" ").filter(Boolean);
    if (statuses.length && !statuses.includes(event.status)) return false;
    return !watch.watchName || watch.watchName === event.name;
  }

  // One re-read a while after the first end it hears of, covering every end until then (no timer runs otherwise).
  function refreshCharts() {
    if (!CHARTS || chartsTimer) return;
    chartsTimer = setTimeout(() => { chartsTimer = null; refresh(["charts"]); }, CHARTS_EVERY);
  }

  function onEvent(message) {
    let event;
    try { event = JSON.parse(message.data); } catch (e) { return; }
    if (event.kind === "task" && ENDED.includes(event.status)) refreshCharts();
    if (event.kind === "task" && WATCHED.length) {
      const row = document.querySelector(`[data-task-row="${event.id}"]`);
      if (row && row.dataset.status === event.status) moveProgress(event.id, event.progress);
      const names = WATCHED.filter((section) => concerns(section, event)).map((section) => section.dataset.section);
      if (names.length) refresh(names);
    } else if (event.kind === "task") {
      const row = document.querySelector(`[data-task-row="${event.id}"]`);
      if (!row && TASK_PAGE) return;  // another task than this page's
      if (row && row.dataset.status === event.status) {
        moveProgress(event.id, event.progress);
      } else {
        refresh(TASK_SECTIONS);
      }
    } else if (event.kind === "run" && RUN_SECTIONS.length) {
      const row = document.querySelector(`[data-run-row="${event.id}"]`);
      if (!row || row.dataset.status !== event.status) refresh(RUN_SECTIONS);
    } else if (event.kind === "resync") {
      refresh(ALL_SECTIONS);
    }
  }

  // Leaving the page closes its stream at once: left open (a page kept for back/forward), each stream held one
  // of the browser's six connections to this host, and the seventh page in a minute waited for one (seen in
  // headless Chromium, tests/browser/test_every_page.py).
  window.addEventListener("pagehide", () => { if (events) { events.close(); events = null; } });
  window.addEventListener("pageshow", (e) => { if (e.persisted && !events) connect(); });

  function connect() {
    if (events) events.close();
    const url = BASE + "/api/events" + (token() ? "?token=" + encodeURIComponent(token()) : "");
    events = new EventSource(url, { withCredentials: CREDENTIALS === "same-origin" });
    events.onmessage = onEvent;
    // Events sent while disconnected are not replayed: re-read everything on every (re)connect.
    events.onopen = () => { setLive("on", "live"); refresh(ALL_SECTIONS); };
    events.onerror = () => {
      setLive("off", "reconnecting…");
      if (events.readyState === EventSource.CLOSED) {
        // The server refused the stream (e.g. 401): the browser will not retry on its own.
        setTimeout(connect, 5000);
      }
    };
  }

  // -- buttons --------------------------------------------------------------------

  const ACTIONS = {
    "cancel": (id) => ["POST", `/api/tasks/${id}/cancel`, `Task ${id} canceled.`],
    "retry": (id) => ["POST", `/api/tasks/${id}/retry`, `Task ${id} queued again.`],
    "delete": (id) => ["DELETE", `/api/tasks/${id}`, `Task ${id} deleted.`],
    "cancel-schedule": (id) => ["POST", `/api/schedules/${id}/cancel`, `Schedule ${id} canceled.`],
    "delete-schedule": (id) => ["DELETE", `/api/schedules/${id}`, `Schedule ${id} and its runs deleted.`],
    "pause-queue": (name) => ["POST", `/api/queues/${encodeURIComponent(name)}/pause`,
                              `Queue ${name} paused: its tasks wait until it is resumed.`],
    "resume-queue": (name) => ["POST", `/api/queues/${encodeURIComponent(name)}/resume`, `Queue ${name} resumed.`],
  };

  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button || !ACTIONS[button.dataset.action]) return;
    const [method, path, done] = ACTIONS[button.dataset.action](button.dataset.id);
    if (method === "DELETE" && !confirm(done.replace(" deleted.", "") + ": delete for good?")) return;
    button.disabled = true;
    try {
      const response = await request(method, path);
      if (response.ok && TASK_PAGE && method === "DELETE") { location.href = BASE + "/"; return; }
      if (response.ok && SCHEDULE_PAGE && method === "DELETE") { location.href = BASE + "/schedules"; return; }
      if (response.ok) flash(done, "info"); else flash(await errorMessage(response), "error");
    } catch (err) {
      flash(err.message, "error");
    } finally {
      button.disabled = false;
      refresh(ALL_SECTIONS);
    }
  });

  // -- bulk actions: the list's selected rows, a failure group's tasks -----------------

  const BULK = {
    retry: { verb: "Retry", done: "retried" },
    cancel: { verb: "Cancel", done: "canceled" },
    delete: { verb: "Delete", done: "deleted" },
  };
  const BULK_AT_ONCE = 4;  // requests in flight at a time
  const BULK_ALL_MAX = 5000;  // "every task matching the filters" gathers at most this many ids (newest first)
  let bulkPlan = null;

  function bulkAll() { return Boolean($("bulk-all") && $("bulk-all").checked); }

  // Every task the list's filters match, newest first, through the API (same filters, same owner scope): the ids
  // are fixed here, before the question, so the count asked is exactly the set of tasks the action touches.
  async function matchingIds() {
    const query = $("bulk-bar").dataset.apiQuery;
    const ids = [];
    let cursor = null;
    do {
      const path = "/api/tasks?" + (query ? query + "&" : "") + "limit=500" + (cursor ? "&cursor=" + cursor : "");
      const response = await request("GET", path);
      if (!response.ok) throw new Error(await errorMessage(response));
      const page = await response.json();
      page.items.forEach((t) => ids.push(String(t.id)));
      cursor = page.next_cursor;
    } while (cursor && ids.length < BULK_ALL_MAX);
    return { ids: ids.slice(0, BULK_ALL_MAX), more: Boolean(cursor) || ids.length > BULK_ALL_MAX };
  }

  function selectedIds(within) {
    return Array.from((within || document).querySelectorAll("input[data-select]:checked"), (box) => box.value);
  }

  function updateSelection() {
    const count = $("bulk-count");
    if (!count) return;
    const n = selectedIds().length;
    const boxes = document.querySelectorAll("input[data-select]");
    count.textContent = bulkAll() ? "every matching task" : n + " selected";
    document.querySelectorAll("#bulk-bar button[data-bulk]").forEach((button) => {
      button.disabled = n === 0 && !bulkAll();
    });
    document.querySelectorAll("input[data-select-all]").forEach((all) => {
      all.checked = boxes.length > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    });
  }

  document.addEventListener("change", (e) => {
    if (e.target.matches("input[data-select-all]")) {
      document.querySelectorAll("input[data-select]").forEach((box) => { box.checked = e.target.checked; });
    }
    if (e.target.matches("input[data-select], input[data-select-all], #bulk-all")) updateSelection();
  });

  function tasks(n) { return n + (n === 1 ? " task" : " tasks"); }

  // Asks in the page, with the count it will touch ("Retry 3 tasks?"), before anything is sent.
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-bulk]");
    if (!button || !BULK[button.dataset.bulk]) return;
    let ids = button.dataset.ids ? button.dataset.ids.split(" ").filter(Boolean) : selectedIds();
    let matching = null;
    if (!button.dataset.ids && bulkAll()) {
      button.disabled = true;
      try {
        matching = await matchingIds();
      } catch (err) {
        flash(err.message, "error");
        return;
      } finally {
        button.disabled = false;
      }
      ids = matching.ids;
      if (!ids.length) { flash("No task matches these filters.", "info"); return; }
    }
    if (!ids.length) return;
    bulkPlan = { action: button.dataset.bulk, ids };
    const verb = BULK[bulkPlan.action].verb;
    const scope = !matching ? "Tasks " : (matching.more ? `The newest ${ids.length} tasks matching the filters (more `
      + "match: run it again for the rest): " : "Every task matching the filters: ");
    $("bulk-question").textContent = `${verb} ${tasks(ids.length)}?`;
    $("bulk-detail").textContent = scope + (ids.length <= 12 ? ids.join(", ")
      : ids.slice(0, 12).join(", ") + ` and ${ids.length - 12} more`)
      + (bulkPlan.action === "delete" ? ": deleted for good." : ".");
    $("bulk-confirm").textContent = `${verb} ${tasks(ids.length)}`;
    $("bulk-dialog").showModal();
    $("bulk-keep").focus();
  });

  if ($("bulk-form")) $("bulk-form").addEventListener("submit", (e) => {
    const plan = bulkPlan;
    bulkPlan = null;
    if (plan && e.submitter && e.submitter.value === "confirm") runBulk(plan);
  });

  // Each task through the API's own call (as the buttons do); a summary of what worked and what did not, and why.
  async function runBulk(plan) {
    const succeeded = [];
    const failed = [];
    const queue = plan.ids.slice();
    document.querySelectorAll("button[data-bulk]").forEach((button) => { button.disabled = true; });
    showSummary(`${BULK[plan.action].verb}: ${tasks(plan.ids.length)}…`, []);
    async function next() {
      while (queue.length) {
        const id = queue.shift();
        const [method, path] = ACTIONS[plan.action](id);
        try {
          const response = await request(method, path);
          if (response.ok) succeeded.push(id); else failed.push([id, await errorMessage(response)]);
        } catch (err) {
          failed.push([id, err.message]);
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(BULK_AT_ONCE, queue.length) }, next));
    failed.sort((a, b) => a[0] - b[0]);
    showSummary(`${succeeded.length} of ${tasks(plan.ids.length)} ${BULK[plan.action].done}` +
      (failed.length ? `; ${failed.length} failed:` : "."), failed);
    document.querySelectorAll("input[data-select]").forEach((box) => { box.checked = false; });
    if ($("bulk-all")) $("bulk-all").checked = false;
    document.querySelectorAll("button[data-bulk]").forEach((button) => { button.disabled = false; });
    updateSelection();
    refresh(ALL_SECTIONS);
  }

  function showSummary(text, failed) {
    const box = $("bulk-summary");
    box.innerHTML = "";
    box.className = "bulk-summary" + (failed.length ? " partial" : "");
    const line = document.createElement("p");
    line.textContent = text;
    box.appendChild(line);
    if (failed.length) {
      const list = document.createElement("ul");
      failed.forEach(([id, why]) => {
        const item = document.createElement("li");
        item.dataset.failedId = id;
        const link = document.createElement("a");
        link.href = BASE + "/tasks/" + encodeURIComponent(id);
        link.textContent = "task " + id;
        item.append(link, ": " + why);
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    box.hidden = false;
  }

  // -- the enqueue form -----------------------------------------------------------

  const INPUT_TYPES = { int: "number", float: "number", str: "text", bool: "checkbox" };

  function parameterField(p) {
    const wrap = document.createElement("div");
    wrap.className = "parameter";
    const id = "param-" + p.name;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = p.name + (p.type ? ` (${p.type})` : "") + (p.required ? "" : " – optional");
    let input;
    if (p.type === "list" || p.type === "dict" || p.type === null) {
      input = document.createElement("textarea");
      input.rows = p.type ? 2 : 1;
      input.placeholder = p.type ? "JSON" : "JSON, or plain text";
    } else {
      input = document.createElement("input");
      input.type = INPUT_TYPES[p.type] || "text";
      if (p.type === "int") input.step = "1";
      if (p.type === "float") input.step = "any";
    }
    input.id = id;
    input.dataset.param = p.name;
    input.dataset.type = p.type === null ? "" : p.type;
    input.dataset.required = p.required ? "true" : "false";
    if (!p.required && p.default !== undefined && p.default !== null) {
      if (input.type === "checkbox") input.checked = Boolean(p.default);
      else input.placeholder = "default: " + JSON.stringify(p.default);
    }
    if (input.type === "checkbox") input.dataset.default = String(Boolean(p.default));
    if (input.type === "checkbox") { wrap.className += " check"; wrap.append(input, label); }
    else wrap.append(label, input);
    return wrap;
  }

  function showTaskType() {
    const type = taskTypes.find((t) => t.name === $("task-type").value);
    const box = $("task-parameters");
    box.innerHTML = "";
    $("task-type-description").textContent = type ? type.description : "";
    if (!type) return;
    type.parameters.forEach((p) => box.appendChild(parameterField(p)));
  }

  async function loadTaskTypes() {
    try {
      const response = await request("GET", "/api/task-types");
      if (!response.ok) { flash(await errorMessage(response), "error"); return; }
      taskTypes = (await response.json()).items;
    } catch (e) { return; }
    // the enqueue form's and the schedule form's
    document.querySelectorAll("select[data-task-types]").forEach((select) => {
      const previous = select.value;
      select.innerHTML = "";
      taskTypes.forEach((t) => {
        const option = document.createElement("option");
        option.value = t.name;
        option.textContent = t.name;
        select.appendChild(option);
      });
      if (taskTypes.some((t) => t.name === previous)) select.value = previous;
    });
    if (FORM) showTaskType();
  }

  function readValue(input) {
    const type = input.dataset.type;
    const raw = input.value.trim();
    // An unchanged optional checkbox sends nothing: the function's own default applies.
    if (type === "bool") return input.dataset.required !== "true" && String(input.checked) === input.dataset.default
      ? undefined : input.checked;
    if (raw === "") return undefined;
    if (type === "int") {
      if (!/^-?\d+$/.test(raw)) throw new Error(`${input.dataset.param} must be a whole number`);
      return parseInt(raw, 10);
    }
    if (type === "float") {
      const number = Number(raw);
      if (!Number.isFinite(number)) throw new Error(`${input.dataset.param} must be a number`);
      return number;
    }
    if (type === "str") return input.value;
    try { return JSON.parse(raw); } catch (e) {
      if (type) throw new Error(`${input.dataset.param} must be JSON (${type})`);
      return input.value;  // like the CLI: JSON when it parses, else the text
    }
  }

  // "Copy" next to a result: the whole value, as JSON
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-copy]");
    if (!button) return;
    e.preventDefault();
    const source = document.getElementById(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(source ? source.textContent : "");
      flash("Copied.", "info");
    } catch (err) {
      flash("The browser did not allow copying: select the text instead.", "error");
    }
  });

  const FORM = $("enqueue-form");  // the overview's; a task's page has none
  if (FORM) $("task-type").addEventListener("change", showTaskType);

  if (FORM) FORM.addEventListener("submit", async (e) => {
    e.preventDefault();
    const errorBox = $("enqueue-error");
    errorBox.hidden = true;
    const body = { name: $("task-type").value, kwargs: {} };
    try {
      document.querySelectorAll("#task-parameters [data-param]").forEach((input) => {
        const value = readValue(input);
        if (value === undefined) {
          if (input.dataset.required === "true") throw new Error(`${input.dataset.param} is required`);
          return;
        }
        body.kwargs[input.dataset.param] = value;
      });
      const owner = $("task-owner") ? $("task-owner").value.trim() : "";
      const description = $("task-description").value.trim();
      const timeout = $("task-timeout").value.trim();
      if (owner) body.owner = owner;
      if (description) body.description = description;
      if (timeout) body.timeout = parseInt(timeout, 10);
    } catch (err) {
      errorBox.textContent = err.message;
      errorBox.hidden = false;
      return;
    }
    $("enqueue-submit").disabled = true;
    try {
      const response = await request("POST", "/api/tasks", body);
      if (response.status === 202) {
        const task = await response.json();
        flash(`Task ${task.id} (${task.name}) queued.`, "info");
        refresh(TASK_SECTIONS);
      } else {
        errorBox.textContent = await errorMessage(response);
        errorBox.hidden = false;
        if (response.status === 503) refresh(TASK_SECTIONS);
      }
    } catch (err) {
      errorBox.textContent = err.message;
      errorBox.hidden = false;
    } finally {
      $("enqueue-submit").disabled = false;
    }
  });

  // -- the schedule form (the schedules page) ---------------------------------------------

  const SCHEDULE_FORM = $("schedule-form");

  function timingKind() {
    const checked = document.querySelector('#schedule-form input[name="timing"]:checked');
    return checked ? checked.value : "at";
  }

  function showTiming() {
    document.querySelectorAll("#schedule-form [data-timing]").forEach((box) => {
      box.hidden = !box.dataset.timing.split(" ").includes(timingKind());
    });
  }

  function jsonOf(id, what, isRight, fallback) {
    const raw = $(id).value.trim();
    if (!raw) return fallback;
    let value;
    try { value = JSON.parse(raw); } catch (e) { throw new Error(`${what} must be JSON, e.g. ${$(id).placeholder}`); }
    if (!isRight(value)) throw new Error(`${what} must be a JSON ${Array.isArray(fallback) ? "list" : "object"}, `
      + `e.g. ${$(id).placeholder}`);
    return value;
  }

  function wholeNumber(id, what) {
    const raw = $(id).value.trim();
    if (raw && !/^\d+$/.test(raw)) throw new Error(`${what} must be a whole number of 1 or more`);
    return raw ? parseInt(raw, 10) : undefined;
  }

  // What POST /api/schedules takes, from the form; what only the API can judge (a cron, a time zone, a time) it does.
  function scheduleBody() {
    const body = {
      name: $("schedule-type").value,
      args: jsonOf("schedule-args", "Positional arguments", Array.isArray, []),
      kwargs: jsonOf("schedule-kwargs", "Keyword arguments",
                     (v) => v !== null && typeof v === "object" && !Array.isArray(v), {}),
      catch_up: $("schedule-catch-up").value,
    };
    const kind = timingKind();
    if (kind === "cron") {
      body.cron = $("schedule-cron").value.trim();
      const zone = $("schedule-timezone").value.trim();
      if (zone) body.timezone = zone;
      return body;
    }
    body.at = $("schedule-at").value.trim() || new Date().toISOString();
    if (kind === "every") {
      body.interval = wholeNumber("schedule-interval", "Every");
      if (body.interval === undefined) throw new Error("Every: how many seconds between runs");
      const repeat = wholeNumber("schedule-repeat", "Runs in all");
      if (repeat !== undefined) body.repeat = repeat;
    }
    return body;
  }

  if (SCHEDULE_FORM) {
    SCHEDULE_FORM.addEventListener("change", (e) => { if (e.target.name === "timing") showTiming(); });
    showTiming();  // a browser may bring back another choice (back button)
    SCHEDULE_FORM.addEventListener("submit", async (e) => {
      e.preventDefault();
      const errorBox = $("schedule-error");
      errorBox.hidden = true;
      let body;
      try {
        body = scheduleBody();
      } catch (err) {
        errorBox.textContent = err.message;
        errorBox.hidden = false;
        return;
      }
      $("schedule-submit").disabled = true;
      try {
        const response = await request("POST", "/api/schedules", body);
        if (response.status === 201 || response.status === 200) {
          const schedule = await response.json();
          flash(`Schedule ${schedule.id} (${schedule.name}) ${response.status === 201 ? "created" : "updated"}.`,
                "info");
        } else {
          errorBox.textContent = await errorMessage(response);  // the API's own words, in place
          errorBox.hidden = false;
        }
        if (response.ok || response.status === 503) refresh(RUN_SECTIONS);  // a 503 is stored all the same
      } catch (err) {
        errorBox.textContent = err.message;
        errorBox.hidden = false;
      } finally {
        $("schedule-submit").disabled = false;
      }
    });
  }

  // -- the token ------------------------------------------------------------------

  function askForToken(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    const error = $("token-error");
    error.textContent = message || "";
    error.hidden = !message;
    const dialog = $("token-dialog");
    if (!dialog.open) dialog.showModal();
    $("token-input").focus();
  }

  $("token-form").addEventListener("submit", (e) => {
    const value = $("token-input").value.trim();
    if (!value) { e.preventDefault(); return; }
    sessionStorage.setItem(TOKEN_KEY, value);
    $("token-input").value = "";
    $("forget-token").hidden = false;
    start();
  });

  $("forget-token").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    if (events) events.close();
    location.reload();
  });

  function start() {
    if (FORM || SCHEDULE_FORM) loadTaskTypes();
    connect();  // onopen re-reads every section
  }

  updateSelection();  // a browser may bring back ticked boxes (back button)

  if (tokenRequired && !token()) {
    setLive("off", "locked");
    askForToken("");
  } else {
    $("forget-token").hidden = !token();
    start();
  }
})();
