// The staff console: residents asking for help at a kiosk (who, on which screen, for how
// long) with a chime when a new call comes in; acknowledge ("someone is coming", which the
// kiosk shows) and resolve; and the devices that need someone (faults, last seen).
//
// Live: the hall's stream says what changed; the page then reads the lists again. A new
// help call is shown from the event itself at once, before that read returns.

import {
  lang, t, setLang, onLang, translateStatic, call, listen, newKey, clock, serverClock, say,
  HallFailure,
} from "/static/hall.js";

const $ = (id) => document.getElementById(id);
const STORE = "hall.console.session";

// The kiosk's screens (kiosk/ui/screen_names.py) in a clerk's words: where to find the
// resident in the flow and what they were trying to do.
const SCREENS = {
  home: { zh: "首页", en: "Home screen" },
  services: { zh: "首页 · 更多服务", en: "Home · more services" },
  scan: { zh: "扫码取号", en: "Scanning a code to take a number" },
  category: { zh: "选择办理业务", en: "Choosing a service" },
  ticket: { zh: "取号凭条", en: "Ticket printed" },
  ticket_refused: { zh: "无法取号（已停止放号或不在办理时间）", en: "Number refused (closed or none left)" },
  bundles: { zh: "一件事 · 选择事项", en: "一件事 · choosing a bundle" },
  wizard: { zh: "一件事 · 填写申请", en: "一件事 · filling in the application" },
  bundle_result: { zh: "一件事 · 提交结果", en: "一件事 · application submitted" },
  query_scan: { zh: "办件查询 · 扫码", en: "Application lookup · scanning" },
  query_result: { zh: "办件查询 · 结果", en: "Application lookup · result" },
  checkin_scan: { zh: "预约签到 · 扫码", en: "Appointment check-in · scanning" },
  checkin_result: { zh: "预约签到 · 结果", en: "Appointment check-in · result" },
  rating: { zh: "好差评", en: "Rating the service" },
  help: { zh: "呼叫帮办", en: "Asking for help" },
  maintenance_pin: { zh: "维护登录", en: "Maintenance sign-in" },
  maintenance: { zh: "维护界面", en: "Maintenance" },
};

// kiosk/hall/store/help.py FaultKind
const FAULTS = {
  paper_out: { zh: "打印纸用完", en: "Paper out" },
  paper_near_end: { zh: "打印纸将尽", en: "Paper nearly out" },
  cover_open: { zh: "打印机盖未关", en: "Printer cover open" },
  printer_silent: { zh: "打印机无响应", en: "Printer not responding" },
  camera_down: { zh: "摄像头故障", en: "Camera down" },
  outbox_backlog: { zh: "待上传记录积压", en: "Records waiting to upload" },
  other: { zh: "其他故障", en: "Other fault" },
};

const KINDS = {
  kiosk: { zh: "自助终端", en: "Kiosk" },
  board: { zh: "叫号屏", en: "Calling board" },
  counter: { zh: "窗口屏", en: "Counter display" },
};

const TEXT = {
  expired: { zh: "登录已失效，请重新登录。", en: "Your session has ended: sign in again." },
  needFields: { zh: "请填写用户名和密码。", en: "Enter your username and password." },
  live: { zh: "● 实时更新", en: "● Live" },
  down: { zh: "● 连接中断，正在重连…", en: "● Connection lost, reconnecting…" },
  raised: { zh: "等待处理", en: "Waiting" },
  acknowledge: { zh: "响应", en: "Acknowledge" },
  resolve: { zh: "标为已解决", en: "Mark resolved" },
  never: { zh: "从未连接", en: "never" },
  ok: { zh: "正常", en: "OK" },
  revoked: { zh: "已停用", en: "Revoked" },
};

let session = loadSession();
let stream = null;
let calls = []; // open help calls, longest waiting first
let faults = [];
let devices = null; // a supervisor's every device; null for a clerk
let hallNow = null; // () => the hall's time, once known
let message = null;
let signinError = null;
const busy = new Set(); // call ids with a request in flight
const retries = new Map(); // "action|call" -> key, after an answer was lost
const chimed = new Set();
let firstLoad = true;
let linkUp = false;

window.hallConsoleSounds = 0;

