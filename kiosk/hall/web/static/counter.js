// The counter's page (窗口): a clerk signs in at a counter, calls residents and serves them,
// and moves 一件事 applications along. The state shown is always the hall's: every live event
// makes the page read /v1/counter/state again (coalesced), and a reconnection does too.
//
// Buttons that do not apply are marked aria-disabled rather than disabled: they keep their
// place in the Tab order (a keyboard user does not lose focus when the button they just
// pressed becomes inapplicable), and pressing one says why it does not apply.

import {
  lang, t, setLang, onLang, translateStatic, call, listen, newKey, clock, say, HallFailure,
} from "/static/hall.js";

const $ = (id) => document.getElementById(id);
const STORE = "hall.counter.session";

// The kiosk's own words for a priority ticket (kiosk/domain/ticket.py PRIORITY_LABELS).
const PRIORITY = {
  age: { zh: "优先 · 80岁以上", en: "Priority · aged 80+" },
  entitlement: { zh: "优先 · 优抚/特殊群体", en: "Priority · entitled group" },
  appointment: { zh: "优先 · 预约", en: "Priority · appointment" },
};
const PRIORITY_OTHER = { zh: "优先", en: "Priority" };

// kiosk/backend/interface.py: the labels and the edges staff may move an application along.
const STATUS = {
  submitted: { zh: "已提交", en: "Submitted" },
  accepted: { zh: "受理中", en: "Being processed" },
  needs_more: { zh: "需补正", en: "More needed" },
  done: { zh: "已办结", en: "Completed" },
};
const NEXT = {
  submitted: ["accepted", "needs_more", "done"],
  accepted: ["needs_more", "done"],
  needs_more: ["accepted", "needs_more", "done"],
  done: [],
};

// Events after which the counter's state may differ; the others (help calls, faults,
// ratings) are the console's business.
const QUEUE_EVENTS = new Set(["issued", "called", "recalled", "no_show", "returned",
  "transferred", "finished", "withdrawn", "checked_in"]);

const NUMBER = /^[A-Z]{1,2}[0-9]{3,6}$/;
const REFERENCE = /^YW[0-9]{14}$/;

const TEXT = {
  expired: { zh: "登录已失效，请重新登录。", en: "Your session has ended: sign in again." },
  needFields: { zh: "请填写用户名、密码和窗口号。", en: "Enter your username, password and counter number." },
  badCounter: { zh: "窗口号应为数字，例如 3。", en: "The counter number is a number, such as 3." },
  live: { zh: "● 实时更新", en: "● Live" },
  down: { zh: "● 连接中断，正在重连…", en: "● Connection lost, reconnecting…" },
  working: { zh: "正在提交，请稍候…", en: "Sending, please wait…" },
  noneWaiting: { zh: "本窗口的业务暂无人等候。", en: "Nobody is waiting for this counter's services." },
  needTicket: { zh: "没有正在办理的号：重呼、过号、转办和办结需先叫号。",
    en: "Nobody is being served: call someone before recall, no-show, transfer or finish." },
  badNumber: { zh: "请输入号码，例如 A012。", en: "Enter a number such as A012." },
  badReference: { zh: "办件编号为 YW 加 14 位数字。", en: "A reference is YW followed by 14 digits." },
  pickCategory: { zh: "请选择转办的业务。", en: "Choose the service to transfer to." },
  noteNeeded: { zh: "选“需补正”须写明还缺哪些材料。", en: 'For "More needed", say what is still missing.' },
  final: { zh: "该办件已办结，不能再更改。", en: "This application is completed: it cannot change." },
  anonymous: { zh: "未登记（未扫码取号）", en: "Not identified (no code scanned)" },
  none: { zh: "无", en: "None" },
  person: { zh: "人", en: "waiting" },
};

