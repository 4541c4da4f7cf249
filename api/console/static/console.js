/* scamscan console: behaviour shared by every page. Plain JavaScript, no framework.
   Loaded before the page's other scripts (all deferred, in document order): it
   publishes window.scamscan.t, the page's strings from the catalogue
   (api/console/messages.json, handed over as JSON in <meta name="console-i18n">:
   the CSP forbids inline scripts). */
"use strict";
(function () {
  var lang = document.documentElement.getAttribute("lang") === "en" ? "en" : "vi";
  var strings = {};
  var meta = document.querySelector('meta[name="console-i18n"]');
  if (meta) {
    try { strings = JSON.parse(meta.getAttribute("content")) || {}; } catch (e) { strings = {}; }
  }
  // t(key, {name: value}): the catalogue's text with {name} fields filled in.
  function t(key, params) {
    var text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : all;
    });
  }
  window.scamscan = { t: t, lang: lang };

  // Times: the server writes UTC (labelled "UTC"); show them in the reader's time
  // zone, with the zone named (e.g. "GMT+7"), in the page's language.
  function localTimes() {
    var format;
    try {
      format = new Intl.DateTimeFormat(lang === "vi" ? "vi-VN" : "en-GB", {
        year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
        minute: "2-digit", timeZoneName: "short"
      });
    } catch (e) { return; }
    var times = document.querySelectorAll("time.local-time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var iso = times[i].getAttribute("datetime");
      var moment = new Date(iso);
      if (isNaN(moment.getTime())) { continue; }
      times[i].setAttribute("title", iso);
      times[i].textContent = format.format(moment);
    }
  }
  localTimes();

  // Copy buttons: the value is in data-copy; the clipboard API needs a secure
  // context (https or localhost), so a hidden textarea is the fallback.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "sr-only";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (button) {
      copyText(button.getAttribute("data-copy")).then(function () {
        button.textContent = t("copied");
      }, function () {
        button.textContent = t("select_copy");
      });
      window.setTimeout(function () { button.textContent = t("copy"); }, 2000);
      return;
    }
    var confirmButton = event.target.closest("button[data-confirm]");
    if (confirmButton && !window.confirm(confirmButton.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
