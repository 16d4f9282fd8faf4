// coxswain's live dashboard: one list-and-watch feed (GET api/feed, JSON lines) kept in `store`, and the
// panels rendered from it on each animation frame that follows a change. No build step, no libraries.
// Every value from the API is put in the page as text (textContent), never parsed as HTML.
"use strict";

const TOKEN_KEY = "coxswain.dashboard.token";
const RECONNECT_MS = 1000;
const EVENTS_SHOWN = 60;

const store = {};        // resource name -> Map(key -> object)
const failed = {};       // resource name -> "403: message"
let feedAbort = null;
let renderQueued = false;
let selectedPod = "";    // "namespace/name" of the traced pod
let traceStale = false;

// ---- small helpers -------------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "class") node.className = value;
    else if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function table(headers, rows) {
  return el("table", {}, el("tr", {}, headers.map((h) => el("th", {}, h))), rows);
}

function keyOf(obj) {
  const m = obj.metadata || {};
  return m.namespace ? `${m.namespace}/${m.name}` : m.name;
}

function items(resource) {
  return [...(store[resource] || new Map()).values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

const SUFFIXES = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12,
                   Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

function quantity(text) {
  const found = /^([0-9.]+)([a-zA-Z]*)$/.exec(text || "");
  return found && found[2] in SUFFIXES ? parseFloat(found[1]) * SUFFIXES[found[2]] : NaN;
}

function cpuText(cores) { return Number.isNaN(cores) ? "-" : `${Math.ceil(cores * 1000)}m`; }
function memText(bytes) { return Number.isNaN(bytes) ? "-" : `${Math.floor(bytes / 1024 ** 2)}Mi`; }

function usageCell(used, total, text) {
  if (Number.isNaN(used)) return el("td", { class: "muted" }, "no metrics yet");
  const share = total > 0 ? Math.min(100, (used * 100) / total) : 0;
  const fill = el("span");
  fill.style.width = `${share}%`;
  return el("td", {}, el("span", { class: "bar" }, fill), ` ${text(used)}`,
            total > 0 ? ` (${Math.floor(share)}%)` : "");
}

function age(stamp) {
  if (!stamp) return "";
  const seconds = Math.max(0, (Date.now() - Date.parse(stamp)) / 1000);
  if (seconds < 120) return `${Math.floor(seconds)}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

// ---- what a pod, node, workload is in one word ---------------------------------------------------

function podStatus(pod) {
  if ((pod.metadata || {}).deletionTimestamp) return "Terminating";
  const status = pod.status || {};
  for (const c of status.containerStatuses || []) {
    const state = c.state || {};
    if (state.waiting && state.waiting.reason) return state.waiting.reason;
    if (state.terminated && state.terminated.reason && status.phase !== "Succeeded") return state.terminated.reason;
  }
  return status.phase || "Pending";
}

function statusClass(text) {
  if (["Running", "Succeeded", "Completed", "Ready", "True"].includes(text)) return "ok";
  if (["Pending", "ContainerCreating", "Terminating", "Unknown"].includes(text)) return "warn";
  return "bad";
}

function podReady(pod) {
  const statuses = (pod.status || {}).containerStatuses || [];
  const total = ((pod.spec || {}).containers || []).length;
  return `${statuses.filter((c) => c.ready).length}/${total}`;
}

function restarts(pod) {
  return ((pod.status || {}).containerStatuses || []).reduce((sum, c) => sum + (c.restartCount || 0), 0);
}

function nodeReady(node) {
  const ready = ((node.status || {}).conditions || []).find((c) => c.type === "Ready");
  const text = !ready ? "Unknown" : ready.status === "True" ? "Ready" : "NotReady";
  return (node.spec || {}).unschedulable ? `${text},SchedulingDisabled` : text;
}

function podUsage(pod) {
  const found = (store.podmetrics || new Map()).get(keyOf(pod));
  if (!found) return ["-", "-"];
  const sum = (field) => (found.containers || []).reduce((total, c) => total + quantity((c.usage || {})[field]), 0);
  return [cpuText(sum("cpu")), memText(sum("memory"))];
}

// ---- panels: each a function of the store to a fresh element -------------------------------------

function forbidden(resource) {
  return failed[resource] ? el("p", { class: "error" }, `${resource}: ${failed[resource]}`) : null;
}

function renderNodes() {
  const pods = items("pods");
  const rows = items("nodes").map((node) => {
    const name = node.metadata.name;
    const usage = (store.nodemetrics || new Map()).get(name);
    const allocatable = (node.status || {}).allocatable || {};
    const ready = nodeReady(node);
    return el("tr", { "data-node": name },
      el("td", {}, name),
      el("td", { class: statusClass(ready.split(",")[0]) }, ready),
      usageCell(quantity(usage && usage.usage.cpu), quantity(allocatable.cpu), cpuText),
      usageCell(quantity(usage && usage.usage.memory), quantity(allocatable.memory), memText),
      el("td", {}, pods.filter((p) => (p.spec || {}).nodeName === name).length),
      el("td", {}, (node.spec || {}).podCIDR || ""),
      el("td", {}, age(node.metadata.creationTimestamp)));
  });
  return [forbidden("nodes"), forbidden("nodemetrics"),
          table(["NAME", "STATUS", "CPU", "MEMORY", "PODS", "POD CIDR", "AGE"], rows)];
}

function podRow(pod) {
  const key = keyOf(pod);
  const status = podStatus(pod);
  const [cpu, memory] = podUsage(pod);
  return el("tr", { class: `pod${key === selectedPod ? " selected" : ""}`, "data-pod": key,
                    onclick: () => selectPod(key) },
    el("td", {}, key), el("td", {}, podReady(pod)), el("td", { class: statusClass(status) }, status),
    el("td", {}, restarts(pod)), el("td", {}, (pod.status || {}).podIP || ""), el("td", {}, cpu),
    el("td", {}, memory), el("td", {}, age(pod.metadata.creationTimestamp)));
}

function renderPods() {
  const byNode = new Map();
  for (const pod of items("pods")) {
    const node = (pod.spec || {}).nodeName || "";
    if (!byNode.has(node)) byNode.set(node, []);
    byNode.get(node).push(pod);
  }
  const names = [...byNode.keys()].sort((a, b) => (a === "") - (b === "") || a.localeCompare(b));
  const headers = ["POD", "READY", "STATUS", "RESTARTS", "IP", "CPU", "MEMORY", "AGE"];
  return [forbidden("pods"), forbidden("podmetrics"),
          names.length ? null : el("p", { class: "muted" }, "no pods"),
          names.map((node) => el("div", { class: "node", "data-pods-of": node },
            el("h3", {}, node || "not scheduled", el("span", { class: "muted" }, ` (${byNode.get(node).length})`)),
            table(headers, byNode.get(node).map(podRow))))];
}

const WORKLOADS = [
  ["deployments", "Deployment", (o) => [o.status.readyReplicas || 0, o.spec.replicas ?? 1]],
  ["statefulsets", "StatefulSet", (o) => [o.status.readyReplicas || 0, o.spec.replicas ?? 1]],
  ["daemonsets", "DaemonSet", (o) => [o.status.numberReady || 0, o.status.desiredNumberScheduled || 0]],
  ["jobs", "Job", (o) => [o.status.succeeded || 0, o.spec.completions ?? 1]],
];

function renderWorkloads() {
  const rows = [];
  for (const [resource, kind, counts] of WORKLOADS) {
    for (const obj of items(resource)) {
      const [ready, wanted] = counts({ spec: obj.spec || {}, status: obj.status || {} });
      rows.push(el("tr", { "data-workload": `${kind}/${keyOf(obj)}` }, el("td", {}, kind), el("td", {}, keyOf(obj)),
        el("td", { class: ready >= wanted ? "ok" : "warn" }, `${ready}/${wanted}`),
        el("td", {}, age(obj.metadata.creationTimestamp))));
    }
  }
  return [WORKLOADS.map(([resource]) => forbidden(resource)),
          table(["KIND", "NAME", "READY", "AGE"], rows)];
}

function endpointText(endpoints) {
  if (!endpoints) return ["<none>", 0];
  const ready = [];
  let notReady = 0;
  for (const subset of endpoints.subsets || []) {
    const ports = (subset.ports || []).map((p) => p.port);
    for (const address of subset.addresses || []) {
      ready.push(ports.length ? ports.map((port) => `${address.ip}:${port}`).join(",") : address.ip);
    }
    notReady += (subset.notReadyAddresses || []).length;
  }
  return [ready.join(" ") || "<none>", notReady];
}

function renderServices() {
  const rows = items("services").map((svc) => {
    const spec = svc.spec || {};
    const ports = (spec.ports || []).map((p) => `${p.port}/${p.protocol || "TCP"}`).join(",");
    const [ready, notReady] = endpointText((store.endpoints || new Map()).get(keyOf(svc)));
    return el("tr", { "data-service": keyOf(svc) }, el("td", {}, keyOf(svc)), el("td", {}, spec.type || "ClusterIP"),
      el("td", {}, spec.clusterIP || ""), el("td", {}, ports),
      el("td", {}, ready, notReady ? el("span", { class: "warn" }, ` (+${notReady} not ready)`) : null));
  });
  return [forbidden("services"), forbidden("endpoints"),
          table(["NAME", "TYPE", "CLUSTER-IP", "PORTS", "ENDPOINTS"], rows)];
}

function eventTime(e) {
  return e.eventTime || e.lastTimestamp || e.firstTimestamp || (e.metadata || {}).creationTimestamp || "";
}

function renderEvents() {
  const events = items("events").sort((a, b) => eventTime(b).localeCompare(eventTime(a))).slice(0, EVENTS_SHOWN);
  const rows = events.map((e) => {
    const involved = e.involvedObject || {};
    const source = (e.source || {}).component || e.reportingComponent || "";
    return el("tr", {}, el("td", {}, age(eventTime(e))), el("td", { class: e.type === "Warning" ? "bad" : "" }, e.type),
      el("td", {}, e.reason), el("td", {}, `${(involved.kind || "").toLowerCase()}/${involved.name || ""}`),
      el("td", {}, source), el("td", {}, e.message || "", e.count > 1 ? ` (x${e.count})` : ""));
  });
  return [forbidden("events"), table(["AGE", "TYPE", "REASON", "OBJECT", "FROM", "MESSAGE"], rows)];
}

let traceView = null;    // the last trace answer (or an error line)

function renderTrace() {
  if (!selectedPod) return [el("p", { class: "muted" }, "click a pod to see its journey through the components")];
  if (!traceView) return [el("p", { class: "muted" }, "loading…")];
  if (traceView.error) return [el("p", { class: "error" }, traceView.error)];
  const rows = traceView.steps.map((s) => el("tr", {}, el("td", {}, s.time), el("td", {}, s.since),
                                               el("td", {}, s.component), el("td", {}, s.what)));
  return [el("p", {}, `pod ${traceView.namespace}/${traceView.name}`,
             traceView.node ? ` on node ${traceView.node}` : " (not scheduled)", `, phase ${traceView.phase}`),
          table(["TIME", "SINCE", "COMPONENT", "WHAT"], rows)];
}

const PANELS = { nodes: renderNodes, pods: renderPods, workloads: renderWorkloads, services: renderServices,
                 events: renderEvents, trace: renderTrace };

function render() {
  renderQueued = false;
  for (const [id, panel] of Object.entries(PANELS)) document.getElementById(id).replaceChildren(...panel().flat(2).filter(Boolean));
  document.getElementById("trace-title").textContent = selectedPod ? selectedPod : "(pick a pod)";
}

function queueRender() {
  if (!renderQueued) {
    renderQueued = true;
    requestAnimationFrame(render);
  }
}

// ---- the feed -----------------------------------------------------------------------------------

function applyLine(line) {
  const resource = line.resource;
  if (line.type === "SYNC") {
    store[resource] = new Map(line.items.map((obj) => [keyOf(obj), obj]));
    delete failed[resource];
  } else if (line.type === "FAILED") {
    failed[resource] = `${line.code}: ${line.message}`;
    store[resource] = new Map();
  } else if (line.type === "DELETED") {
    (store[resource] || new Map()).delete(keyOf(line.object));
  } else if (line.type === "ADDED" || line.type === "MODIFIED") {
    if (!store[resource]) store[resource] = new Map();
    store[resource].set(keyOf(line.object), line.object);
  }
  if (selectedPod && line.object && (
      (resource === "pods" && keyOf(line.object) === selectedPod) ||
      (resource === "events" && `${line.object.metadata.namespace}/${(line.object.involvedObject || {}).name}` === selectedPod))) {
    traceStale = true;
  }
}

function setStatus(text, kind) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = `status ${kind || ""}`;
}

function authHeaders() {
  return { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}` };
}

async function follow() {
  const abort = new AbortController();
  feedAbort = abort;
  try {
    const response = await fetch("api/feed", { headers: authHeaders(), signal: abort.signal, cache: "no-store" });
    if (response.status === 401) return signOut("the API server did not accept that token");
    if (!response.ok) throw new Error(`feed: HTTP ${response.status}`);
    showBoard();
    setStatus("live", "live");
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffered.indexOf("\n")) >= 0) {
        const text = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        if (text) applyLine(JSON.parse(text));
      }
      queueRender();
    }
  } catch (error) {
    if (abort.signal.aborted) return;
    console.warn(error);
  }
  if (feedAbort !== abort) return;
  setStatus("reconnecting", "down");
  setTimeout(() => { if (feedAbort === abort) follow(); }, RECONNECT_MS);
}