let session = loadSession();
let state = null; // the last /v1/counter/state
let stream = null;
let inFlight = null; // the action being sent
let retry = null; // {sig, key}: the last action that failed for want of an answer
let result = null; // {message, error}
let signinError = null;
let application = null; // the application open in the side panel
let appMessage = null; // {message, error}
let appBusy = false;
let shownRefs = null;

function loadSession() {
  try { return JSON.parse(sessionStorage.getItem(STORE)); } catch { return null; }
}

function saveSession(value) {
  session = value;
  if (value) sessionStorage.setItem(STORE, JSON.stringify(value));
  else sessionStorage.removeItem(STORE);
}

/** "12-07 10:00" (Shanghai time), or only the time of day when it is today's. */
function when(iso, today) {
  if (!iso) return "";
  const d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
  const day = `${String(d.getUTCMonth() + 1).padStart(2, "0")}-${String(d.getUTCDate()).padStart(2, "0")}`;
  return today === day ? clock(iso) : `${day} ${clock(iso)}`;
}

function dayOf(iso) {
  const d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
  return `${String(d.getUTCMonth() + 1).padStart(2, "0")}-${String(d.getUTCDate()).padStart(2, "0")}`;
}

function categoryTitle(id) {
  const found = state && state.categories.find((c) => c.category === id);
  return found ? found.title : { zh: id, en: id };
}

function both(fn) { return { zh: fn("zh"), en: fn("en") }; }

// --- signing in and out

function showSignin(focus = true) {
  $("desk").hidden = true;
  $("signin-view").hidden = false;
  $("who").hidden = true;
  $("link").hidden = true;
  $("sign-out").hidden = true;
  $("title").textContent = t({ zh: "窗口叫号", en: "Counter" });
  say($("signin-error"), signinError);
  if (focus) $("username").focus();
}

