// The resident's ticket on their phone (/t/<ticket id>): the number, how many are ahead,
// the estimated wait, live; the counter when it is called; the 好差评 once finished. The
// ticket id in the address is the only credential. Times shown are the hall's (`at`).

import { lang, t, setLang, onLang, translateStatic, call, listen, clock, newKey } from "/static/hall.js";
import { sameDay, dayText, whenText, linkLine } from "/static/phone.js";

const $ = (id) => document.getElementById(id);
const ticketId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const FINAL = new Set(["finished", "withdrawn", "transferred"]);
const SECTIONS = ["called", "ticket", "waiting", "missed", "moved", "gone", "done"];

let view = null;
let stream = null;
let shownState = null;
const link = linkLine($("link"));

// The rating form's state. Once sent, the choice is frozen: a retry after a lost answer
// sends the same rating under the same key, so the hall stores it once.
const rating = {
  choices: null, loading: false, level: null, reasons: new Set(), key: null, sending: false, done: false,
};

function show(...ids) {
  for (const id of SECTIONS) $(id).hidden = !ids.includes(id);
}

function aheadText(n) {
  if (n === 0) return { zh: "下一位就是您", en: "You are next" };
  return { zh: `前面还有 ${n} 人`, en: `${n} ${n === 1 ? "person" : "people"} ahead of you` };
}

function waitText(minutes) {
  if (minutes == null || minutes <= 0) return { zh: "请留意叫号", en: "Please watch for your call" };
  return { zh: `预计等候约 ${minutes} 分钟`, en: `Estimated wait: about ${minutes} min` };
}

function render() {
  if (!view) return;
  $("main").setAttribute("aria-busy", "false");
  $("loading").hidden = true;
  $("problem").hidden = true;
  $("center").textContent = t(view.center_name);
  document.title = `${view.number} · ${t({ zh: "排队进度", en: "Queue" })}`;
  $("number").textContent = view.number;
  $("category").textContent = t(view.category_title);
  $("holder").hidden = !view.masked_surname;
  $("holder").textContent = view.masked_surname
    ? t({ zh: `取号人：${view.masked_surname}`, en: `Holder: ${view.masked_surname}` }) : "";
  document.body.classList.toggle("is-called", view.state === "called");
  document.body.classList.toggle("is-finished", view.state === "finished");

  // A number of an earlier day that was never served waits for nothing any more.
  const stale = (view.state === "waiting" || view.state === "called") && !sameDay(view.issued_at, view.at);
  if (stale) {
    show("ticket", "gone");
    $("gone-title").textContent = t({ zh: "此号已过期", en: "This number has expired" });
    $("gone-text").textContent = t({
      zh: `这是 ${dayText(view.issued_at)} 的号码，如需办理请重新取号。`,
      en: `This number was for ${dayText(view.issued_at)}. To be served, please take a new number.`,
    });
  } else if (view.state === "waiting") {
    show("ticket", "waiting");
    $("ahead").textContent = t(aheadText(view.ahead ?? 0));
    $("wait").textContent = t(waitText(view.estimated_wait_min));
  } else if (view.state === "called") {
    show("called");
    $("called-where").textContent = t({
      zh: `请到 ${view.counter} 号窗口`, en: `Please go to Counter ${view.counter}` });
    $("called-number").textContent = view.number;
    $("called-what").textContent = [t(view.category_title), view.masked_surname].filter(Boolean).join(" · ");
    $("called-since").textContent = t({
      zh: `叫号时间 ${clock(view.called_at)}`, en: `Called at ${clock(view.called_at)}` });
  } else if (view.state === "no_show") {
    show("ticket", "missed");
    const until = view.return_until;
    const inTime = until && new Date(until) > new Date(view.at);
    $("missed-text").textContent = t(inTime ? {
      zh: `请在 ${whenText(until, view.at)} 前到任一窗口出示本号码，可按原顺序重新排队。`,
      en: `Show this number at any counter before ${whenText(until, view.at)} to rejoin the queue in your place.`,
    } : {
      zh: "已超过重新排队的时限，如需办理请到取号机重新取号。",
      en: "The time to rejoin the queue has passed. To be served, please take a new number.",
    });
  } else if (view.state === "transferred") {
    show("ticket", "moved");
    const next = `/t/${encodeURIComponent(view.now_ticket_id)}?lang=${lang}`;
    $("moved-link").href = next;
    location.replace(next);  // the resident's ticket is the new one now
  } else if (view.state === "withdrawn") {
    show("ticket", "gone");
    $("gone-title").textContent = t({ zh: "此号已取消", en: "This number was cancelled" });
    $("gone-text").textContent = t({
      zh: "如仍需办理，请到取号机重新取号。", en: "If you still need the service, please take a new number at a kiosk." });
  } else if (view.state === "finished") {
    show("ticket", "done");
    $("done-text").textContent = t(view.counter
      ? { zh: `${view.counter} 号窗口已为您办结。`, en: `Served at Counter ${view.counter}.` }
      : { zh: "您的业务已办结。", en: "Your service is complete." });
    renderRating();
  }
  $("updated").textContent = t({ zh: `更新于 ${clock(view.at)}`, en: `Updated at ${clock(view.at)}` });

  if (view.state === "called" && shownState !== null && shownState !== "called" && navigator.vibrate) {
    navigator.vibrate([400, 200, 400, 200, 400]);
  }
  shownState = view.state;
}

