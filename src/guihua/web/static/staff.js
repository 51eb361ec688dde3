// The staff pages' few behaviours, kept out of the pages (the Content-Security-Policy runs no
// inline script). Every page works without this file; it only adds conveniences:
//  - a button with data-print prints the page (the certificate, the sign-in code);
//  - a form with data-upload shows how much of its file has been sent (htmx's upload progress
//    events), refuses a file over the service's limit before sending it, and shows the answer of
//    a refused upload (htmx leaves 4xx answers unswapped by default).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-print]") : null;
    if (button) {
      event.preventDefault();
      window.print();
    }
  });

  function uploadForm(element) {
    return element && element.closest ? element.closest("form[data-upload]") : null;
  }

  function say(form, text) {
    var status = form.querySelector("[data-upload-status]");
    if (status) { status.textContent = text; }
  }

  function bar(form, value) {
    var progress = form.querySelector("progress");
    if (!progress) { return; }
    progress.hidden = value === null;
    if (value !== null) { progress.value = value; }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = uploadForm(event.target);
    if (!form) { return; }
    var input = form.querySelector("input[type=file]");
    var limit = parseInt(form.getAttribute("data-max-bytes") || "0", 10);
    if (input && input.files && input.files[0] && limit && input.files[0].size > limit) {
      event.preventDefault();
      say(form, form.getAttribute("data-too-large") || "");
      bar(form, null);
      return;
    }
    bar(form, 0);
    say(form, form.getAttribute("data-sending") || "");
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = uploadForm(event.target);
    if (!form || !event.detail || !event.detail.lengthComputable || !event.detail.total) { return; }
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    bar(form, percent);
    if (percent >= 100) {
      say(form, form.getAttribute("data-checking") || "");
    } else {
      say(form, (form.getAttribute("data-sending") || "") + " " + percent + "%");
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = uploadForm(event.detail.requestConfig ? event.detail.requestConfig.elt : null);
    if (!form) { return; }
    var status = event.detail.xhr.status;
    if (status === 413) {
      event.detail.shouldSwap = false;
      say(form, form.getAttribute("data-too-large") || "");
      bar(form, null);
      return;
    }
    if (status >= 400 && status < 500 && (event.detail.xhr.getResponseHeader("content-type") || "").indexOf("text/html") === 0) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = uploadForm(event.target);
    if (!form) { return; }
    bar(form, null);
    if (event.detail.xhr && event.detail.xhr.status !== 413) { say(form, form.getAttribute("data-done") || ""); }
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = uploadForm(event.target);
    if (form) { say(form, form.getAttribute("data-failed") || ""); bar(form, null); }
  });
})();
