// Copy buttons: <button type="button" class="copy" data-copy="#element-id">Copy</button>
// copies the text of the element it names, then says "Copied" for a moment.
// Loaded as a file from this site: the pages' Content-Security-Policy allows no inline script.
"use strict";

(function () {
  var SHOWN_FOR = 1500;

  function copyWithTextarea(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "-100vh";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    document.body.removeChild(area);
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyWithTextarea(text);
      });
    }
    return copyWithTextarea(text);
  }

  function say(button, label) {
    if (!button.dataset.label) {
      button.dataset.label = button.textContent;
    }
    button.textContent = label;
    clearTimeout(Number(button.dataset.timer));
    button.dataset.timer = String(setTimeout(function () {
      button.textContent = button.dataset.label;
    }, SHOWN_FOR));
  }

  function target(button) {
    try {
      return document.querySelector(button.getAttribute("data-copy"));
    } catch (error) {
      return null;
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy[data-copy]") : null;
    var element = button && target(button);
    if (!element) {
      return;
    }
    copyText(element.textContent).then(
      function () { say(button, "Copied"); },
      function () { say(button, "Copy failed"); }
    );
  });
})();
