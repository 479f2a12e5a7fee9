// The /_sandbox/ page reloads every 3 s to show new requests, but not while a form field is in
// use: a reason being typed for the next change's answer must not be wiped. A file, not an
// inline script: the page is served under a strict CSP (script-src 'self').
"use strict";
(function () {
  var PERIOD_MS = 3000;
  function typing() {
    var active = document.activeElement;
    return Boolean(active && active.form && active.tagName !== "BUTTON");
  }
  window.setInterval(function () {
    if (!typing()) {
      window.location.reload();
    }
  }, PERIOD_MS);
})();
