// Forms marked data-submit-once send once: a double click or a second Enter does nothing.
// (The server refuses a second use of the same submission anyway; this spares the round trip.)
"use strict";
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (!form.hasAttribute("data-submit-once")) {
    return;
  }
  if (form.dataset.submitted) {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "true";
  form.setAttribute("aria-busy", "true");
  for (const button of form.querySelectorAll("[type=submit]")) {
    button.disabled = true;
    if (button.tagName === "INPUT") {
      button.value = "Sending…";
    }
  }
});
