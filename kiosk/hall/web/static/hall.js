// What every page of the hall shares: the language, calls to the hall's API, its live
// events, and idempotency keys. No framework: a page is a few hundred lines, served as is
// (no build step, no internet on a hall's LAN).

const LANGS = ["zh", "en"];

function initialLang() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (LANGS.includes(asked)) return asked;
  const kept = localStorage.getItem("hall.lang");
  if (LANGS.includes(kept)) return kept;
  return (navigator.language || "zh").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export let lang = initialLang();
const langListeners = [];

/** The text of a bilingual {zh, en} in the page's language. */
export function t(bi) {
  if (bi == null) return "";
  if (typeof bi === "string") return bi;
  return bi[lang] ?? bi.zh ?? "";
}

export function setLang(next) {
  if (!LANGS.includes(next)) return;
  lang = next;
  localStorage.setItem("hall.lang", next);
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  for (const fn of langListeners) fn(next);
}

export function onLang(fn) { langListeners.push(fn); }

/** Fill every element with data-zh / data-en attributes (static labels) in the language. */
export function translateStatic(root = document) {
  for (const el of root.querySelectorAll("[data-zh]")) {
    el.textContent = el.dataset[lang] ?? el.dataset.zh;
  }
  for (const el of root.querySelectorAll("[data-zh-label]")) {
    el.setAttribute("aria-label", lang === "zh" ? el.dataset.zhLabel : el.dataset.enLabel);
  }
}

document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";

/** A refusal or failure of a call, with the hall's own message in both languages. */
export class HallFailure extends Error {
  constructor(status, code, message, body) {
    super(typeof message === "object" ? message.en : String(message));
    this.status = status;
    this.code = code;
    this.bilingual = typeof message === "object" ? message : { zh: message, en: message };
    this.body = body || {};
  }
}

const OFFLINE = {
  zh: "无法连接排队系统，请检查网络；页面会自动重试。",
  en: "Cannot reach the hall's server: check the network; the page keeps trying.",
};

export function newKey() {
  return crypto.randomUUID ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)),
      (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Call the hall's API. `token` is a staff session's or a device's bearer token (absent on a
 * resident's phone, whose capability is the id in the path). A state-changing call passes
 * `key` (the same key for every retry of one action, so the hall does it once).
 */
export async function call(method, path, { token, body, key, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  let response;
  try {
    response = await fetch(path, {
      method, headers, signal, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new HallFailure(0, "offline", OFFLINE);
  }
  if (response.status === 204) return null;
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) {
    const message = data && data.message ? data.message
      : { zh: `排队系统返回错误 ${response.status}。`, en: `The hall answered ${response.status}.` };
    throw new HallFailure(response.status, data && data.error ? data.error : `http_${response.status}`,
      message, data);
  }
  return data;
}

/**
 * Listen to server-sent events at `path` with a bearer token (EventSource cannot send one,
 * so this reads the stream with fetch). `onEvent(kind, data)` for each event; `onOpen()`
 * each time the subscription is in place (first time and after every reconnection: the page
 * reloads its state then, since events may have been missed); `onDown()` when the stream is
 * lost. A `resync` event also calls onOpen. Reconnects by itself until `close()`.
 * A stream the hall refuses for now (429: its ticket is followed on enough pages already)
 * calls `onBusy(message)` and is asked for again after the `retry_after_s` the hall says.
 */
export function listen(path, { token, onEvent, onOpen, onDown, onRefused, onBusy }) {
  let stopped = false;
  let controller = null;
  let retryMs = 3000;
  let busyMs = 0;  // > 0: the hall refused the last try for now, and said for how long
  async function once() {
    busyMs = 0;
    controller = new AbortController();
    const headers = { Accept: "text/event-stream" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(path, { headers, signal: controller.signal, cache: "no-store" });
    if (response.status === 401 || response.status === 403 || response.status === 404) {
      let data = null;
      try { data = await response.json(); } catch { data = null; }
      stopped = true;
      if (onRefused) onRefused(new HallFailure(response.status, data?.error ?? "refused",
        data?.message ?? OFFLINE, data));
      return;
    }
    if (response.status === 429) {
      let data = null;
      try { data = await response.json(); } catch { data = null; }
      const seconds = Number(data?.retry_after_s);
      // Until then the page is not down: it reads what the stream would have sent.
      busyMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 15000;
      if (onBusy) onBusy(data?.message ?? OFFLINE);
      return;
    }
    if (!response.ok || !response.body) throw new Error(`stream ${response.status}`);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let kind = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) kind = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
          else if (line.startsWith("retry:")) retryMs = Number(line.slice(6)) || retryMs;
          else if (line === ": subscribed") { if (onOpen) onOpen(); }
        }
        if (data.length === 0) continue;
        let parsed = null;
        try { parsed = JSON.parse(data.join("\n")); } catch { continue; }
        if (kind === "resync") { if (onOpen) onOpen(); continue; }
        if (onEvent) onEvent(kind, parsed);
      }
    }
  }
  (async () => {
    while (!stopped) {
      try {
        await once();
      } catch (err) {
        if (stopped) break;
      }
      if (stopped) break;
      if (busyMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, busyMs));
        continue;
      }
      if (onDown) onDown();
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  })();
  return {
    close() {
      stopped = true;
      if (controller) controller.abort();
    },
  };
}

/** A time of day "HH:MM" of an ISO timestamp, in Shanghai's time (UTC+8, no DST). */
export function clock(iso) {
  if (!iso) return "";
  const d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
  return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
}

/** The hall's clock, not the device's: `at` is the server's time in a reply, read now. */
export function serverClock(at) {
  const offset = new Date(at).getTime() - Date.now();
  return () => new Date(Date.now() + offset);
}

/** Show a message (bilingual) in the element; empty hides it. */
export function say(el, message) {
  if (!message) { el.textContent = ""; el.hidden = true; return; }
  el.textContent = t(message);
  el.hidden = false;
}
