// The office pages' one script (api/server/templates/job.html): while a plan job runs, poll
// its progress and show it; when it has ended, reload the page (which then links the plan).
// Without JavaScript the page refreshes itself (<noscript><meta http-equiv="refresh">).
"use strict";

(function () {
  const box = document.getElementById("job");
  if (!box || box.dataset.final === "yes") {
    return;
  }
  const url = box.dataset.progressUrl;
  const state = document.getElementById("job-state");
  const stage = document.getElementById("job-stage");
  const bar = document.getElementById("job-progress");

  async function poll() {
    let job;
    try {
      const answer = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const type = answer.headers.get("content-type") || "";
      if (!answer.ok || !type.startsWith("application/json")) {
        window.location.reload(); // signed out meanwhile, or gone: the page says which
        return;
      }
      job = await answer.json();
    } catch (error) {
      window.setTimeout(poll, 2000); // the server restarts: try again
      return;
    }
    state.textContent = job.state_text;
    state.dataset.state = job.state;
    stage.textContent = job.stage_text;
    bar.value = job.progress;
    bar.textContent = job.progress + "%";
    if (job.final) {
      window.location.reload();
      return;
    }
    window.setTimeout(poll, 1000);
  }

  window.setTimeout(poll, 1000);
})();
