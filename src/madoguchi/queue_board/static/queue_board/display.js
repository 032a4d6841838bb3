// The waiting-room display: polls board.json, redraws, highlights a newly called number with
// a chime (Web Audio, no file to fetch) and, when switched on, a Japanese voice announcement
// (speechSynthesis; off by default). Keeps trying after an error, so the screen recovers by
// itself when the server comes back. Without JavaScript the page has a link to reload.
(function () {
  "use strict";
  var root = document.querySelector("[data-json-url]");
  if (!root) return;
  var url = root.getAttribute("data-json-url");
  var every = (parseInt(root.getAttribute("data-poll-seconds"), 10) || 3) * 1000;
  var retry = every;
  var seen = {};
  var audio = null;
  var prefs = { sound: read("sound", true), voice: read("voice", false) };

  function read(name, fallback) {
    try {
      var value = window.localStorage.getItem("madoguchi.display." + name);
      return value === null ? fallback : value === "1";
    } catch (e) { return fallback; }
  }
  function write(name, on) {
    try { window.localStorage.setItem("madoguchi.display." + name, on ? "1" : "0"); } catch (e) { /* private mode */ }
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function en(text) { var span = el("span", "", text); span.lang = "en"; return span; }

  function chime() {
    if (!prefs.sound) return;
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume();
    [[880, 0], [660, 0.45]].forEach(function (tone) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      var start = audio.currentTime + tone[1];
      osc.type = "sine";
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.4, start + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.9);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + 1);
    });
  }
  function speak(row) {
    if (!prefs.voice || !("speechSynthesis" in window)) return;
    var words = "受付番号、" + row.number.split("").join(" ") + "番の方、" + row.counter + "へお越しください。";
    var utterance = new window.SpeechSynthesisUtterance(words);
    utterance.lang = "ja-JP";
    window.speechSynthesis.speak(utterance);
  }

  function render(data) {
    root.querySelector('[data-field="updated_hm"]').textContent = data.updated_hm;
    var body = root.querySelector("[data-calling]");
    var fresh = [];
    var rows = data.calling.map(function (row) {
      var key = row.number + "|" + row.counter + "|" + row.called_at;
      var tr = el("tr", row.status);
      tr.setAttribute("data-key", key);
      tr.appendChild(el("td", "number", row.number));
      var counter = el("td", "counter", row.counter);
      if (row.status === "called") {
        var go = el("span", "go", "へお越しください ");
        go.appendChild(en("please come"));
        counter.appendChild(go);
        if (!seen[key]) { fresh.push(row); tr.classList.add("fresh"); }
      }
      seen[key] = true;
      tr.appendChild(counter);
      return tr;
    });
    body.replaceChildren.apply(body, rows);
    root.querySelector("[data-calling-empty]").hidden = rows.length > 0;
    var next = root.querySelector("[data-next]");
    next.replaceChildren.apply(next, data.next.map(function (n) { return el("li", "", n); }));
    root.querySelector("[data-appointments]").hidden = !data.appointments_first;
    root.querySelector('[data-field="waiting"]').textContent = data.waiting;
    var estimate = root.querySelector("[data-estimate]");
    var parts = data.opens_hm
      ? ["受付開始 " + data.opens_hm + " から約 ", String(data.wait_after_opening_minutes), " 分 ", "min after opening"]
      : ["約 ", String(data.estimated_wait_minutes), " 分 ", "min"];
    estimate.replaceChildren(document.createTextNode(parts[0]), el("span", "big", parts[1]), document.createTextNode(parts[2]), en(parts[3]));
    if (fresh.length) {
      root.querySelector("[data-announce]").textContent = fresh.map(function (row) {
        return row.number + "番 " + row.counter;
      }).join("、");
      chime();
      fresh.forEach(speak);
    }
  }

  function poll() {
    fetch(url, { cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        root.querySelector("[data-offline]").hidden = true;
        retry = every;
        render(data);
        window.setTimeout(poll, every);
      })
      .catch(function () {
        root.querySelector("[data-offline]").hidden = false;
        retry = Math.min(retry * 2, 30000);
        window.setTimeout(poll, retry);
      });
  }

  function toggle(name, button) {
    button.hidden = false;
    button.setAttribute("aria-pressed", String(prefs[name]));
    button.addEventListener("click", function () {
      prefs[name] = !prefs[name];
      write(name, prefs[name]);
      button.setAttribute("aria-pressed", String(prefs[name]));
      if (name === "sound" && prefs.sound) chime();  // a click also unlocks audio playback
    });
  }
  toggle("sound", root.querySelector("[data-sound]"));
  toggle("voice", root.querySelector("[data-voice]"));

  // What the server drew is already on screen: do not chime for it.
  Array.prototype.forEach.call(root.querySelectorAll("[data-calling] tr[data-key]"), function (tr) {
    seen[tr.getAttribute("data-key")] = true;
  });
  window.setTimeout(poll, every);
})();
