// The change form offers only the reasons that fit the chosen tier: a reason tied to a
// direction (CHANGE_REASONS' code:label:upgrade|downgrade) is hidden for a change the other
// way. The server refuses such a pair anyway; this spares the agent the round trip.
"use strict";
(function () {
  const form = document.getElementById("change-product-form");
  const reason = form && form.querySelector("select[name=reason]");
  if (!reason) {
    return;
  }
  function update() {
    const chosen = form.querySelector("input[name=new_product]:checked");
    const direction = chosen ? chosen.dataset.direction : "";
    for (const option of reason.options) {
      const tied = option.dataset.direction;
      const fits = !direction || !tied || tied === "any" || tied === direction;
      option.hidden = !fits;
      option.disabled = !fits;
      if (!fits && option.selected) {
        reason.value = "";
      }
    }
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "new_product") {
      update();
    }
  });
  update();
})();
