// The calling board (叫号屏): a TV in the hall showing who is called to which counter, the
// earlier calls, how many wait per service and the hours, and playing each call: a chime,
// then the call spoken by the hall (espeak-ng on the server: a board's Chromium has no
// offline voices) in each configured language, twice. One clip at a time, in the order the
// calls came: announcements never talk over each other.
//
// The board's credential is its device token, given once in the address
// (/board#token=...), kept in localStorage and taken out of the address at once.

import {
  call, clock, HallFailure, lang, listen, serverClock, t, translateStatic,
} from "/static/hall.js";

const TOKEN_KEY = "hall.board.token";
const FRESH_MS = 15000; // how long a new call stays marked
const REFRESH_MS = 60000; // hours and open/closed change with time alone, with no event
const PORTRAIT = matchMedia("(orientation: portrait)");
const MAX_RECENT = 8;
const CLIPS_KEPT = 24;
const CLIP_GUARD_MS = 5000; // a clip that never ends (a stuck audio device) ends this late
// A call takes some 20 s to announce; calls coming faster than that for long would leave the
// hall hearing numbers minutes late. Beyond this many calls waiting their turn, the oldest is
// not said (the board still shows it).
const MAX_WAITING_CALLS = 4;

const $ = (id) => document.getElementById(id);
const other = lang === "zh" ? "en" : "zh";
const both = (bi) => [t(bi), bi ? (bi[other] ?? "") : ""];

const REFUSED = {
  zh: "排队系统拒绝了此凭证（无效或已吊销）。请向管理员索取本屏的设备凭证后重新粘贴。",
  en: "The hall refused this token (unknown or revoked): ask the administrator for this "
    + "board's device token and paste it here.",
};
const COUNTER = { zh: "号窗口", en: "Counter" }; // beside a counter's number: "3 号窗口"
const DOWN = {
  zh: "与排队系统的连接中断，正在重连……",
  en: "Lost the connection to the hall; reconnecting…",
};

// ------------------------------------------------------------------ the credential

function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const given = fragment.get("token");
  if (given) {
    localStorage.setItem(TOKEN_KEY, given.trim());
    // Out of the address bar, the history and any screenshot of the board.
    history.replaceState(null, "", location.pathname + location.search);
  }
  return localStorage.getItem(TOKEN_KEY);
}

let token = null;

function showSetup(refused) {
  $("board").hidden = true;
  $("setup").hidden = false;
  const message = $("refused");
  if (refused) {
    message.textContent = `${REFUSED.zh}\n${REFUSED.en}`;
    message.hidden = false;
  } else {
    message.hidden = true;
  }
  $("token").focus();
}

let stream = null;

function refused() {
  localStorage.removeItem(TOKEN_KEY);
  token = null;
  if (stream) { stream.close(); stream = null; }
  showSetup(true);
}

// ------------------------------------------------------------------ the board's state

let board = null;
let now = () => new Date();
let lastCall = null; // {number, counter} of the latest called/recalled event
const fresh = new Map(); // "number@counter" -> when the mark ends (performance.now())

const key = (number, counter) => `${number}@${counter}`;

function isFresh(number, counter) {
  const until = fresh.get(key(number, counter));
  return until !== undefined && until > performance.now();
}

function markFresh(number, counter) {
  fresh.set(key(number, counter), performance.now() + FRESH_MS);
  setTimeout(() => { if (board) render(board); }, FRESH_MS + 50);
}

let loading = null;
let again = false;

/** Read /v1/board now, or once more after the read in flight (events come in bursts). */
function refresh() {
  if (!token) return;
  if (loading) { again = true; return; }
  loading = (async () => {
    do {
      again = false;
      try {
        const data = await call("GET", "/v1/board", { token });
        board = data;
        now = serverClock(data.at);
        if (Array.isArray(data.announce_languages)) languages = data.announce_languages;
        showLink(null);
        render(data);
      } catch (err) {
        if (err instanceof HallFailure && (err.status === 401 || err.status === 403)) {
          refused();
          break;
        }
        showLink(DOWN);
      }
    } while (again && token);
    loading = null;
  })();
}

function showLink(message) {
  const el = $("link");
  if (!message) { el.hidden = true; el.textContent = ""; return; }
  el.textContent = `${message[lang]} ${message[other]}`;
  el.hidden = false;
}

