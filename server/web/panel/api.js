// What Paddock's staff pages (/ui/ and /ui/exhibit) share: the caller's token, calls to the
// native API with it, and small helpers to show API text safely. Plain script, no build step:
// it defines window.Paddock.
//
// The token: taken from the page's `access_token` query parameter (then removed from the
// address bar) or typed into a login form, and kept in this tab's sessionStorage only. Text
// from the API is only ever set as textContent (el() below), never parsed as markup.
(function () {
  "use strict";
  const TOKEN_KEY = "paddock.access_token";

  // The token from `?access_token=` (stored, and dropped from the address bar and history
  // entry) or from an earlier page of this tab; null when neither. `params` is the page's
  // query without the token.
  function takeToken() {
    const params = new URLSearchParams(location.search);
    let token = params.get("access_token");
    if (token !== null) {
      sessionStorage.setItem(TOKEN_KEY, token);
      params.delete("access_token");
      const rest = params.toString();
      history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
    } else {
      token = sessionStorage.getItem(TOKEN_KEY);
    }
    return { token: token, params: params };
  }
  const storeToken = (token) => sessionStorage.setItem(TOKEN_KEY, token);
  const forgetToken = () => sessionStorage.removeItem(TOKEN_KEY);

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  // The API's own words for a failed answer ({"error": {"message": ...}}), else the status line.
  function errorText(response, data) {
    if (data && data.error && typeof data.error.message === "string") return data.error.message;
    return response.status + " " + (response.statusText || "error");
  }

  // A client for the native API. options.token: the bearer token (none under auth.mode none);
  // options.site: added as ?site= to every path; options.onUnauthorized: called once, on the
  // first 401, after which every call fails at once (the page should ask for a new token).
  // call() resolves to the parsed JSON answer (null when empty), or to its text when `asText`;
  // it rejects with an ApiError carrying the API's own message.
  function client(options) {
    let stopped = false;
    const token = options.token || "";
    async function call(method, path, body, asText) {
      if (stopped) throw new ApiError(401, "not authorized");
      const headers = { Accept: "application/json" };
      if (token) headers.Authorization = "Bearer " + token;
      const init = { method: method, headers: headers, cache: "no-store" };
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      const url = options.site ? path + (path.includes("?") ? "&" : "?") + "site=" + encodeURIComponent(options.site) : path;
      let response;
      try {
        response = await fetch(url, init);
      } catch (e) {
        throw new ApiError(0, "Paddock cannot be reached (" + e.message + ")");
      }
      const text = await response.text();
      if (asText && response.ok) return text;
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
      if (!response.ok) {
        if (response.status === 401 && !stopped) {
          stopped = true;
          if (options.onUnauthorized) options.onUnauthorized();
        }
        throw new ApiError(response.status, errorText(response, data));
      }
      return data;
    }
    return { call: call, token: token, get stopped() { return stopped; } };
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // "42 s", "3 min 5 s", "2 h 4 min", "3 days": a span of seconds in words.
  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 120) return s + " s";
    const m = Math.floor(s / 60);
    if (m < 120) return m + " min " + (s % 60) + " s";
    const h = Math.floor(m / 60);
    if (h < 48) return h + " h " + (m % 60) + " min";
    return Math.floor(h / 24) + " days";
  }
  const ago = (seconds) => duration(seconds) + " ago";
  function clock(iso) {
    const d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString([], { hour12: false });
  }
  function dateTime(iso) {
    const d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleString([], { hour12: false });
  }

  window.Paddock = {
    takeToken: takeToken, storeToken: storeToken, forgetToken: forgetToken,
    ApiError: ApiError, client: client,
    el: el, duration: duration, ago: ago, clock: clock, dateTime: dateTime,
  };
})();
