// socialdesk console: live updates (server-sent events), SLA countdowns, composer helpers and
// keyboard shortcuts. Our own code, no framework; the server renders every piece of HTML
// (escaped), this script only swaps those fragments in.
(function () {
  "use strict";

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const WARN_FRACTION = 0.75;

  // ---- SLA countdowns -------------------------------------------------------------------
  function fmt(seconds) {
    const s = Math.abs(Math.round(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const body = h > 0 ? `${h}h ${String(m).padStart(2, "0")}m` : `${m}m ${String(r).padStart(2, "0")}s`;
    return seconds < 0 ? `${body} late` : body;
  }
  function tickCountdowns() {
    const now = Date.now();
    $$(".countdown[data-due]").forEach((el) => {
      const due = Date.parse(el.dataset.due), start = Date.parse(el.dataset.start);
      if (Number.isNaN(due)) return;
      const left = (due - now) / 1000;
      let state = "ok";
      if (left <= 0) state = "breach";
      else if (!Number.isNaN(start) && due > start && (now - start) >= WARN_FRACTION * (due - start)) state = "warn";
      el.textContent = fmt(left);
      el.classList.remove("sla-ok", "sla-warn", "sla-breach", "sla-none");
      el.classList.add("sla-" + state);
      const item = el.closest(".item");
      if (item) {
        item.classList.remove("sla-ok", "sla-warn", "sla-breach", "sla-none");
        item.classList.add("sla-" + state);
      }
    });
  }

  function sizeBars(root) {
    $$(".bar[data-width]", root).forEach((el) => { el.style.width = Math.max(2, +el.dataset.width || 0) + "%"; });
  }

  // ---- live fragments -------------------------------------------------------------------
  let refreshTimer = null;
  let refreshing = false;
  async function refreshFragments() {
    if (refreshing) { scheduleRefresh(); return; }
    refreshing = true;
    try {
      for (const box of $$("[data-live-src]")) {
        const before = new Set($$(".item[data-id]", box).map((el) => el.dataset.id));
        const selected = $(".item.selected", box);
        const selectedId = selected ? selected.dataset.id : null;
        const response = await fetch(box.dataset.liveSrc, { credentials: "same-origin", headers: { "Accept": "text/html" } });
        if (!response.ok) continue;
        box.innerHTML = await response.text();
        $$(".item[data-id]", box).forEach((el) => {
          if (before.size && !before.has(el.dataset.id)) el.classList.add("fresh");
          if (el.dataset.id === selectedId) el.classList.add("selected");
        });
        sizeBars(box);
      }
      await refreshAlertCount();
      const bell = $("#bell-count");
      if (bell) {
        const response = await fetch("/console/notifications/count", { credentials: "same-origin", headers: { "Accept": "application/json" } });
        if (response.ok) { const n = (await response.json()).unread; bell.textContent = n ? String(n) : ""; }
      }
      tickCountdowns();
      document.body.dataset.refreshed = String(Date.now());
    } finally {
      refreshing = false;
    }
  }
  // The supervisors' bell: unacknowledged alerts and SLA warnings and breaches.
  async function refreshAlertCount() {
    const count = $("#alert-count");
    if (!count) return;
    const response = await fetch("/console/alerts/count", { credentials: "same-origin", headers: { "Accept": "application/json" } });
    if (!response.ok) return;
    const n = (await response.json()).unacknowledged;
    count.textContent = n ? String(n) : "";
    const bell = $("#alert-bell");
    if (bell) {
      bell.classList.toggle("ringing", n > 0);
      bell.setAttribute("aria-label", n ? `${n} alerts and SLA warnings to acknowledge` : "Alerts and SLA warnings");
    }
  }
  // A fragment whose state changes elsewhere without touching the live fingerprint (our
  // answers leaving through the outbox) asks to be fetched again every few seconds.
  function pollFragments() {
    const boxes = $$("[data-live-poll]");
    if (!boxes.length) return;
    const every = Math.max(1000, Math.min(...boxes.map((b) => +b.dataset.livePoll || 5000)));
    setInterval(() => { if (!document.hidden) scheduleRefresh(); }, every);
  }
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshFragments, 250);
  }
  function connectLive() {
    if (!document.body.dataset.csrf || !window.EventSource) return;
    const status = $("#live-status");
    const source = new EventSource("/console/events");
    let connected = false;
    source.addEventListener("hello", () => {
      if (status) status.classList.add("on");
      document.body.dataset.live = "on";
      // A stream ends every half minute and the browser reconnects: catch up on what
      // changed in between.
      if (connected) scheduleRefresh();
      connected = true;
    });
    source.addEventListener("changed", scheduleRefresh);
    source.onerror = () => { if (status) status.classList.remove("on"); };
  }

  // ---- composer -------------------------------------------------------------------------
  function insertAtCursor(area, text) {
    const start = area.selectionStart ?? area.value.length, end = area.selectionEnd ?? area.value.length;
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.selectionStart = area.selectionEnd = start + text.length;
    area.dispatchEvent(new Event("input"));
    area.focus();
  }
  function setupComposer() {
    const area = $("#reply-text"), counter = $("#reply-counter");
    if (!area || !counter) return;
    const visibility = $("#reply-visibility");
    const limitNow = () => +(visibility && visibility.value === "private" ? counter.dataset.limitPrivate : counter.dataset.limitPublic) || +counter.dataset.limit;
    const xWeighted = (text) => {
      // X counts a link as 23 characters and wide characters (CJK, emoji) as 2.
      const noUrls = text.replace(/https?:\/\/\S+/gi, "");
      const urls = (text.match(/https?:\/\/\S+/gi) || []).length;
      let n = urls * 23;
      for (const ch of noUrls) { const c = ch.codePointAt(0); n += (c <= 4351 || (c >= 8192 && c <= 8205) || (c >= 8208 && c <= 8223) || (c >= 8242 && c <= 8247)) ? 1 : 2; }
      return n;
    };
    const update = () => {
      const limit = limitNow();
      const isX = counter.dataset.channel === "x" && (!visibility || visibility.value === "public");
      const n = isX ? xWeighted(area.value) : Array.from(area.value).length;
      counter.textContent = `${n} / ${limit}`;
      counter.classList.toggle("over", n > limit);
      const send = $("#send-reply");
      if (send && !send.hasAttribute("title")) send.disabled = n === 0 || n > limit;
    };
    area.addEventListener("input", update);
    if (visibility) visibility.addEventListener("change", update);
    update();
    const canned = $("#canned");
    if (canned) {
      canned.addEventListener("change", async () => {
        if (!canned.value) return;
        const url = `/console/c/${canned.dataset.conversation}/canned/${encodeURIComponent(canned.value)}`;
        const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
        if (response.ok) insertAtCursor(area, (await response.json()).text);
        canned.value = "";
      });
    }
    $$("[data-kb-id]").forEach((chip) => {
      chip.addEventListener("click", () => {
        $("#kb-article-id").value = chip.dataset.kbId;
        $$("[data-kb-id]").forEach((c) => c.classList.toggle("on", c === chip));
        insertAtCursor(area, (area.value && !area.value.endsWith(" ") ? " " : "") + chip.dataset.kbUrl);
      });
    });
  }

  // ---- channel shift: only the chosen target's fields ----------------------------------
  function setupShift() {
    const action = $("#shift-action");
    if (!action) return;
    const show = () => {
      $$("[data-shift-for]", action.form).forEach((label) => {
        const on = label.dataset.shiftFor.split(" ").includes(action.value);
        label.hidden = !on;
        // A hidden field is disabled too, so it is neither required nor sent.
        $$("input, select, textarea", label).forEach((field) => { field.disabled = !on; });
      });
    };
    action.addEventListener("change", show);
    show();
  }

  // ---- keyboard -------------------------------------------------------------------------
  function toggleHelp(show) {
    const help = $("#help");
    if (!help) return;
    help.hidden = show === undefined ? !help.hidden : !show;
  }
  function moveSelection(step) {
    const items = $$(".item[data-id]");
    if (!items.length) return;
    let i = items.findIndex((el) => el.classList.contains("selected"));
    items.forEach((el) => el.classList.remove("selected"));
    i = i < 0 ? 0 : Math.min(items.length - 1, Math.max(0, i + step));
    items[i].classList.add("selected");
    items[i].scrollIntoView({ block: "nearest" });
  }
  function click(sel) { const el = $(sel); if (el) el.click(); }
  let pendingG = false;
  function onKey(event) {
    const target = event.target;
    const typing = target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT" || target.isContentEditable);
    if (typing) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.form) { event.preventDefault(); target.form.requestSubmit(); }
      if (event.key === "Escape") target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "i") { location.href = "/console"; return; }
      if (key === "d") { location.href = "/dashboard"; return; }
    }
    const conversation = $("[data-conversation]");
    switch (key) {
      case "?": toggleHelp(); break;
      case "Escape": toggleHelp(false); break;
      case "g": pendingG = true; setTimeout(() => { pendingG = false; }, 1000); break;
      case "j": moveSelection(1); break;
      case "k": moveSelection(-1); break;
      case "o": case "Enter": { const sel = $(".item.selected a"); if (sel) location.href = sel.href; break; }
      case "n": location.href = "/console/next" + (conversation ? "?after=" + encodeURIComponent(conversation.dataset.conversation) : ""); break;
      case "r": { const a = $("#reply-text"); if (a) { event.preventDefault(); a.focus(); } break; }
      case "i": { const a = $("#note-text"); if (a) { event.preventDefault(); a.focus(); } break; }
      case "a": click("#assign-me"); break;
      case "e": click("#resolve"); break;
      default: return;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $$("select[data-autosubmit]").forEach((sel) => sel.addEventListener("change", () => sel.form.requestSubmit()));
    $$("[data-help]").forEach((b) => b.addEventListener("click", () => toggleHelp()));
    $$("[data-help-close]").forEach((b) => b.addEventListener("click", () => toggleHelp(false)));
    $$("[data-back]").forEach((a) => a.addEventListener("click", (e) => { if (history.length > 1) { e.preventDefault(); history.back(); } }));
    document.addEventListener("keydown", onKey);
    sizeBars(document);
    setupComposer();
    setupShift();
    tickCountdowns();
    setInterval(tickCountdowns, 1000);
    refreshAlertCount();
    pollFragments();
    connectLive();
  });
})();