// ------------------------------------------------------------------ drawing

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function sentence(number, counterName, language) {
  return language === "zh" ? `请 ${number} 号到 ${counterName.zh}`
    : `Number ${number}, please go to ${counterName.en}`;
}

function pickHero(current) {
  if (current.length === 0) return null;
  if (lastCall) {
    const found = current.find((c) => c.number === lastCall.number && c.counter === lastCall.counter);
    if (found) return found;
  }
  return current.reduce((a, b) => (new Date(b.called_at) > new Date(a.called_at) ? b : a));
}

function renderHero(hero) {
  $("hero-call").hidden = !hero;
  $("hero-empty").hidden = !!hero;
  $("hero").classList.toggle("fresh", !!hero && isFresh(hero.number, hero.counter));
  if (!hero) {
    $("hero-sentence").textContent = "";
    $("hero-sentence-other").textContent = "";
    return;
  }
  $("hero-number").textContent = hero.number;
  $("hero-counter").textContent = String(hero.counter);
  $("hero").dataset.number = hero.number;
  $("hero").dataset.counter = String(hero.counter);
  $("hero-sentence").textContent = sentence(hero.number, hero.counter_name, lang);
  $("hero-sentence-other").textContent = sentence(hero.number, hero.counter_name, other);
}

function callItem(c) {
  const li = el("li", "call");
  li.dataset.number = c.number;
  li.dataset.counter = String(c.counter);
  if (isFresh(c.number, c.counter)) li.classList.add("fresh");
  li.append(el("span", "number", c.number));
  const where = el("span", "where");
  where.append(el("span", "counter", String(c.counter)), el("span", "caption", t(COUNTER)));
  li.append(where);
  return li;
}

function renderServing(current, hero) {
  const list = $("serving-list");
  const serving = current
    .filter((c) => c.serving && c !== hero)
    .sort((a, b) => new Date(b.called_at) - new Date(a.called_at))
    .slice(0, PORTRAIT.matches ? 3 : 4); // what fits; the others are in the earlier calls
  list.replaceChildren(...serving.map((c) => callItem(c)));
  if (serving.length === 0) {
    const li = el("li", "none");
    li.append(el("span", "", t({ zh: "暂无", en: "None" })));
    list.append(li);
  }
  return serving;
}

function renderRecent(recent, shown) {
  const seen = new Set(shown.map((c) => key(c.number, c.counter)));
  const earlier = recent.filter((c) => !seen.has(key(c.number, c.counter))).slice(0, MAX_RECENT);
  $("recent-list").replaceChildren(...earlier.map((c) => {
    const li = el("li", "row");
    li.append(el("span", "number", c.number), el("span", "counter", t(c.counter_name)),
      el("span", "at", clock(c.called_at)));
    return li;
  }));
  if (earlier.length === 0) {
    $("recent-list").append(el("li", "none", t({ zh: "暂无", en: "None" })));
  }
}

function renderWaiting(categories) {
  $("waiting-list").replaceChildren(...categories.map((c) => {
    const li = el("li", c.open ? "row" : "row closed");
    li.dataset.category = c.category;
    const title = el("span", "title");
    const [name, nameOther] = both(c.title);
    title.append(el("span", "", name), el("span", "other", nameOther));
    li.append(title);
    if (c.open) {
      li.append(el("span", "count", String(c.waiting)));
    } else {
      const when = c.opens_at ? clock(c.opens_at) : null;
      li.append(el("span", "shut", when
        ? t({ zh: `${when} 开始`, en: `opens ${when}` }) : t({ zh: "今日停止", en: "closed" })));
      if (c.waiting > 0) li.append(el("span", "count", String(c.waiting)));
    }
    return li;
  }));
}

function periodsText(periods) {
  return periods.map((p) => `${clock(p.start)}–${clock(p.end)}`).join("  ");
}