async function signIn(event) {
  event.preventDefault();
  const username = $("username").value.trim();
  const password = $("password").value;
  const counterText = $("counter-no").value.trim();
  if (!username || !password || !counterText) {
    signinError = TEXT.needFields;
  } else if (!/^[0-9]{1,3}$/.test(counterText)) {
    signinError = TEXT.badCounter;
  } else {
    signinError = null;
  }
  say($("signin-error"), signinError);
  if (signinError) return;
  $("signin-submit").setAttribute("aria-disabled", "true");
  try {
    const reply = await call("POST", "/v1/staff/sessions", {
      body: { username, password, counter: Number(counterText) } });
    saveSession({ token: reply.token, username, counter: reply.counter });
    $("password").value = "";
    signinError = null;
    say($("signin-error"), null);
    showDesk();
    $("call-next").focus();
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
  state = null;
  application = null;
  result = null;
  signinError = err && err.status === 401 ? TEXT.expired : (err ? err.bilingual : null);
  showSignin();
}

async function signOut() {
  const token = session && session.token;
  if (stream) { stream.close(); stream = null; }
  if (token) {
    try { await call("DELETE", "/v1/staff/sessions", { token }); } catch { /* gone already */ }
  }
  signinError = null;
  ended(null);
}

// --- the desk

function showDesk() {
  $("signin-view").hidden = true;
  $("desk").hidden = false;
  $("sign-out").hidden = false;
  $("who").hidden = false;
  $("link").hidden = false;
  renderHeader();
  setLink(false);
  render();
  if (stream) stream.close();
  stream = listen("/v1/stream", {
    token: session.token,
    onOpen: () => { setLink(true); refresh(); },
    onDown: () => setLink(false),
    onRefused: (err) => ended(err),
    onEvent: (kind, data) => {
      if (QUEUE_EVENTS.has(kind)) refresh();
      if (kind === "application_status" && application && data.reference === application.reference) {
        openApplication(application.reference, { quiet: true });
      }
    },
  });
  refresh();
}

let linkUp = false;
function setLink(up) {
  linkUp = up;
  const el = $("link");
  el.textContent = t(up ? TEXT.live : TEXT.down);
  el.classList.toggle("live", up);
}

function renderHeader() {
  const name = state ? t(state.counter_name)
    : t({ zh: `${session.counter}号窗口`, en: `Counter ${session.counter}` });
  $("title").textContent = name;
  document.title = `${name} · ${t({ zh: "窗口叫号", en: "Counter" })}`;
  $("who").textContent = t({ zh: `工作人员 ${session.username}`, en: `Staff: ${session.username}` });
}

// Reads of the state never overlap: events arriving meanwhile ask for one more read.
let loading = null;
let again = false;
async function refresh() {
  if (!session) return;
  if (loading) { again = true; return loading; }
  loading = (async () => {
    do {
      again = false;
      try {
        state = await call("GET", "/v1/counter/state", { token: session.token });
        servingChanged();
      } catch (err) {
        if (err.status === 401) { ended(err); return; }
        if (err.status === 0) setLink(false);
        else result = { message: err.bilingual, error: true };
      }
      if (!session) return;
      render();
    } while (again);
  })();
  try { await loading; } finally { loading = null; }
}

// A newly called resident starts with a clean application panel: the last resident's
// application is not theirs.
let servingId;
function servingChanged() {
  const id = state && state.current ? state.current.ticket_id : null;
  if (id && servingId !== undefined && id !== servingId) {
    application = null;
    appMessage = null;
    $("app-note").value = "";
  }
  servingId = id;
}

function render() {
  if (!session) return;
  renderHeader();
  renderCurrent();
  renderWaiting();
  renderTransfer();
  renderButtons();
  renderResult();
  renderApplication();
}

function renderCurrent() {
  const cur = state && state.current;
  $("current").hidden = !cur;
  $("current-none").hidden = !!cur;
  if (!cur) { shownRefs = null; return; }
  $("cur-number").textContent = cur.number;
  $("cur-category").textContent = t(cur.category_title);
  const badge = $("cur-priority");
  badge.hidden = !cur.priority;
  badge.textContent = cur.priority ? t(PRIORITY[cur.priority_reason] || PRIORITY_OTHER) : "";
  $("cur-name").textContent = cur.resident_name || t(TEXT.anonymous);
  $("cur-appointment").textContent = cur.appointment
    ? `${clock(cur.appointment.starts_at)}–${clock(cur.appointment.ends_at)}` : t(TEXT.none);
  $("cur-issued").textContent = clock(cur.issued_at);
  const recalls = cur.recalls ? t({ zh: `（已重呼 ${cur.recalls} 次）`, en: ` (recalled ${cur.recalls}×)` }) : "";
  $("cur-called").textContent = `${clock(cur.called_at)}${recalls}`;
  const refs = cur.application_references;
  const key = `${lang}|${refs.join(",")}`;
  if (key !== shownRefs) {
    shownRefs = key;
    const dd = $("cur-refs");
    dd.replaceChildren();
    if (refs.length === 0) {
      dd.textContent = t(TEXT.none);
    } else {
      const box = document.createElement("div");
      box.className = "refs";
      for (const ref of refs) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "ref";
        b.textContent = ref;
        b.setAttribute("aria-label", t({ zh: `打开办件 ${ref}`, en: `Open application ${ref}` }));
        b.addEventListener("click", () => {
          $("app-ref").value = ref;
          openApplication(ref, { focus: true });
        });
        box.append(b);
      }
      dd.append(box);
    }
  }
}

function renderWaiting() {
  const list = $("waiting");
  list.replaceChildren();
  for (const w of state ? state.waiting : []) {
    const li = document.createElement("li");
    li.dataset.category = w.category;
    const title = document.createElement("span");
    title.className = "w-title";
    title.textContent = t(w.title);
    const count = document.createElement("span");
    count.className = "w-count";
    count.textContent = String(w.waiting);
    const unit = document.createElement("span");
    unit.className = "w-unit";
    unit.textContent = t(TEXT.person);
    const pr = document.createElement("span");
    pr.className = "w-priority";
    pr.textContent = w.priority_waiting
      ? t({ zh: `其中优先 ${w.priority_waiting}`, en: `${w.priority_waiting} priority` }) : "";
    li.append(title, count, unit, pr);
    list.append(li);
  }
}

