// While a change waits for the provider, ask the portal every few seconds how the entitlement
// stands (one small JSON read) and show the provider's answer without a reload.
"use strict";
(function () {
  const box = document.getElementById("open-change");
  if (!box || !box.dataset.statusUrl) {
    return;
  }
  const EVERY_MS = 2000;
  const MAX_POLLS = 1800; // an hour; after that a reload resumes
  let polls = 0;

  function show(answered, state) {
    const confirmed = String(state.product_id) === box.dataset.waitsFor;
    box.classList.add(confirmed ? "answered-confirmed" : "answered-declined");
    box.querySelector("h2").textContent = confirmed ? "Change confirmed" : "Change declined";
    const note = document.getElementById("open-change-note");
    note.textContent = confirmed ? box.dataset.confirmed : box.dataset.declined;
    note.id = "open-change-answer";
    const current = document.getElementById("current-product");
    if (current) {
      current.textContent = state.product;
    }
    answered.hidden = false;
  }

  function poll() {
    polls += 1;
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state && !state.waiting && String(state.version) !== box.dataset.version) {
          show(document.getElementById("answered-reload"), state);
          return;
        }
        if (polls < MAX_POLLS) {
          window.setTimeout(poll, EVERY_MS);
        }
      })
      .catch(function () {
        if (polls < MAX_POLLS) {
          window.setTimeout(poll, EVERY_MS * 2);
        }
      });
  }
  window.setTimeout(poll, EVERY_MS);
})();