function renderHours(categories) {
  // The center's hours: those most services keep (a service with its own hours says so in
  // its row when it is closed).
  const tally = new Map();
  for (const c of categories) {
    const text = periodsText(c.periods_today);
    tally.set(text, (tally.get(text) || 0) + 1);
  }
  let common = "";
  let most = 0;
  for (const [text, n] of tally) if (n > most) { common = text; most = n; }
  const label = { zh: "今日办理时间", en: "Hours today" };
  const none = { zh: "今日不办理", en: "Closed today" };
  $("hours").replaceChildren(
    el("span", "", t(common ? label : none)), el("span", "other", (common ? label : none)[other]),
    el("strong", "", common));

  const open = categories.filter((c) => c.open);
  let state;
  if (open.length > 0) {
    const until = clock(open.map((c) => c.closes_at).sort().at(-1));
    state = { zh: `办理中 · 至 ${until}`, en: `Open until ${until}` };
  } else {
    const next = categories.map((c) => c.opens_at).filter(Boolean).sort()[0];
    state = next ? { zh: `暂停办理 · ${clock(next)} 开始`, en: `Closed · opens ${clock(next)}` }
      : { zh: "今日已结束", en: "Closed for today" };
  }
  $("open-state").textContent = state[lang];
  $("open-state-other").textContent = state[other];
  $("open-state").classList.toggle("closed", open.length === 0);
}

function render(data) {
  $("center-name").textContent = t(data.center.name);
  $("center-name-other").textContent = data.center.name[other];
  document.title = `${t({ zh: "叫号屏", en: "Calling board" })} · ${t(data.center.name)}`;
  const hero = pickHero(data.current);
  renderHero(hero);
  const serving = renderServing(data.current, hero);
  renderRecent(data.recent, hero ? [hero, ...serving] : serving);
  renderWaiting(data.categories);
  renderHours(data.categories);
  tick();
}

