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
      // Not colour alone: the state is said in words too.
      el.textContent = fmt(left) + (state === "warn" ? " · at risk" : "");
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

  // ---- announcements and settings -----------------------------------------------------
  function announce(text) {
    const region = $("#status");
    if (!region || !text) return;
    region.textContent = "";
    setTimeout(() => { region.textContent = text; }, 60);
  }
  const store = {
    get(key, fallback) { try { const v = localStorage.getItem("sd." + key); return v === null ? fallback : v; } catch (e) { return fallback; } },
    set(key, value) { try { localStorage.setItem("sd." + key, value); } catch (e) { /* private mode: the setting lasts for this page */ } },
  };
  const keysEnabled = () => store.get("keys", "on") === "on";
  let paused = store.get("paused", "off") === "on";
  let pending = false;
  let connected = false;

  function showLiveState() {
    const text = $("#live-text"), status = $("#live-status"), button = $("#live-pause");
    const state = paused ? "paused" : connected ? "live" : "offline";
    if (text) text.textContent = state;
    if (status) status.classList.toggle("on", state === "live");
    if (button) {
      button.setAttribute("aria-pressed", String(paused));
      button.textContent = paused ? "Resume updates" : "Pause updates";
    }
  }

  // ---- live fragments: updated in place --------------------------------------------------
  // Nodes are matched by key (an item's data-id, a message's data-message-id, an id), so the
  // element that has focus, an open <details> or a half-typed form survive a refresh.
  function nodeKey(n) {
    if (n.nodeType !== 1) return null;
    return n.getAttribute("data-id") || n.getAttribute("data-message-id") || n.id || null;
  }
  function morphNode(old, neu) {
    if (old.nodeType !== 1) { if (old.nodeValue !== neu.nodeValue) old.nodeValue = neu.nodeValue; return; }
    if (old.isEqualNode(neu)) return;
    for (const { name } of Array.from(old.attributes)) {
      if (!neu.hasAttribute(name) && name !== "open") old.removeAttribute(name);
    }
    for (const { name, value } of Array.from(neu.attributes)) {
      if (old.getAttribute(name) !== value) old.setAttribute(name, value);
    }
    morphChildren(old, neu);
  }
  function morphChildren(oldParent, newParent) {
    const keyed = new Map();
    Array.from(oldParent.childNodes).forEach((n) => { const k = nodeKey(n); if (k) keyed.set(k, n); });
    let cursor = oldParent.firstChild;
    for (const n of Array.from(newParent.childNodes)) {
      const k = nodeKey(n);
      let match = null;
      if (k && keyed.has(k)) match = keyed.get(k);
      else if (!k && cursor && !nodeKey(cursor) && cursor.nodeName === n.nodeName) match = cursor;
      if (match) {
        if (match === cursor) cursor = cursor.nextSibling;
        else oldParent.insertBefore(match, cursor);
        if (k) keyed.delete(k);
        morphNode(match, n);
      } else {
        oldParent.insertBefore(n, cursor);
      }
    }
    while (cursor) { const next = cursor.nextSibling; oldParent.removeChild(cursor); cursor = next; }
  }
  function focusInForm() {
    const active = document.activeElement;
    return Boolean(active && active !== document.body && active.closest("form"));
  }

  let refreshTimer = null;
  let refreshing = false;
  async function refreshFragments() {
    if (paused || focusInForm()) { pending = true; return; }  // held: never pull a form away
    if (refreshing) { scheduleRefresh(); return; }
    refreshing = true;
    pending = false;
    try {
      for (const box of $$("[data-live-src]")) {
        const before = new Set($$(".item[data-id]", box).map((el) => el.dataset.id));
        const selected = $(".item.selected", box);
        const selectedId = selected ? selected.dataset.id : null;
        const countBefore = $("#inbox-count", box) ? $("#inbox-count", box).textContent : null;
        const response = await fetch(box.dataset.liveSrc, { credentials: "same-origin", headers: { "Accept": "text/html" } });
        if (!response.ok) continue;
        const fresh = document.createElement("div");
        fresh.innerHTML = await response.text();
        if (paused || focusInForm()) { pending = true; continue; }
        morphChildren(box, fresh);
        let arrived = 0;
        $$(".item[data-id]", box).forEach((el) => {
          if (before.size && !before.has(el.dataset.id)) { el.classList.add("fresh"); arrived += 1; }
          if (el.dataset.id === selectedId) markSelected(el);
        });
        sizeBars(box);
        const countAfter = $("#inbox-count", box) ? $("#inbox-count", box).textContent : null;
        if (arrived) announce(`${arrived} new item${arrived === 1 ? "" : "s"}; ${countAfter} open`);
        else if (countBefore !== null && countAfter !== countBefore) announce(`${countAfter} open items`);
      }
      await refreshAlertCount();
      const bell = $("#bell-count");
      if (bell) {
        const response = await fetch("/console/notifications/count", { credentials: "same-origin", headers: { "Accept": "application/json" } });
        if (response.ok) {
          const n = (await response.json()).unread;
          const text = n ? String(n) : "";
          if (text !== bell.textContent) {
            bell.textContent = text;
            bell.parentElement.setAttribute("aria-label", n ? `Mentions: ${n} unread` : "Mentions");
            if (n) announce(`${n} unread mention${n === 1 ? "" : "s"}`);
          }
        }
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
    const source = new EventSource("/console/events");
    source.addEventListener("hello", () => {
      connected = true;
      showLiveState();
      document.body.dataset.live = "on";
      // Catch up on what changed while no stream listened: between the page's render and
      // the first connection (a reply's delivery can fail in that gap), and between the
      // reconnects every half minute.
      scheduleRefresh();
    });
    source.addEventListener("changed", scheduleRefresh);
    source.onerror = () => { connected = false; showLiveState(); };
  }
  function setupLiveControls() {
    const button = $("#live-pause");
    if (button) {
      button.addEventListener("click", () => {
        paused = !paused;
        store.set("paused", paused ? "on" : "off");
        showLiveState();
        announce(paused ? "Live updates paused" : "Live updates resumed");
        if (!paused && pending) scheduleRefresh();
      });
    }
    // Updates held while a form had focus arrive once focus leaves it.
    document.addEventListener("focusout", () => {
      setTimeout(() => { if (pending && !paused && !focusInForm()) scheduleRefresh(); }, 0);
    });
    showLiveState();
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
    // Choosing in the menu does nothing by itself (arrowing through it must not insert):
    // the Insert button does.
    const canned = $("#canned"), insert = $("#canned-insert");
    if (canned && insert) {
      insert.addEventListener("click", async () => {
        if (!canned.value) { announce("Choose a canned reply first"); canned.focus(); return; }
        const url = `/console/c/${canned.dataset.conversation}/canned/${encodeURIComponent(canned.value)}`;
        const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
        if (response.ok) { insertAtCursor(area, (await response.json()).text); announce("Canned reply inserted"); }
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
  let helpOpener = null;
  function focusables(root) {
    return $$("a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])", root)
      .filter((el) => el.offsetParent !== null);
  }
  function toggleHelp(show) {
    const help = $("#help");
    if (!help) return;
    const open = show === undefined ? help.hidden : show;
    if (open && help.hidden) {
      helpOpener = document.activeElement;
      help.hidden = false;
      const first = $("h2", help);
      first.setAttribute("tabindex", "-1");
      first.focus();
    } else if (!open && !help.hidden) {
      help.hidden = true;
      if (helpOpener && document.contains(helpOpener)) helpOpener.focus();
      helpOpener = null;
    }
  }
  function trapHelp(event) {
    const help = $("#help");
    if (!help || help.hidden || event.key !== "Tab") return false;
    const items = focusables(help);
    if (!items.length) return false;
    const first = items[0], last = items[items.length - 1];
    const inside = help.contains(document.activeElement);
    if (event.shiftKey && (document.activeElement === first || !inside)) { event.preventDefault(); last.focus(); return true; }
    if (!event.shiftKey && (document.activeElement === last || !inside)) { event.preventDefault(); first.focus(); return true; }
    return false;
  }
  function markSelected(item) {
    $$(".item.selected").forEach((el) => {
      el.classList.remove("selected");
      const link = $("a", el);
      if (link) link.removeAttribute("aria-current");
    });
    item.classList.add("selected");
    const link = $("a", item);
    if (link) link.setAttribute("aria-current", "true");
    return link;
  }
  function moveSelection(step) {
    const items = $$(".item[data-id]");
    if (!items.length) return;
    let i = items.findIndex((el) => el.classList.contains("selected"));
    i = i < 0 ? 0 : Math.min(items.length - 1, Math.max(0, i + step));
    const link = markSelected(items[i]);
    if (link) link.focus();  // focus moves with the highlight
    items[i].scrollIntoView({ block: "nearest" });
  }
  function click(sel) { const el = $(sel); if (el) el.click(); }
  function resolveCase(conversation) {
    const button = $("#resolve");
    if (!button || !conversation) return;
    const mine = conversation.dataset.assignee && conversation.dataset.assignee === document.body.dataset.user;
    // A shortcut that acts on someone else's (or nobody's) case asks first.
    if (!mine && !window.confirm(`Resolve case ${conversation.dataset.conversation}? It is not assigned to you.`)) return;
    button.click();
  }
  let pendingG = false;
  function onKey(event) {
    if (trapHelp(event)) return;
    const help = $("#help");
    if (event.key === "Escape" && help && !help.hidden) { event.preventDefault(); toggleHelp(false); return; }
    const target = event.target;
    const typing = target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT" || target.isContentEditable);
    if (typing) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.form) { event.preventDefault(); target.form.requestSubmit(); }
      if (event.key === "Escape") target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === "Escape") { toggleHelp(false); return; }
    if (!keysEnabled()) return;  // single-key shortcuts can be turned off (WCAG 2.1.4)
    if (pendingG) {
      pendingG = false;
      if (key === "i") { location.href = "/console"; return; }
      if (key === "d") { location.href = "/dashboard"; return; }
    }
    const conversation = $("[data-conversation]");
    switch (key) {
      case "?": toggleHelp(); break;
      case "g": pendingG = true; setTimeout(() => { pendingG = false; }, 1000); break;
      case "j": event.preventDefault(); moveSelection(1); break;
      case "k": event.preventDefault(); moveSelection(-1); break;
      case "o": case "Enter": {
        if (target && target.tagName === "A" && !target.closest(".item")) return;  // a link's own Enter
        const sel = $(".item.selected a"); if (sel) { event.preventDefault(); location.href = sel.href; }
        break;
      }
      case "n": location.href = "/console/next" + (conversation ? "?after=" + encodeURIComponent(conversation.dataset.conversation) : ""); break;
      case "r": { const a = $("#reply-text"); if (a) { event.preventDefault(); a.focus(); } break; }
      case "i": { const a = $("#note-text"); if (a) { event.preventDefault(); a.focus(); } break; }
      case "a": click("#assign-me"); break;
      case "e": resolveCase(conversation); break;
      default: return;
    }
  }
  function setupSettings() {
    const box = $("#keys-enabled");
    if (!box) return;
    box.checked = keysEnabled();
    box.addEventListener("change", () => {
      store.set("keys", box.checked ? "on" : "off");
      announce(box.checked ? "Single-key shortcuts on" : "Single-key shortcuts off");
    });
  }
  function announceDone() {
    const message = document.body.dataset.done;
    if (!message) return;
    announce(message);
    const url = new URL(location.href);
    url.searchParams.delete("done");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $$("[data-help]").forEach((b) => b.addEventListener("click", () => toggleHelp()));
    $$("[data-help-close]").forEach((b) => b.addEventListener("click", () => toggleHelp(false)));
    $$("[data-back]").forEach((a) => a.addEventListener("click", (e) => { if (history.length > 1) { e.preventDefault(); history.back(); } }));
    document.addEventListener("keydown", onKey);
    sizeBars(document);
    setupComposer();
    setupShift();
    setupSettings();
    setupLiveControls();
    announceDone();
    tickCountdowns();
    setInterval(tickCountdowns, 1000);
    refreshAlertCount();
    pollFragments();
    connectLive();
  });
})();
