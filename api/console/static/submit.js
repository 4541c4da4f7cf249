/* The submit page's APK upload: a real upload progress bar (XHR upload.onprogress),
   drag and drop, then the job's state until it is done. It calls the JSON API
   (POST /v1/apk-scans, GET /v1/scans/{id}) with the session cookie and the
   session's CSRF token in X-CSRF-Token: the same API and roles as any client. */
"use strict";
(function () {
  var form = document.getElementById("apk-form");
  if (!form) { return; }
  var input = document.getElementById("apk-file");
  var zone = document.getElementById("drop-zone");
  var submit = document.getElementById("apk-submit");
  var wrap = document.getElementById("apk-progress-wrap");
  var bar = document.getElementById("apk-progress");
  var barText = document.getElementById("apk-progress-text");
  var barLabel = document.getElementById("apk-progress-label");
  var status = document.getElementById("apk-status");
  var errorBox = document.getElementById("apk-error");
  var maxBytes = 0;
  function readLimit() {
    // Read at each upload: the server's SCAMSCAN_MAX_APK_BYTES, written into the page.
    maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
  }
  readLimit();
  var lang = form.getAttribute("data-lang") || "vi";
  var t = window.scamscan.t;
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = tokenMeta ? tokenMeta.getAttribute("content") : "";
  var dropped = null;
  var busy = false;

  function humanSize(n) {
    if (n < 1024) { return n + " " + t("unit_bytes"); }
    if (n < 1024 * 1024) { return (n / 1024).toFixed(1) + " KB"; }
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }
  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    status.textContent = "";
    input.setAttribute("aria-invalid", "true");
    busy = false;
    submit.disabled = false;
  }
  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    input.removeAttribute("aria-invalid");
  }
  function setProgress(percent, label) {
    wrap.hidden = false;
    bar.value = percent;
    bar.textContent = percent + "%";
    barText.textContent = percent + "%";
    if (label) { barLabel.textContent = label; }
  }
  function toSignIn() {
    window.location.assign("/console/sign-in?expired=1&next=" + encodeURIComponent("/console/"));
  }
  function problemText(xhr) {
    // The API answers errors as RFC 9457 problem+json. Its detail is English, written
    // for API callers: an English page shows it, a Vietnamese one the catalogue's text.
    if (lang === "en") {
      try {
        var body = JSON.parse(xhr.responseText);
        if (body && body.detail) { return t("refused_detail", { detail: body.detail }); }
      } catch (e) { /* not JSON */ }
    }
    return t("refused", { status: xhr.status });
  }
  function failure(job) {
    // Why a scan failed: the catalogue's text of its error_kind (the scanner's own
    // reason on an English page, as the report pages do).
    if (lang === "en" && job.reason) { return job.reason; }
    var key = "job.error." + job.error_kind;
    return t(key) === key ? t("job.error.other") : t(key);
  }
  function chosenFile() {
    if (dropped) { return dropped; }
    return input.files && input.files.length ? input.files[0] : null;
  }

  function follow(job) {
    if (job.status === "done") {
      status.textContent = t("done_opening");
      window.location.assign("/console/scans/" + encodeURIComponent(job.scan_id) + "?lang=" + lang);
      return;
    }
    if (job.status === "failed") {
      showError(t("file_failed", { reason: failure(job) }));
      return;
    }
    status.textContent = t(job.status === "running" ? "scan_running" : "scan_queued");
    fetch("/v1/scans/" + encodeURIComponent(job.scan_id) + "?wait=20&lang=" + lang, {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 401) { toSignIn(); return null; }
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.detail || ("HTTP " + response.status)); }
        return body;
      });
    }).then(function (next) {
      if (next) { follow(next); }
    }).catch(function (e) {
      showError(t("lost_track"));
    });
  }

  function upload(file) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/apk-scans?wait=0&lang=" + lang);
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) {
        setProgress(Math.round(event.loaded * 100 / event.total), t("upload"));
      }
    };
    xhr.upload.onload = function () {
      setProgress(100, t("uploaded"));
      status.textContent = t("waiting_scanner");
    };
    xhr.onerror = function () {
      showError(t("upload_failed", { limit: humanSize(maxBytes) }));
    };
    xhr.onload = function () {
      if (xhr.status === 401) { toSignIn(); return; }
      if (xhr.status === 413) {
        showError(t("too_large_limit", { limit: humanSize(maxBytes) }));
        return;
      }
      if (xhr.status !== 200 && xhr.status !== 202) {
        showError(problemText(xhr));
        return;
      }
      var job;
      try { job = JSON.parse(xhr.responseText); } catch (e) {
        showError(t("unreadable"));
        return;
      }
      follow(job);
    };
    var data = new FormData();
    data.append("file", file, file.name);
    xhr.send(data);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }
    clearError();
    readLimit();
    var file = chosenFile();
    if (!file) {
      showError(t("choose_file"));
      input.focus();
      return;
    }
    if (file.size === 0) {
      showError(t("empty_file"));
      return;
    }
    if (maxBytes && file.size > maxBytes) {
      showError(t("too_large", { size: humanSize(file.size), limit: humanSize(maxBytes) }));
      return;
    }
    busy = true;
    submit.disabled = true;
    setProgress(0, t("upload"));
    status.textContent = t("uploading", { name: file.name, size: humanSize(file.size) });
    upload(file);
  });

  input.addEventListener("change", function () {
    dropped = null;
    clearError();
    var file = chosenFile();
    status.textContent = file ? t("selected", { name: file.name, size: humanSize(file.size) }) : "";
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    var files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) {
      dropped = files[0];
      clearError();
      status.textContent = t("selected", { name: dropped.name, size: humanSize(dropped.size) });
    }
  });
})();