const WEEKDAYS = {
  zh: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
  en: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
};
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function tick() {
  const at = now();
  $("clock").textContent = clock(at.toISOString());
  const d = new Date(at.getTime() + 8 * 3600 * 1000); // Shanghai's day (UTC+8, no DST)
  const zh = `${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${WEEKDAYS.zh[d.getUTCDay()]}`;
  const en = `${WEEKDAYS.en[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  $("date").textContent = lang === "zh" ? `${zh} · ${en}` : `${en} · ${zh}`;
}

// ------------------------------------------------------------------ the announcements

// What was played, for the tests and a technician's console: one entry per clip, in order.
const played = [];
const failed = [];
window.hallAnnouncements = played;
window.hallAnnouncementFailures = failed;

let languages = ["zh", "en"];
const queue = []; // {clip, number, counter, call, blob: Promise<Blob>}
let calls = 0;
let playing = false;
let blocked = false;
const clips = new Map(); // address -> Promise<Blob>, the latest CLIPS_KEPT

function clipAddress(clip, number, counter) {
  if (clip === "chime") return "/v1/board/chime";
  const query = new URLSearchParams({ number, counter: String(counter), lang: clip });
  return `/v1/board/announcement?${query}`;
}

function fetchClip(address) {
  const kept = clips.get(address);
  if (kept) {
    clips.delete(address);
    clips.set(address, kept);
    return kept;
  }
  const blob = fetch(address, { headers: { Authorization: `Bearer ${token}` } })
    .then(async (response) => {
      if (!response.ok) {
        let body = null;
        try { body = await response.json(); } catch { body = null; }
        throw new HallFailure(response.status, body?.error ?? `http_${response.status}`,
          body?.message ?? { zh: `语音 ${response.status}`, en: `audio ${response.status}` }, body);
      }
      return response.blob();
    });
  blob.catch(() => clips.delete(address)); // a failure is not kept: the next call retries
  clips.set(address, blob);
  while (clips.size > CLIPS_KEPT) clips.delete(clips.keys().next().value);
  return blob;
}

function announce(number, counter) {
  const items = [{ clip: "chime" }];
  for (const language of languages) items.push({ clip: language }, { clip: language });
  calls += 1;
  for (const item of items) {
    queue.push({ ...item, number, counter, call: calls,
      blob: fetchClip(clipAddress(item.clip, number, counter)) });
  }
  trimBacklog();
  pump();
}

/** Drop the oldest calls waiting their turn beyond MAX_WAITING_CALLS; while the browser
 * will not play (nobody has tapped yet), keep only the latest: a tap an hour later must
 * not replay the whole hour. */
function trimBacklog() {
  const keep = blocked ? 1 : MAX_WAITING_CALLS;
  const started = playing && queue.length > 0 ? queue[0].call : null;
  const waiting = [...new Set(queue.map((item) => item.call))].filter((c) => c !== started);
  const dropped = new Set(waiting.slice(0, Math.max(0, waiting.length - keep)));
  if (dropped.size === 0) return;
  const kept = [];
  for (const item of queue) {
    if (!dropped.has(item.call)) { kept.push(item); continue; }
    item.blob.catch(() => {});
    failed.push({ clip: item.clip, number: item.number, counter: item.counter,
      error: "skipped: later calls were waiting" });
  }
  queue.splice(0, queue.length, ...kept);
}

class Blocked extends Error {}

/** Play one clip to its end. Rejects with Blocked when the browser refuses to play. */
function play(item, blob) {
  return new Promise((resolve, reject) => {
    const address = URL.createObjectURL(blob);
    const audio = new Audio();
    const entry = { clip: item.clip, number: item.number, counter: item.counter, started: null, ended: null };
    let guard = null;
    const done = (how) => {
      clearTimeout(guard);
      audio.removeAttribute("src");
      URL.revokeObjectURL(address);
      how();
    };
    audio.addEventListener("ended", () => done(() => {
      entry.ended = performance.now();
      resolve();
    }), { once: true });
    audio.addEventListener("error", () => done(() => reject(new Error(`cannot decode ${item.clip}`))),
      { once: true });
    audio.src = address;
    audio.play().then(() => {
      entry.started = performance.now();
      entry.duration = audio.duration;
      played.push(entry);
      guard = setTimeout(() => done(() => {
        entry.ended = performance.now();
        entry.guarded = true;
        resolve();
      }), (Number.isFinite(audio.duration) ? audio.duration * 1000 : 30000) + CLIP_GUARD_MS);
    }, (err) => done(() => reject(err && err.name === "NotAllowedError" ? new Blocked() : err)));
  });
}

async function pump() {
  if (playing || blocked) return;
  playing = true;
  try {
    while (queue.length > 0) {
      const item = queue[0];
      try {
        await play(item, await item.blob);
      } catch (err) {
        if (err instanceof Blocked) {
          blocked = true;
          trimBacklog();
          $("sound").hidden = false;
          return; // the clip stays first in the queue until someone taps
        }
        // No speech (503: espeak-ng missing on the server) or a clip that would not play:
        // the board has shown the call and chimed; the queue goes on.
        failed.push({ clip: item.clip, number: item.number, counter: item.counter,
          error: String(err && err.message ? err.message : err) });
      }
      queue.shift();
    }
  } finally {
    playing = false;
  }
}

$("sound").addEventListener("click", () => {
  blocked = false;
  $("sound").hidden = true;
  pump();
});

// ------------------------------------------------------------------ live events

function onEvent(kind, data) {
  if ((kind === "called" || kind === "recalled") && data && data.number && data.counter) {
    lastCall = { number: data.number, counter: data.counter };
    markFresh(data.number, data.counter);
    announce(data.number, data.counter);
  }
  refresh();
}

function start() {
  $("setup").hidden = true;
  $("board").hidden = false;
  refresh();
  fetchClip(clipAddress("chime")).catch(() => {}); // the first call's chime without a wait
  stream = listen("/v1/stream", {
    token,
    onOpen: () => { showLink(null); refresh(); },
    onDown: () => showLink(DOWN),
    onRefused: (err) => {
      if (err.status === 401 || err.status === 403) refused();
      else showLink(DOWN);
    },
    onEvent,
  });
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const given = $("token").value.trim();
  if (!given) return;
  localStorage.setItem(TOKEN_KEY, given);
  token = given;
  $("token").value = "";
  start();
});

translateStatic();
token = takeToken();
if (token) start(); else showSetup(false);
setInterval(tick, 1000);
PORTRAIT.addEventListener("change", () => { if (board) render(board); });
setInterval(refresh, REFRESH_MS);

// A board that may not play before someone touches it says so before the first call.
if (typeof navigator.getAutoplayPolicy === "function"
    && navigator.getAutoplayPolicy("mediaelement") !== "allowed") {
  blocked = true;
  $("sound").hidden = false;
}
