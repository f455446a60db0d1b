// What the console's live parts share: a JSON document of the service asked for with the session cookie,
// handed to `onData`, and asked for again every `refreshMs` (0: once). When the session has ended the page
// goes to the log-in form (the 401 names it); a failed request marks `element` stale until one succeeds.
(function () {
  "use strict";
  window.smartchargePoll = function (element, src, refreshMs, onData) {
    async function refresh() {
      let again = refreshMs > 0;
      try {
        const response = await fetch(src, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (response.status === 401) {
          again = false;
          window.location.assign((await response.json()).login);
          return;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        onData(await response.json());
        element.classList.remove("stale");
      } catch (error) {
        element.classList.add("stale");
      } finally {
        if (again) setTimeout(refresh, refreshMs);
      }
    }
    refresh();
  };
})();