function renderTransfer() {
  const select = $("transfer-to");
  const cur = state && state.current;
  const options = (state ? state.categories : [])
    .filter((c) => !cur || c.category !== cur.category);
  const key = `${lang}|${options.map((c) => c.category).join(",")}`;
  if (select.dataset.key === key) return;
  const chosen = select.value;
  select.dataset.key = key;
  select.replaceChildren();
  const blank = document.createElement("option");
  blank.value = "";
  blank.textContent = t({ zh: "— 选择业务 —", en: "— choose a service —" });
  select.append(blank);
  for (const c of options) {
    const o = document.createElement("option");
    o.value = c.category;
    o.textContent = t(c.title);
    select.append(o);
  }
  if (options.some((c) => c.category === chosen)) select.value = chosen;
}

function totalWaiting() {
  return state ? state.waiting.reduce((n, w) => n + w.waiting, 0) : 0;
}

/** Why each action does not apply now (null: it does). */
function blocked() {
  const cur = state && state.current;
  const working = inFlight || !state ? TEXT.working : null;
  const busy = cur ? {
    zh: `正在办理 ${cur.number}：办结、过号或转办后才能叫下一位。`,
    en: `Serving ${cur.number}: finish, mark no-show or transfer before calling another.`,
  } : null;
  const idle = cur ? null : TEXT.needTicket;
  return {
    "call-next": working || busy || (totalWaiting() === 0 ? TEXT.noneWaiting : null),
    call: working || busy,
    recall: working || idle,
    "no-show": working || idle,
    finish: working || idle,
    transfer: working || idle,
    return: working,
  };
}

function renderButtons() {
  const why = blocked();
  for (const [action, reason] of Object.entries(why)) {
    const b = $(action);
    if (reason) b.setAttribute("aria-disabled", "true");
    else b.removeAttribute("aria-disabled");
  }
  const cur = state && state.current;
  let line;
  if (inFlight) line = TEXT.working;
  else if (cur) line = why["call-next"];
  else if (totalWaiting() === 0) {
    line = { zh: TEXT.needTicket.zh + TEXT.noneWaiting.zh, en: `${TEXT.needTicket.en} ${TEXT.noneWaiting.en}` };
  } else line = TEXT.needTicket;
  $("reason").textContent = t(line);
}

function renderResult() {
  const el = $("result");
  if (!result) { el.hidden = true; return; }
  el.hidden = false;
  el.textContent = t(result.message);
  el.classList.toggle("error", !!result.error);
}

function show(message, error = false) {
  result = message ? { message, error } : null;
  renderResult();
}

// --- the counter's actions

/**
 * Send one action. One Idempotency-Key per press; pressing again for the same action on
 * the same ticket after the network failed sends the same key, so the hall does it once.
 */
async function act(action, body, describe) {
  const reason = blocked()[action];
  if (reason) { show(reason, true); return; }
  const sig = `${action}|${JSON.stringify(body)}`;
  const key = retry && retry.sig === sig ? retry.key : newKey();
  retry = { sig, key };
  inFlight = action;
  renderButtons();
  try {
    const reply = await call("POST", `/v1/counter/${action}`, { token: session.token, body, key });
    retry = null;
    show(describe(reply));
    if (reply && reply.ticket !== undefined && state) {
      state.current = reply.ticket;
      servingChanged();
    } else if (state && ["finish", "no-show", "transfer"].includes(action)) {
      state.current = null; // the counter is free now, before the state is read again
    }
  } catch (err) {
    if (!(err instanceof HallFailure) || err.status !== 0) retry = null;
    if (err.status === 401) { ended(err); return; }
    show(err instanceof HallFailure ? err.bilingual : TEXT.working, true);
  } finally {
    inFlight = null;
    if (session) {
      render();
      refresh();
    }
  }
}

