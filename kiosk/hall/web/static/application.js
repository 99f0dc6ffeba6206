// An 一件事 application's progress on the resident's phone (/a/<public id>): the bundle,
// the 办件编号, where it stands and its timeline. The public id in the address is the only
// credential. The page reads it again every minute and whenever it is shown again.

import { lang, t, setLang, onLang, translateStatic, call, clock } from "/static/hall.js";
import { whenText, linkLine } from "/static/phone.js";

const $ = (id) => document.getElementById(id);
const publicId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const REFRESH_MS = 60_000;
const RETRY_MS = 5_000;

const MEANING = {
  submitted: { zh: "已收到您的申请，等待工作人员受理。", en: "Your application has been received and is waiting to be processed." },
  accepted: { zh: "工作人员正在办理，请耐心等待。", en: "Staff are processing your application." },
  needs_more: { zh: "还需补充材料，请按以下说明补交。", en: "Something more is needed: please bring what the note below says." },
  done: { zh: "已办结，感谢您的耐心。", en: "Your application is complete. Thank you for your patience." },
};

let app = null;
let timer = null;
const link = linkLine($("link"));

function limitText(days) {
  if (days === 0) return { zh: "当场办结", en: "Done on the spot" };
  return { zh: `${days} 个工作日`, en: `${days} working day${days === 1 ? "" : "s"}` };
}

function render() {
  if (!app) return;
  $("main").setAttribute("aria-busy", "false");
  $("loading").hidden = true;
  $("problem").hidden = true;
  $("application").hidden = false;
  $("center").textContent = t(app.center_name);
  document.title = `${t(app.bundle_title)} · ${t({ zh: "办件进度", en: "Application" })}`;
  $("bundle").textContent = t(app.bundle_title);
  $("current").dataset.status = app.status;
  $("status").textContent = t(app.status_title);
  $("status-text").textContent = t(MEANING[app.status] ?? app.status_title);
  const last = app.timeline[app.timeline.length - 1];
  $("status-note").hidden = !(last && last.note);
  $("status-note").textContent = last && last.note ? last.note : "";
  $("reference").textContent = app.reference;
  $("submitted").textContent = whenText(app.submitted_at, null);
  $("limit").textContent = t(limitText(app.processing_days));
  $("timeline").replaceChildren(...app.timeline.map((entry, i) => {
    const li = document.createElement("li");
    if (i === app.timeline.length - 1) li.className = "now";
    const title = document.createElement("p");
    title.className = "step";
    title.textContent = t(entry.status_title);
    const when = document.createElement("p");
    when.className = "when";
    when.textContent = whenText(entry.at, null);
    li.append(title, when);
    // The current step's note is shown large above; the earlier ones are kept here.
    if (entry.note && i !== app.timeline.length - 1) {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = entry.note;
      li.append(note);
    }
    return li;
  }));
  $("updated").textContent = t({ zh: `更新于 ${clock(app.at)}`, en: `Updated at ${clock(app.at)}` });
}

async function load() {
  clearTimeout(timer);
  try {
    app = await call("GET", `/v1/public/applications/${encodeURIComponent(publicId)}`);
    link.up();
    render();
    timer = setTimeout(load, REFRESH_MS);
  } catch (err) {
    if (err.status === 404 || err.status === 422) {
      $("main").setAttribute("aria-busy", "false");
      $("loading").hidden = true;
      $("application").hidden = true;
      $("problem").textContent = t(err.bilingual ?? err.message);
      $("problem").hidden = false;
      return;
    }
    link.down();  // offline or the hall is away: say so, and keep trying
    timer = setTimeout(load, RETRY_MS);
  }
}

translateStatic();
$("lang").addEventListener("click", () => setLang(lang === "zh" ? "en" : "zh"));
onLang(() => { translateStatic(); render(); });
window.addEventListener("online", load);
window.addEventListener("offline", () => link.down());
document.addEventListener("visibilitychange", () => { if (!document.hidden) load(); });
load();