function loadSession() {
  try { return JSON.parse(sessionStorage.getItem(STORE)); } catch { return null; }
}

function saveSession(value) {
  session = value;
  if (value) sessionStorage.setItem(STORE, JSON.stringify(value));
  else sessionStorage.removeItem(STORE);
}

// --- the chime: two tones from an oscillator, nothing to download

let audio = null;

function ensureAudio() {
  if (!audio) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    audio = new Context();
  }
  if (audio.state === "suspended") audio.resume().then(soundHint, soundHint);
  soundHint();
  return audio;
}

/** Say whether the browser lets the page sound (it may wait for a first click or key). */
function soundHint() {
  $("sound-on").hidden = !session || !audio || audio.state === "running";
}

async function chime() {
  const ctx = ensureAudio();
  if (!ctx) return;
  if (ctx.state !== "running") {
    try { await ctx.resume(); } catch { return; }
    if (ctx.state !== "running") { soundHint(); return; }
  }
  const start = ctx.currentTime + 0.02;
  for (const [i, freq] of [880, 660].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    const at = start + i * 0.28;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.35, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.26);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + 0.27);
  }
  window.hallConsoleSounds += 1;
}

function announce(callId) {
  if (chimed.has(callId)) return;
  chimed.add(callId);
  chime();
}

// --- time

/** Seconds the call has waited: the hall's count when the list was read, and the time
 * since then (this computer's clock may be wrong, its stopwatch is not). */
function waitedS(c) {
  return (c.waited_s || 0) + Math.floor((performance.now() - (c.seen || 0)) / 1000);
}

function duration(s) {
  const m = Math.floor(s / 60);
  const sec = String(s % 60).padStart(2, "0");
  if (s < 60) return { zh: `${s} 秒`, en: `${s} s` };
  if (m < 60) return { zh: `${m} 分 ${sec} 秒`, en: `${m} min ${sec} s` };
  return { zh: `${Math.floor(m / 60)} 小时 ${m % 60} 分`, en: `${Math.floor(m / 60)} h ${m % 60} min` };
}

function minutesAgo(iso) {
  if (!hallNow || !iso) return null;
  return Math.max(0, Math.floor((hallNow().getTime() - new Date(iso).getTime()) / 60000));
}

function shanghaiDay(date) {
  const d = new Date(date.getTime() + 8 * 3600 * 1000);
  return `${String(d.getUTCMonth() + 1).padStart(2, "0")}-${String(d.getUTCDate()).padStart(2, "0")}`;
}

/** "10:02", or "12-06 17:30" when not the hall's today. */
function when(iso) {
  if (!iso) return "";
  const day = shanghaiDay(new Date(iso));
  const today = hallNow ? shanghaiDay(hallNow()) : day;
  return day === today ? clock(iso) : `${day} ${clock(iso)}`;
}

// --- signing in and out

function showSignin(focus = true) {
  $("desk").hidden = true;
  $("signin-view").hidden = false;
  for (const id of ["who", "link", "sign-out", "sound-on"]) $(id).hidden = true;
  say($("signin-error"), signinError);
  if (focus) $("username").focus();
}

async function signIn(event) {
  event.preventDefault();
  ensureAudio(); // a click or a key press: the browser lets the page sound from now on
  const username = $("username").value.trim();
  const password = $("password").value;
  signinError = !username || !password ? TEXT.needFields : null;
  say($("signin-error"), signinError);
  if (signinError) return;
  $("signin-submit").setAttribute("aria-disabled", "true");
  try {
    const reply = await call("POST", "/v1/staff/sessions", { body: { username, password } });
    saveSession({ token: reply.token, username, role: reply.role });
    $("password").value = "";
    showDesk();
  } catch (err) {
    signinError = err instanceof HallFailure ? err.bilingual : TEXT.expired;
    say($("signin-error"), signinError);
    $("password").select();
  } finally {
    $("signin-submit").removeAttribute("aria-disabled");
  }
}

function ended(err) {
  if (stream) { stream.close(); stream = null; }
  saveSession(null);
  calls = [];
  faults = [];
  devices = null;
  message = null;
  signinError = err ? (err.status === 401 ? TEXT.expired : err.bilingual) : null;
  showSignin();
}

