// wootguard dashboard: plain JS over the admin API. The token lives in
// sessionStorage (this tab only) and travels in the Authorization header,
// never in a URL.
"use strict";
(function () {
  const $ = (s) => document.querySelector(s);
  const KEY = "wootguard-admin-token";
  const colors = ["#1f6feb", "#d97706", "#c62828", "#7c3aed", "#059669", "#db2777", "#0891b2", "#65a30d", "#9333ea", "#ea580c"];
  let timer = null, rulesLoaded = false;

  function token() { return sessionStorage.getItem(KEY) || ""; }

  async function api(method, path, body) {
    const opts = { method, headers: { Authorization: "Bearer " + token() } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const r = await fetch(path, opts);
    if (r.status === 401) { signOut("The token was refused."); throw new Error("unauthorized"); }
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || r.statusText);
    return data;
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function row(tbody, cells) {
    const tr = document.createElement("tr");
    for (const c of cells) tr.appendChild(c instanceof Node ? c : el("td", String(c)));
    tbody.appendChild(tr);
    return tr;
  }
  function ago(t) {
    if (!t) return "";
    const s = Math.round((Date.now() - new Date(t)) / 1000);
    return s < 60 ? s + " s ago" : s < 3600 ? Math.round(s / 60) + " min ago" : Math.round(s / 3600) + " h ago";
  }
  function left(s) { return s < 120 ? s + " s" : s < 7200 ? Math.round(s / 60) + " min" : Math.round(s / 3600) + " h"; }
  function td(text, cls) { return el("td", text, cls); }

  function signOut(msg) {
    sessionStorage.removeItem(KEY);
    clearInterval(timer); timer = null; rulesLoaded = false;
    $("#dashboard").hidden = true; $("#login-panel").hidden = false;
    $("#logout").hidden = true; $("#maintenance").hidden = true;
    $("#status").textContent = "not signed in"; $("#status").className = "pill";
    const e = $("#login-error"); e.hidden = !msg; e.textContent = msg || "";
  }

  function start() {
    $("#login-panel").hidden = true; $("#dashboard").hidden = false;
    $("#logout").hidden = false; $("#maintenance").hidden = false;
    refresh();
    timer = setInterval(refresh, 2000);
  }

  async function refresh() {
    try {
      const [act, bans, top, health, maint] = await Promise.all([
        api("GET", "/api/activity"), api("GET", "/api/bans"), api("GET", "/api/top?window=5m"),
        api("GET", "/api/health"), api("GET", "/api/maintenance")]);
      drawChart(act); showBans(bans.bans); showTop(top.rules); showHealth(health); showRecent(act.recent_refusals);
      const m = $("#maintenance");
      m.textContent = "Maintenance: " + (maint.maintenance ? "ON" : "off");
      m.classList.toggle("on", maint.maintenance);
      m.dataset.on = maint.maintenance ? "1" : "";
      if (!rulesLoaded) { showRules((await api("GET", "/api/rules")).rules); rulesLoaded = true; }
      $("#status").textContent = "live"; $("#status").className = "pill ok";
    } catch (e) {
      if (e.message !== "unauthorized") { $("#status").textContent = "error: " + e.message; $("#status").className = "pill bad"; }
    }
  }

  function showBans(bans) {
    const tb = $("#bans tbody"); tb.replaceChildren();
    $("#bans-empty").hidden = bans.length > 0;
    $("#bans-count").textContent = bans.length ? "(" + bans.length + ")" : "";
    for (const b of bans) {
      const btn = el("button", "Unban", "unban");
      btn.type = "button";
      btn.addEventListener("click", async () => {
        btn.disabled = true;
        try {
          await api("DELETE", "/api/bans?rule=" + encodeURIComponent(b.rule) + "&key=" + encodeURIComponent(b.key));
        } catch (e) { alert("Unban failed: " + e.message); }
        refresh();
      });
      const cell = el("td"); cell.appendChild(btn);
      const tr = row(tb, [td(b.rule), td(b.key, "key"), td(ago(b.since)), td(left(b.seconds_left), "num"), cell]);
      tr.dataset.rule = b.rule; tr.dataset.key = b.key;
    }
  }

  function showTop(rules) {
    const tb = $("#top tbody"); tb.replaceChildren();
    let n = 0;
    for (const r of rules) for (const k of r.keys) { row(tb, [td(r.rule), td(k.key, "key"), td(k.count, "num")]); n++; }
    $("#top-empty").hidden = n > 0;
  }

  function showHealth(h) {
    const dl = $("#health"); dl.replaceChildren();
    const add = (k, v) => { dl.appendChild(el("dt", k)); dl.appendChild(el("dd", v)); };
    if (h.store) {
      add("Store", h.store.kind + (h.store.healthy ? " — healthy" : " — FAILING"));
      add("Store keys", String(h.store.keys));
      if (h.store.fallbacks) add("Store fallbacks", String(h.store.fallbacks));
      if (h.store.detail) add("Store detail", h.store.detail);
    }
    const u = h.upstream || {};
    add("Chatwoot", u.requests ? (u.last_status ? "last answer " + u.last_status : "NOT ANSWERING") + " " + ago(u.last_at) : "no request forwarded yet");
    add("Upstream failures", (u.failures || 0) + " of " + (u.requests || 0) + (u.last_error_at ? ", last " + ago(u.last_error_at) : ""));
    add("Maintenance", h.maintenance ? "ON (every request gets 503)" : "off");
    add("Running since", new Date(h.started).toLocaleString());
    if (h.config) add("Config", h.config);
  }

  function showRecent(list) {
    const tb = $("#recent tbody"); tb.replaceChildren();
    $("#recent-empty").hidden = list.length > 0;
    for (const r of list.slice(0, 20)) {
      row(tb, [td(new Date(r.time).toLocaleTimeString()), td(r.client_ip, "key"), td(r.method + " " + r.path, "key"),
        td(r.decision, "d-" + r.decision), td(r.rule), td(r.status, "num")]);
    }
  }

  function showRules(rules) {
    const tb = $("#rules tbody"); tb.replaceChildren();
    for (const r of rules) row(tb, [td(r.type), td(r.name), td(r.match), td(r.key || "", "key"), td(r.limit || ""), td(r.mode), td(r.source)]);
  }

  // drawChart plots passed requests and each rule's refusals per step.
  function drawChart(act) {
    const c = $("#chart"), g = c.getContext("2d");
    const W = c.width = c.clientWidth * devicePixelRatio || 1200, H = c.height = 220 * devicePixelRatio;
    g.setTransform(1, 0, 0, 1, 0, 0); g.clearRect(0, 0, W, H);
    const steps = act.steps || [];
    const series = { passed: steps.map((s) => (s.decisions.pass || 0) + (s.decisions.safelist || 0) + (s.decisions["dry-run"] || 0)) };
    const ruleNames = new Set();
    for (const s of steps) for (const r in s.refusals) ruleNames.add(r);
    for (const r of [...ruleNames].sort()) series["refused: " + r] = steps.map((s) => s.refusals[r] || 0);
    let maxV = 1;
    for (const k in series) for (const v of series[k]) maxV = Math.max(maxV, v);
    const pad = 36 * devicePixelRatio, w = W - pad - 8, h = H - pad;
    g.strokeStyle = "#e3e6ec"; g.fillStyle = "#6b7280"; g.font = 11 * devicePixelRatio + "px system-ui";
    for (let i = 0; i <= 4; i++) {
      const y = 8 + h - (h - 8) * i / 4;
      g.beginPath(); g.moveTo(pad, y); g.lineTo(W - 8, y); g.stroke();
      g.fillText(String(Math.round(maxV * i / 4)), 4, y + 4);
    }
    g.fillText("-15 min", pad, H - 8); g.fillText("now", W - 30 * devicePixelRatio, H - 8);
    const legend = $("#legend"); legend.replaceChildren();
    Object.keys(series).forEach((name, i) => {
      const col = colors[i % colors.length], vals = series[name];
      g.strokeStyle = col; g.lineWidth = 2 * devicePixelRatio; g.beginPath();
      vals.forEach((v, j) => {
        const x = pad + w * j / Math.max(vals.length - 1, 1), y = 8 + (h - 8) * (1 - v / maxV);
        j ? g.lineTo(x, y) : g.moveTo(x, y);
      });
      g.stroke(); g.lineWidth = 1;
      const item = el("span"); const sw = el("i"); sw.style.background = col;
      item.appendChild(sw); item.appendChild(document.createTextNode(name + " (" + vals.reduce((a, b) => a + b, 0) + ")"));
      legend.appendChild(item);
    });
  }

  $("#login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, $("#token").value.trim());
    $("#token").value = "";
    try { await api("GET", "/api/health"); $("#login-error").hidden = true; start(); } catch (e) { if (e.message !== "unauthorized") signOut(e.message); }
  });
  $("#logout").addEventListener("click", () => signOut(""));
  $("#maintenance").addEventListener("click", async () => {
    const on = !$("#maintenance").dataset.on;
    if (on && !confirm("Turn maintenance mode on? Every request will get a 503 page until you turn it off.")) return;
    try { await api("POST", "/api/maintenance", { on }); } catch (e) { alert(e.message); }
    refresh();
  });
  if (token()) start();
})();
