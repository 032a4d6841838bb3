// The kiosk's start screen reloads itself now and then (by GET), so a tablet left on overnight
// offers the morning's buttons and shows the wait as it is now.
(function () {
  "use strict";
  var start = document.querySelector("[data-refresh-url]");
  if (!start) return;
  var every = parseInt(start.getAttribute("data-refresh-seconds"), 10) || 60;
  window.setTimeout(function () {
    window.location.replace(start.getAttribute("data-refresh-url"));
  }, every * 1000);
})();

// The kiosk's ticket screen: a print button, and back to the start after a while
// (the visitor can stop that; the "back to the start" link works without JavaScript).
(function () {
  "use strict";
  var root = document.querySelector("[data-return-url]");
  if (!root) return;
  var printButton = root.querySelector("[data-print]");
  if (printButton) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () { window.print(); });
  }
  var left = parseInt(root.getAttribute("data-return-seconds"), 10) || 45;
  var countdown = root.querySelector("[data-countdown]");
  var seconds = root.querySelector("[data-seconds]");
  var stop = root.querySelector("[data-stop-return]");
  if (countdown) countdown.hidden = false;
  function show() { if (seconds) seconds.textContent = "(" + left + ")"; }
  show();
  var timer = window.setInterval(function () {
    left -= 1;
    show();
    if (left <= 0) {
      window.clearInterval(timer);
      // replace(): the ticket page leaves the tablet's history, so the next visitor cannot go
      // back to it (its QR code leads to the holder's phone page).
      window.location.replace(root.getAttribute("data-return-url"));
    }
  }, 1000);
  if (stop) {
    stop.addEventListener("click", function () {
      window.clearInterval(timer);
      if (countdown) countdown.hidden = true;
    });
  }
})();