function renderRating() {
  const given = rating.done || view.rating.given;
  $("thanks").hidden = !given;
  $("rating").hidden = given || !view.rating.allowed;
  if (given || !view.rating.allowed) return;
  if (!rating.choices) {
    loadChoices();
    return;
  }
  const frozen = rating.key !== null;
  const levels = $("levels");
  levels.replaceChildren(...rating.choices.levels.map((choice) => {
    const b = document.createElement("button");
    b.type = "button";
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", String(choice.level === rating.level));
    b.dataset.level = String(choice.level);
    b.textContent = t(choice.title);
    b.disabled = frozen;
    b.addEventListener("click", () => chooseLevel(choice.level));
    return b;
  }));
  const chosen = rating.choices.levels.find((c) => c.level === rating.level);
  $("reasons-box").hidden = !chosen;
  const titles = new Map(rating.choices.reasons.map((r) => [r.id, r.title]));
  $("reasons").replaceChildren(...(chosen ? chosen.reasons : []).map((id) => {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.reason = id;
    b.setAttribute("aria-pressed", String(rating.reasons.has(id)));
    b.textContent = t(titles.get(id));
    b.disabled = frozen;
    b.addEventListener("click", () => {
      if (rating.reasons.has(id)) rating.reasons.delete(id); else rating.reasons.add(id);
      renderRating();
    });
    return b;
  }));
  $("submit").disabled = rating.level === null || rating.sending;
}

function chooseLevel(level) {
  const first = rating.level === null;
  rating.level = level;
  const suits = rating.choices.levels.find((c) => c.level === level).reasons;
  for (const id of [...rating.reasons]) if (!suits.includes(id)) rating.reasons.delete(id);
  renderRating();
  // The reasons and the button appear below the fold of a small phone: bring the whole
  // form up, under its heading.
  if (first) $("done").scrollIntoView({ block: "start" });
}

async function loadChoices() {
  if (rating.loading) return;
  rating.loading = true;
  try {
    rating.choices = await call("GET", "/v1/public/rating-choices");
    renderRating();
  } catch (err) {
    $("rating-problem").textContent = t(err.bilingual ?? err.message);
    $("rating-problem").hidden = false;
  } finally {
    rating.loading = false;
  }
}

async function submitRating(event) {
  event.preventDefault();
  if (rating.level === null || rating.sending || rating.done) return;
  rating.key = rating.key ?? newKey();
  rating.sending = true;
  $("rating-problem").hidden = true;
  renderRating();
  try {
    await call("POST", `/v1/public/tickets/${encodeURIComponent(ticketId)}/rating`, {
      key: rating.key, body: { level: rating.level, reasons: [...rating.reasons] } });
    rating.done = true;
  } catch (err) {
    if (err.code === "already_rated") {
      rating.done = true;
    } else {
      $("rating-problem").textContent = t(err.bilingual ?? err.message);
      $("rating-problem").hidden = false;
    }
  } finally {
    rating.sending = false;
  }
  render();
  if (rating.done) $("thanks").focus?.();
}

function update(next) {
  view = next;
  render();
  if (FINAL.has(view.state) && stream) {
    stream.close();
    stream = null;
    link.up();
  }
}

function refused(err) {
  $("main").setAttribute("aria-busy", "false");
  $("loading").hidden = true;
  show();
  $("problem").textContent = t(err.bilingual ?? err.message);
  $("problem").hidden = false;
}

function follow() {
  stream = listen(`/v1/public/tickets/${encodeURIComponent(ticketId)}/stream`, {
    onEvent(kind, data) {
      if (kind !== "ticket") return;
      link.up();
      update(data);
    },
    onOpen() { link.up(); },
    onDown() { link.down(); },
    // Followed live on enough pages already: this one reads the ticket each time the
    // stream is refused, until a place frees.
    async onBusy(message) {
      try {
        const next = await call("GET", `/v1/public/tickets/${encodeURIComponent(ticketId)}`);
        link.note(message);
        update(next);
      } catch (err) {
        if (err.status === 404) refused(err); else link.down();
      }
    },
    onRefused(err) { stream = null; if (err.status === 404) refused(err); else link.down(); },
  });
}

async function start() {
  translateStatic();
  $("lang").addEventListener("click", () => setLang(lang === "zh" ? "en" : "zh"));
  onLang(() => { translateStatic(); render(); });
  $("rating").addEventListener("submit", submitRating);
  window.addEventListener("offline", () => link.down());
  // Back online (or on another network): a stream held over the old one may be dead
  // without knowing it, so subscribe afresh; the hall sends the view at once.
  window.addEventListener("online", () => {
    if (stream) { stream.close(); stream = null; }
    if (!view || !FINAL.has(view.state)) follow();
  });
  try {
    update(await call("GET", `/v1/public/tickets/${encodeURIComponent(ticketId)}`));
  } catch (err) {
    if (err.status === 404 || err.status === 422) { refused(err); return; }
    link.down();  // the stream below keeps trying and brings the view when it can
  }
  if (!view || !FINAL.has(view.state)) follow();
}

start();