async function signOut() {
  const token = session && session.token;
  if (stream) { stream.close(); stream = null; }
  if (token) {
    try { await call("DELETE", "/v1/staff/sessions", { token }); } catch { /* gone already */ }
  }
  ended(null);
}

// --- the desk

function showDesk() {
  $("signin-view").hidden = true;
  $("desk").hidden = false;
  $("sign-out").hidden = false;
  $("who").hidden = false;
  $("link").hidden = false;
  $("all-devices").hidden = session.role !== "supervisor";
  firstLoad = true;
  renderWho();
  setLink(false);
  render();
  if (stream) stream.close();
  stream = listen("/v1/stream", {
    token: session.token,
    onOpen: () => { setLink(true); refreshAll(); },
    onDown: () => setLink(false),
    onRefused: (err) => ended(err),
    onEvent: (kind, data) => {
      if (kind === "help_raised") {
        if (data.call && !calls.some((c) => c.call_id === data.call)) {
          // Shown at once from the event; the read that follows fills in the rest.
          calls.push({ call_id: data.call, kiosk: data.kiosk, screen: data.screen, state: "raised",
            raised_at: hallNow ? hallNow().toISOString() : null, waited_s: 0,
            seen: performance.now() });
          render();
        }
        if (data.call) announce(data.call);
        refreshCalls();
      } else if (kind === "help_acknowledged" || kind === "help_resolved") {
        refreshCalls();
      } else if (kind === "fault_opened" || kind === "fault_cleared") {
        refreshFaults();
      }
    },
  });
  soundHint();
  refreshAll();
}

function renderWho() {
  const role = session.role === "supervisor" ? { zh: "值班长", en: "supervisor" } : { zh: "工作人员", en: "staff" };
  $("who").textContent = t({ zh: `${role.zh} ${session.username}`, en: `${session.username} (${role.en})` });
}

function setLink(up) {
  linkUp = up;
  $("link").textContent = t(up ? TEXT.live : TEXT.down);
  $("link").classList.toggle("live", up);
}

function failed(err) {
  if (err.status === 401) { ended(err); return true; }
  if (err.status === 0) { setLink(false); return true; }
  return false;
}

/** One read at a time per list; anything asked meanwhile makes one more read. */
function coalesced(read) {
  let running = null;
  let again = false;
  return async function run() {
    if (!session) return;
    if (running) { again = true; return running; }
    running = (async () => {
      do {
        again = false;
        try { await read(); } catch (err) { if (!failed(err)) throw err; }
        if (!session) return;
        render();
      } while (again);
    })();
    try { await running; } finally { running = null; }
  };
}

const refreshCalls = coalesced(async () => {
  const list = await call("GET", "/v1/help-calls?open=true", { token: session.token });
  const seen = performance.now();
  calls = list.map((c) => ({ ...c, seen }));
  // A call that came in while the stream was down still rings (not those already waiting
  // when the console opened: the list shows them).
  for (const c of list) {
    if (firstLoad) chimed.add(c.call_id);
    else if (c.state === "raised") announce(c.call_id);
  }
  firstLoad = false;
});

const refreshFaults = coalesced(async () => {
  const token = session.token;
  faults = await call("GET", "/v1/faults", { token });
  if (session.role === "supervisor") devices = await call("GET", "/v1/devices", { token });
});

async function readClock() {
  // The hall's time: the board's reply carries it (the page shows waits by the hall's
  // clock, not this computer's).
  try {
    const board = await call("GET", "/v1/board", { token: session.token });
    if (board && board.at) hallNow = serverClock(board.at);
  } catch (err) { failed(err); }
}

async function refreshAll() {
  await readClock();
  await Promise.all([refreshCalls(), refreshFaults()]);
}

// --- rendering

