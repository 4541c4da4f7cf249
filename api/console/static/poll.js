/* An APK scan still queued or running: ask the API until it is done, then show the report. */
"use strict";
(function () {
  var state = document.getElementById("scan-state");
  if (!state) { return; }
  var t = window.scamscan.t;
  var scanId = state.getAttribute("data-scan-id");
  var lang = state.getAttribute("data-lang") || "vi";
  function poll() {
    fetch("/v1/scans/" + encodeURIComponent(scanId) + "?wait=20&lang=" + lang, {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 401) {
        window.location.assign("/console/sign-in?expired=1&next=" +
          encodeURIComponent(window.location.pathname));
        return null;
      }
      return response.json();
    }).then(function (job) {
      if (!job) { return; }
      if (job.status === "done" || job.status === "failed") {
        window.location.reload();
        return;
      }
      state.textContent = t(job.status === "running" ? "scan_running" : "scan_queued") +
        " " + t("opens_when_done");
      window.setTimeout(poll, 500);
    }).catch(function () {
      window.setTimeout(poll, 3000);
    });
  }
  poll();
})();
