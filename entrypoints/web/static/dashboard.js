// The dashboard's behaviour: fetch the server-rendered sections, move progress bars on
// Server-Sent Events, send the buttons' and the form's API calls. No framework, no build step.
"use strict";

(function () {
  const TOKEN_KEY = "rqledger.token";
  const TASK_SECTIONS = ["active", "finished", "failed"];
  const ALL_SECTIONS = TASK_SECTIONS.concat(["schedules"]);
  const tokenRequired = document.body.dataset.tokenRequired === "true";
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
    const response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit",
    });
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
      const response = await request("GET", "/dashboard/sections/" + name);
      if (!response.ok) {
        target.innerHTML = "";
        const p = document.createElement("p");
        p.className = "error";
        p.textContent = "Could not load: " + (await errorMessage(response));
        target.appendChild(p);
        return;
      }
      target.innerHTML = await response.text();
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

  function onEvent(message) {
    let event;
    try { event = JSON.parse(message.data); } catch (e) { return; }
    if (event.kind === "task") {
      const row = document.querySelector(`[data-task-row="${event.id}"]`);
      if (row && row.dataset.status === event.status) {
        moveProgress(event.id, event.progress);
      } else {
        refresh(TASK_SECTIONS);
      }
    } else if (event.kind === "run") {
      const row = document.querySelector(`[data-run-row="${event.id}"]`);
      if (!row || row.dataset.status !== event.status) refresh(["schedules"]);
    } else if (event.kind === "resync") {
      refresh(ALL_SECTIONS);
    }
  }

  function connect() {
    if (events) events.close();
    const url = "/api/events" + (token() ? "?token=" + encodeURIComponent(token()) : "");
    events = new EventSource(url);
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
  };

  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button || !ACTIONS[button.dataset.action]) return;
    const [method, path, done] = ACTIONS[button.dataset.action](button.dataset.id);
    if (method === "DELETE" && !confirm(done.replace(" deleted.", "") + ": delete for good?")) return;
    button.disabled = true;
    try {
      const response = await request(method, path);
      if (response.ok) flash(done, "info"); else flash(await errorMessage(response), "error");
    } catch (err) {
      flash(err.message, "error");
    } finally {
      button.disabled = false;
      refresh(ALL_SECTIONS);
    }
  });

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
    const select = $("task-type");
    const previous = select.value;
    select.innerHTML = "";
    taskTypes.forEach((t) => {
      const option = document.createElement("option");
      option.value = t.name;
      option.textContent = t.name;
      select.appendChild(option);
    });
    if (taskTypes.some((t) => t.name === previous)) select.value = previous;
    showTaskType();
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

  $("task-type").addEventListener("change", showTaskType);

  $("enqueue-form").addEventListener("submit", async (e) => {
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
      const owner = $("task-owner").value.trim();
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
    loadTaskTypes();
    connect();  // onopen re-reads every section
  }

  if (tokenRequired && !token()) {
    setLive("off", "locked");
    askForToken("");
  } else {
    $("forget-token").hidden = !token();
    start();
  }
})();
