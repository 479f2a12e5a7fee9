// The bulk change page updates itself: every 2 s it reads the job's progress JSON and shows the
// counts, the rate and the time left; when the job's state changes it reloads (new buttons).
// A static file, no inline script: the portal's Content-Security-Policy allows only 'self'.
"use strict";
(function () {
  const job = document.getElementById("bulk-job");
  if (!job) {
    return;
  }
  const url = job.dataset.progressUrl;
  const shownState = job.dataset.state;
  const text = (id, value) => {
    const element = document.getElementById(id);
    if (element) {
      element.textContent = value;
    }
  };
  const showOutcomes = (byOutcome) => {
    const body = document.querySelector("#progress-outcomes tbody");
    body.replaceChildren(
      ...Object.entries(byOutcome).map(([label, count]) => {
        const row = document.createElement("tr");
        for (const value of [label, count]) {
          const cell = document.createElement("td");
          cell.textContent = value;
          row.append(cell);
        }
        return row;
      }),
    );
  };
  const poll = async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) {
        return;
      }
      const progress = await response.json();
      if (progress.state !== shownState) {
        window.location.reload();
        return;
      }
      text("job-state", progress.state_label);
      text("progress-left", progress.left);
      text("progress-rate", progress.rate ?? "-");
      text("progress-time-left", progress.seconds_left == null ? "-" : `${progress.seconds_left} s`);
      showOutcomes(progress.by_outcome);
    } finally {
      setTimeout(poll, 2000);
    }
  };
  setTimeout(poll, 2000);
})();