function called(reply) {
  const tk = reply.ticket;
  if (!tk) return TEXT.noneWaiting;
  return both((l) => (l === "zh"
    ? `已叫 ${tk.number} 号（${tk.category_title.zh}），请等候办事人到窗口。`
    : `Called ${tk.number} (${tk.category_title.en}).`));
}

function readNumber(input) {
  const value = input.value.trim().toUpperCase();
  input.value = value;
  return NUMBER.test(value) ? value : null;
}

function wire() {
  $("call-next").addEventListener("click", () => act("call-next", {}, called));
  $("call-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const reason = blocked().call;
    if (reason) { show(reason, true); return; }
    const number = readNumber($("call-number"));
    if (!number) { show(TEXT.badNumber, true); $("call-number").focus(); return; }
    act("call", { number }, called);
  });
  $("recall").addEventListener("click", () => {
    const cur = state && state.current;
    act("recall", { ticket_id: cur && cur.ticket_id }, (r) => ({
      zh: `已重呼 ${r.number} 号（第 ${r.recalls} 次）。`, en: `Recalled ${r.number} (${r.recalls}×).` }));
  });
  $("no-show").addEventListener("click", () => {
    const cur = state && state.current;
    act("no-show", { ticket_id: cur && cur.ticket_id }, (r) => {
      $("return-number").value = r.number;
      const until = clock(r.return_until);
      return { zh: `${r.number} 号已过号；${until} 前回来可“过号回队”。`,
        en: `${r.number} marked no-show; they may return to the queue until ${until}.` };
    });
  });
  $("finish").addEventListener("click", () => {
    const cur = state && state.current;
    act("finish", { ticket_id: cur && cur.ticket_id }, (r) => ({
      zh: `${r.number} 号已办结${r.service_min != null ? `，用时 ${r.service_min} 分钟` : ""}。`,
      en: `${r.number} finished${r.service_min != null ? ` after ${r.service_min} min` : ""}.` }));
  });
  $("transfer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const reason = blocked().transfer;
    if (reason) { show(reason, true); return; }
    const category = $("transfer-to").value;
    if (!category) { show(TEXT.pickCategory, true); $("transfer-to").focus(); return; }
    const cur = state.current;
    act("transfer", { ticket_id: cur.ticket_id, category }, (r) => {
      const to = categoryTitle(category);
      const n = r.new_ticket ? r.new_ticket.number : "";
      return { zh: `${r.number} 号已转至“${to.zh}”，新号 ${n}。`,
        en: `${r.number} transferred to ${to.en}: new number ${n}.` };
    });
  });
  $("return-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const number = readNumber($("return-number"));
    if (!number) { show(TEXT.badNumber, true); $("return-number").focus(); return; }
    act("return", { number }, (r) => ({
      zh: `${r.number} 号已回队${r.ahead != null ? `，前面还有 ${r.ahead} 人` : ""}。`,
      en: `${r.number} is back in the queue${r.ahead != null ? `, ${r.ahead} ahead` : ""}.` }));
  });
  $("app-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const ref = $("app-ref").value.trim().toUpperCase();
    $("app-ref").value = ref;
    if (!REFERENCE.test(ref)) { appMessage = { message: TEXT.badReference, error: true }; renderAppMessage(); return; }
    openApplication(ref, { focus: true });
  });
  for (const b of document.querySelectorAll("[data-status]")) {
    b.addEventListener("click", () => advance(b.dataset.status));
  }
}

// --- 一件事 applications

async function openApplication(reference, { quiet = false, focus = false } = {}) {
  if (!quiet) { appMessage = null; renderAppMessage(); }
  try {
    application = await call("GET", `/v1/staff/applications/${reference}`, { token: session.token });
    renderApplication();
    if (focus) $("app-title").focus();
  } catch (err) {
    if (err.status === 401) { ended(err); return; }
    if (!quiet) {
      application = null;
      renderApplication();
    }
    appMessage = { message: err.bilingual, error: true };
    renderAppMessage();
  }
}

