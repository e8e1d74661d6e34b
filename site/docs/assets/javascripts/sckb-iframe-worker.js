/* sckb: run the search worker inside a hidden same-origin frame when the site is opened from disk.
 *
 * Browsers refuse `new Worker(...)` for file:// pages; the theme's offline plugin would fetch the
 * iframe-worker shim from a CDN for this. This file does the same small job with no network: the
 * worker script runs in an about:blank frame, whose global postMessage and "message" events stand
 * in for the worker's. Served over HTTP it does nothing.
 */
(function () {
  "use strict";
  if (location.protocol !== "file:") return;

  function FileWorker(url) {
    var target = document.createElement("span");
    var frame = document.createElement("iframe");
    var queue = [];
    var ready = false;
    frame.hidden = true;
    frame.setAttribute("aria-hidden", "true");
    frame.tabIndex = -1;
    (document.body || document.documentElement).appendChild(frame);
    var win = frame.contentWindow;
    var send = function (data) {
      win.dispatchEvent(new win.MessageEvent("message", { data: data }));
    };
    // the worker's replies become "message" events of this object, as a Worker's would
    win.postMessage = function (data) {
      setTimeout(function () {
        var ev = new MessageEvent("message", { data: data });
        target.dispatchEvent(ev);
        if (typeof api.onmessage === "function") api.onmessage(ev);
      });
    };
    // only used for languages other than English, which this site does not load
    win.importScripts = function () {};
    var script = win.document.createElement("script");
    script.src = new URL(url, location.href).href;
    script.onload = function () {
      ready = true;
      queue.splice(0).forEach(send);
    };
    win.document.head.appendChild(script);
    var api = {
      onmessage: null,
      postMessage: function (data) {
        if (ready) send(data);
        else queue.push(data);
      },
      terminate: function () {
        frame.remove();
      },
      addEventListener: function (type, fn, opts) {
        target.addEventListener(type, fn, opts);
      },
      removeEventListener: function (type, fn, opts) {
        target.removeEventListener(type, fn, opts);
      },
      dispatchEvent: function (ev) {
        return target.dispatchEvent(ev);
      },
    };
    return api;
  }
  window.Worker = FileWorker;
})();