// ---- trace --------------------------------------------------------------------------------------

async function loadTrace() {
  const pod = selectedPod;
  traceStale = false;
  const [namespace, name] = pod.split("/");
  const query = new URLSearchParams({ namespace, name });
  try {
    const response = await fetch(`api/trace?${query}`, { headers: authHeaders(), cache: "no-store" });
    const body = await response.json();
    if (pod !== selectedPod) return;
    traceView = response.ok ? body : { error: `${response.status}: ${body.message || ""}` };
  } catch (error) {
    traceView = { error: String(error) };
  }
  queueRender();
}

function selectPod(key) {
  selectedPod = key;
  traceView = null;
  queueRender();
  loadTrace();
}

// ---- signing in and out -------------------------------------------------------------------------

function showBoard() {
  document.getElementById("login").hidden = true;
  document.getElementById("board").hidden = false;
  document.getElementById("logout").hidden = false;
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (feedAbort) feedAbort.abort();
  feedAbort = null;
  for (const name of Object.keys(store)) delete store[name];
  document.getElementById("board").hidden = true;
  document.getElementById("logout").hidden = true;
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = reason || "";
  setStatus("signed out", "");
}

function start() {
  document.getElementById("login").addEventListener("submit", (event) => {
    event.preventDefault();
    const field = document.getElementById("token");
    sessionStorage.setItem(TOKEN_KEY, field.value.trim());
    field.value = "";
    document.getElementById("login-error").textContent = "";
    setStatus("connecting", "");
    follow();
  });
  document.getElementById("logout").addEventListener("click", () => signOut(""));
  setInterval(() => {
    if (selectedPod && traceStale) loadTrace();
    if (feedAbort) queueRender();   // ages move on
  }, 1000);
  if (sessionStorage.getItem(TOKEN_KEY)) follow();
}

start();
