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
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = tokenMeta ? tokenMeta.getAttribute("content") : "";
  var dropped = null;
  var busy = false;

  function humanSize(n) {
    if (n < 1024) { return n + " bytes"; }
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
    // The API answers errors as RFC 9457 problem+json: show its detail.
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.detail) { return body.detail; }
    } catch (e) { /* not JSON */ }
    return "The server answered " + xhr.status + ".";
  }
  function chosenFile() {
    if (dropped) { return dropped; }
    return input.files && input.files.length ? input.files[0] : null;
  }

  function follow(job) {
    if (job.status === "done") {
      status.textContent = "Done: opening the report…";
      window.location.assign("/console/scans/" + encodeURIComponent(job.scan_id) + "?lang=" + lang);
      return;
    }
    if (job.status === "failed") {
      showError("This file could not be scanned: " + (job.reason || "the scan failed") + ".");
      return;
    }
    status.textContent = "Scan " + job.status + "…";
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
      showError("Lost track of the scan: " + e.message);
    });
  }

  function upload(file) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/apk-scans?wait=0&lang=" + lang);
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) {
        setProgress(Math.round(event.loaded * 100 / event.total), "Upload");
      }
    };
    xhr.upload.onload = function () {
      setProgress(100, "Uploaded");
      status.textContent = "Uploaded; waiting for the scanner…";
    };
    xhr.onerror = function () {
      showError("The upload failed: the connection was lost. Check the file size (at most " +
        humanSize(maxBytes) + ") and try again.");
    };
    xhr.onload = function () {
      if (xhr.status === 401) { toSignIn(); return; }
      if (xhr.status === 413) {
        showError("This file is too large: the limit is " + humanSize(maxBytes) + ".");
        return;
      }
      if (xhr.status !== 200 && xhr.status !== 202) {
        showError("The upload was refused: " + problemText(xhr));
        return;
      }
      var job;
      try { job = JSON.parse(xhr.responseText); } catch (e) {
        showError("The server's answer could not be read.");
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
      showError("Choose an APK file (or drop one on the box) first.");
      input.focus();
      return;
    }
    if (file.size === 0) {
      showError("This file is empty.");
      return;
    }
    if (maxBytes && file.size > maxBytes) {
      showError("This file is too large: " + humanSize(file.size) + ", the limit is " +
        humanSize(maxBytes) + ".");
      return;
    }
    busy = true;
    submit.disabled = true;
    setProgress(0, "Upload");
    status.textContent = "Uploading " + file.name + " (" + humanSize(file.size) + ")…";
    upload(file);
  });

  input.addEventListener("change", function () {
    dropped = null;
    clearError();
    var file = chosenFile();
    status.textContent = file ? ("Selected: " + file.name + " (" + humanSize(file.size) + ")") : "";
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
      status.textContent = "Selected: " + dropped.name + " (" + humanSize(dropped.size) + ")";
    }
  });
})();
