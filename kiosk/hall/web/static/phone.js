// What the resident's two phone pages share: dates in Shanghai's time, and the line that
// says the connection is lost (the page keeps retrying by itself meanwhile).

import { t, clock, onLang } from "/static/hall.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The Shanghai calendar day of an ISO timestamp (UTC+8, no DST). */
export function shanghaiDay(iso) {
  const d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate() };
}

export function sameDay(a, b) {
  const x = shanghaiDay(a);
  const y = shanghaiDay(b);
  return x.y === y.y && x.m === y.m && x.d === y.d;
}

/** "12月7日" / "7 Dec". */
export function dayText(iso) {
  const { m, d } = shanghaiDay(iso);
  return t({ zh: `${m}月${d}日`, en: `${d} ${MONTHS[m - 1]}` });
}

/** "10:05" on the day of `nowIso`, else "12月6日 10:05" / "6 Dec 10:05". */
export function whenText(iso, nowIso) {
  if (!iso) return "";
  return nowIso && sameDay(iso, nowIso) ? clock(iso) : `${dayText(iso)} ${clock(iso)}`;
}

const LOST = {
  zh: "网络连接中断，正在自动重新连接…",
  en: "Connection lost. Reconnecting automatically…",
};

/**
 * The connection line: `down()` shows it, `up()` hides it; it follows the language. Its
 * `data-link` says the state ("up", "down", "note"; none before the first), for tests.
 * While the browser says it has no network, the line stays down: a reply that was already
 * on its way when the network went does not mean the page is live again.
 */
export function linkLine(el) {
  let isDown = false;
  let note = null;  // a bilingual message while the page is up but not live
  const show = () => {
    const message = isDown ? LOST : note;
    el.textContent = message ? t(message) : "";
    el.hidden = !message;
    el.dataset.link = isDown ? "down" : note ? "note" : "up";
  };
  const offline = () => navigator.onLine === false;
  onLang(() => { if (el.dataset.link) show(); });
  return {
    down() { isDown = true; show(); },
    up() { isDown = offline(); note = null; show(); },
    /** Up, but refreshed now and then rather than live: say so (the hall's message). */
    note(message) { isDown = offline(); note = message; show(); },
    get isDown() { return isDown; },
  };
}