function renderAppMessage() {
  const el = $("app-msg");
  if (!appMessage) { el.hidden = true; return; }
  el.hidden = false;
  el.textContent = t(appMessage.message);
  el.classList.toggle("error", !!appMessage.error);
}

function renderApplication() {
  renderAppMessage();
  const a = application;
  $("app").hidden = !a;
  $("app-hint").hidden = !!a;
  if (!a) return;
  const title = a.bundle_title ? t(a.bundle_title) : a.bundle_id;
  $("app-title").textContent = title;
  const status = $("app-status");
  status.textContent = t(STATUS[a.status] || { zh: a.status, en: a.status });
  status.className = `badge ${a.status}`;
  $("app-reference").textContent = a.reference;
  $("app-name").textContent = a.masked_name || t(TEXT.none);
  $("app-submitted").textContent = when(a.submitted_at);
  $("app-days").textContent = t({ zh: `${a.processing_days} 个工作日`, en: `${a.processing_days} working days` });
  const list = $("app-timeline");
  list.replaceChildren();
  const today = state && state.current ? dayOf(state.current.called_at || state.current.issued_at) : null;
  for (const step of a.timeline) {
    const li = document.createElement("li");
    const time = document.createElement("span");
    time.className = "tl-time";
    time.textContent = when(step.at, today);
    const what = document.createElement("span");
    what.textContent = t(STATUS[step.status] || { zh: step.status, en: step.status });
    const note = document.createElement("span");
    note.className = "tl-note";
    note.textContent = step.note || "";
    li.append(time, what, note);
    list.append(li);
  }
  const allowed = NEXT[a.status] || [];
  for (const b of document.querySelectorAll("[data-status]")) {
    if (appBusy || !allowed.includes(b.dataset.status)) b.setAttribute("aria-disabled", "true");
    else b.removeAttribute("aria-disabled");
  }
  $("advance-reason").textContent = appBusy ? t(TEXT.working)
    : allowed.length === 0 ? t(TEXT.final) : "";
}

let appRetry = null;
async function advance(status) {
  const a = application;
  if (!a || appBusy) return;
  if (!(NEXT[a.status] || []).includes(status)) {
    appMessage = { message: a.status === "done" ? TEXT.final : {
      zh: `该办件现为“${STATUS[a.status].zh}”，不能改为“${STATUS[status].zh}”。`,
      en: `This application is "${STATUS[a.status].en}": it cannot become "${STATUS[status].en}".` },
    error: true };
    renderAppMessage();
    return;
  }
  const note = $("app-note").value.trim();
  if (status === "needs_more" && !note) {
    appMessage = { message: TEXT.noteNeeded, error: true };
    renderAppMessage();
    $("app-note").focus();
    return;
  }
  const body = { status, note };
  const sig = `${a.reference}|${JSON.stringify(body)}`;
  const key = appRetry && appRetry.sig === sig ? appRetry.key : newKey();
  appRetry = { sig, key };
  appBusy = true;
  renderApplication();
  try {
    application = await call("POST", `/v1/staff/applications/${a.reference}/status`, {
      token: session.token, body, key });
    appRetry = null;
    $("app-note").value = "";
    appMessage = { message: {
      zh: `${a.reference} 已改为“${STATUS[status].zh}”。`,
      en: `${a.reference} is now "${STATUS[status].en}".` } };
  } catch (err) {
    if (!(err instanceof HallFailure) || err.status !== 0) appRetry = null;
    if (err.status === 401) { appBusy = false; ended(err); return; }
    appMessage = { message: err.bilingual, error: true };
  } finally {
    appBusy = false;
    if (session) renderApplication();
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
wire();
$("lang").addEventListener("click", () => setLang(lang === "zh" ? "en" : "zh"));
$("signin").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", signOut);
if (session && session.token) showDesk();
else showSignin();