function render() {
  if (!session) return;
  renderWho();
  renderCalls();
  renderFaults();
  const el = $("calls-msg");
  if (!message) el.hidden = true;
  else {
    el.hidden = false;
    el.textContent = t(message.text);
    el.classList.toggle("error", !!message.error);
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function renderCalls() {
  const list = $("calls");
  // The list is drawn anew; the keyboard's place in it is kept.
  const focused = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset : {};
  const keep = focused.call ? { call: focused.call, act: focused.act } : null;
  list.replaceChildren();
  $("calls-none").hidden = calls.length > 0;
  $("calls-count").textContent = calls.length ? String(calls.length) : "";
  for (const c of calls) {
    const li = el("li", `call ${c.state}`);
    li.dataset.call = c.call_id;
    const head = el("div", "call-head");
    head.append(el("span", "call-kiosk", c.kiosk));
    const stateText = c.state === "acknowledged"
      ? t({ zh: `${c.acknowledged_by || ""} 已响应 ${clock(c.acknowledged_at)}`.trim(),
        en: `${c.acknowledged_by || "Someone"} is coming (${clock(c.acknowledged_at)})` })
      : t(TEXT.raised);
    head.append(el("span", "call-state", stateText));
    const screen = el("p", "call-screen");
    screen.append(t({ zh: "所在页面：", en: "On screen: " }));
    screen.append(el("b", null, t(SCREENS[c.screen] || { zh: c.screen, en: c.screen })));
    const wait = el("p", "call-wait");
    wait.append(t({ zh: "已等待 ", en: "Waiting for " }));
    const strong = el("strong", "waited", t(duration(waitedS(c))));
    wait.append(strong);
    if (c.raised_at) wait.append(t({ zh: ` · ${clock(c.raised_at)} 呼叫`, en: ` · called at ${clock(c.raised_at)}` }));
    const buttons = el("div", "call-buttons");
    const ack = el("button", null, t(TEXT.acknowledge));
    ack.type = "button";
    ack.dataset.call = c.call_id;
    ack.dataset.act = "acknowledge";
    ack.setAttribute("aria-label", t({ zh: `响应 ${c.kiosk} 的呼叫`, en: `Acknowledge ${c.kiosk}'s call` }));
    if (c.state !== "raised" || busy.has(c.call_id)) ack.setAttribute("aria-disabled", "true");
    ack.addEventListener("click", () => advance(c, "acknowledge"));
    const res = el("button", c.state === "raised" ? "secondary" : "done", t(TEXT.resolve));
    res.type = "button";
    res.dataset.call = c.call_id;
    res.dataset.act = "resolve";
    res.setAttribute("aria-label", t({ zh: `将 ${c.kiosk} 的呼叫标为已解决`, en: `Mark ${c.kiosk}'s call resolved` }));
    if (busy.has(c.call_id)) res.setAttribute("aria-disabled", "true");
    res.addEventListener("click", () => advance(c, "resolve"));
    buttons.append(ack, res);
    li.append(head, buttons, screen, wait);
    list.append(li);
  }
  if (keep) {
    const again = list.querySelector(`button[data-call="${CSS.escape(keep.call)}"][data-act="${keep.act}"]`);
    if (again) again.focus();
    else {
      const next = list.querySelector("button");
      (next || $("calls-h")).focus();
    }
  }
}

/** Only the waiting times move between reads. */
function tick() {
  for (const li of $("calls").children) {
    const c = calls.find((x) => x.call_id === li.dataset.call);
    const strong = li.querySelector(".waited");
    if (c && strong) strong.textContent = t(duration(waitedS(c)));
  }
}

function seenText(iso) {
  if (!iso) return t(TEXT.never);
  const ago = minutesAgo(iso);
  const base = when(iso);
  if (ago == null || ago < 1) return base;
  return t({ zh: `${base}（${ago} 分钟前）`, en: `${base} (${ago} min ago)` });
}

function kindText(kind, counter) {
  const k = KINDS[kind] || { zh: kind, en: kind };
  return counter ? t({ zh: `${k.zh}（${counter}号窗口）`, en: `${k.en} (${counter})` }) : t(k);
}

function renderFaults() {
  const list = $("faults");
  list.replaceChildren();
  $("faults-none").hidden = faults.length > 0;
  for (const d of faults) {
    const li = el("li", "device");
    li.dataset.device = d.device;
    const head = el("div", "device-head");
    head.append(el("span", "device-name", d.device), el("span", "device-kind", kindText(d.device_kind, d.counter)));
    head.append(el("span", "device-seen", t({ zh: "最近在线 ", en: "Last seen " }) + seenText(d.last_seen_at)));
    const items = el("ul", "faults");
    for (const f of d.faults) {
      const item = el("li");
      item.dataset.fault = f.kind;
      item.append(el("span", "fault-kind", t(FAULTS[f.kind] || { zh: f.kind, en: f.kind })));
      const ago = minutesAgo(f.since);
      item.append(el("span", "fault-since", t({ zh: `自 ${when(f.since)} 起`, en: `since ${when(f.since)}` })
        + (ago ? t({ zh: `，已 ${ago} 分钟`, en: `, ${ago} min` }) : "")));
      if (f.detail) item.append(el("span", "fault-detail", f.detail));
      items.append(item);
    }
    li.append(head, items);
    list.append(li);
  }
  if (devices) {
    const body = $("devices");
    body.replaceChildren();
    for (const d of devices) {
      const tr = el("tr");
      tr.dataset.device = d.name;
      tr.append(el("td", null, d.name), el("td", null, kindText(d.kind, d.counter)),
        el("td", null, seenText(d.last_seen_at)));
      let state;
      if (d.revoked) state = el("td", "off", t(TEXT.revoked));
      else if (d.faults.length) {
        const n = d.faults.length;
        state = el("td", "bad", t({ zh: `${n} 项故障`, en: n === 1 ? "1 fault" : `${n} faults` }));
        state.title = d.faults.map((f) => t(FAULTS[f.kind] || { zh: f.kind, en: f.kind }))
          .join(lang === "zh" ? "、" : ", ");
      } else state = el("td", "ok", t(TEXT.ok));
      tr.append(state);
      body.append(tr);
    }
  }
}

// --- acknowledge and resolve

async function advance(c, act) {
  if (busy.has(c.call_id)) return;
  if (act === "acknowledge" && c.state !== "raised") {
    message = { text: { zh: `${c.kiosk} 的呼叫已有人响应。`, en: `Someone has acknowledged ${c.kiosk}'s call already.` }, error: true };
    render();
    return;
  }
  const sig = `${act}|${c.call_id}`;
  const key = retries.get(sig) || newKey();
  retries.set(sig, key);
  busy.add(c.call_id);
  render();
  try {
    const reply = await call("POST", `/v1/help-calls/${encodeURIComponent(c.call_id)}/${act}`, {
      token: session.token, key });
    retries.delete(sig);
    if (reply.state === "resolved") calls = calls.filter((x) => x.call_id !== c.call_id);
    else calls = calls.map((x) => (x.call_id === c.call_id ? { ...reply, seen: performance.now() } : x));
    message = { text: act === "acknowledge"
      ? { zh: `已响应 ${c.kiosk} 的呼叫：终端已告诉办事人您马上就到。`,
        en: `Acknowledged ${c.kiosk}'s call: the kiosk tells the resident you are coming.` }
      : { zh: `${c.kiosk} 的呼叫已处理完毕。`, en: `${c.kiosk}'s call is resolved.` } };
  } catch (err) {
    if (!(err instanceof HallFailure) || err.status !== 0) retries.delete(sig);
    if (err.status === 401) { busy.delete(c.call_id); ended(err); return; }
    message = { text: err.bilingual, error: true };
  } finally {
    busy.delete(c.call_id);
    if (session) { render(); refreshCalls(); }
  }
}

// --- start

function langButton() {
  $("lang").textContent = lang === "zh" ? "English" : "中文";
  $("lang").setAttribute("lang", lang === "zh" ? "en" : "zh-CN");
}

onLang(() => {
  translateStatic();
  langButton();
  if (session) { render(); setLink(linkUp); } else showSignin(false);
});

translateStatic();
langButton();
$("lang").addEventListener("click", () => setLang(lang === "zh" ? "en" : "zh"));
$("signin").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", signOut);
$("sound-on").addEventListener("click", () => { ensureAudio(); });
// Any key or click lets a page sound; a console opened from a kept session waits for one.
for (const kind of ["pointerdown", "keydown"]) {
  document.addEventListener(kind, () => { if (audio && audio.state !== "running") ensureAudio(); });
}
setInterval(tick, 1000);
if (session && session.token) showDesk();
else showSignin();
