// A small ICWS client for the browser, built only on the public API: login with cookie + CSRF token,
// JSON requests, and the session's messages as server-sent events (EventSource, cookie only).

const JSON_TYPE = "application/json";
const STATE_URN = "urn:inin.com:interactions.assistance:assistanceRequestSubscriptionStateMessage";
const GOODBYE_URN = "urn:inin.com:connection:connectionStateChangeMessage";

/** An ICWS answer that was not a success: `status` and the server's `message` (and `errorId`). */
export class IcwsError extends Error {
  constructor(status, body) {
    super((body && body.message) || `The server answered ${status}.`);
    this.status = status;
    this.errorId = body && body.errorId;
  }
}

/** Parses a compact ICWS date (`20240105T142233Z`) into a Date; null when it is not one. */
export function parseIcwsDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text || "");
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return null; }
}

/**
 * One signed-in user. `link` is the state of the message stream: "connecting", "live", "reconnecting";
 * `watch` the subscription state the server last sent (1 normal, 2 suspended, 3 faulted).
 *
 * Callbacks: onMessage(message), onStatus(), onSession() after every login (subscribe there: a login after
 * a server restart starts with no watches), onEnded(reason) when the session is over for good.
 */
export class IcwsSession {
  constructor(callbacks) {
    this.callbacks = callbacks;
    this.link = "connecting";
    this.watch = 1;
    this.ended = false;
    this.source = null;
    this.retryTimer = null;
    this.clockOffset = 0;
  }

  /** Signs in; throws IcwsError (400 for a wrong user id or password) or a TypeError when offline. */
  async login(userId, password) {
    // Kept only in this object for the page's lifetime: sessions live in the server's memory, so after a
    // server restart the page signs in again by itself and resumes.
    this.credentials = { userId, password };
    await this.connect();
  }

  async connect() {
    const response = await fetch("/icws/connection?include=server-time", {
      method: "POST",
      headers: { "Content-Type": JSON_TYPE, "Accept-Language": navigator.language || "en-US" },
      body: JSON.stringify({
        __type: "urn:inin.com:connection:icAuthConnectionRequestSettings",
        applicationName: "OpenICWS board",
        userID: this.credentials.userId,
        password: this.credentials.password,
      }),
    });
    const body = await readBody(response);
    if (response.status !== 201 || !body) throw new IcwsError(response.status, body);
    this.sessionId = response.headers.get("ININ-ICWS-Session-ID") || body.sessionId;
    this.csrfToken = response.headers.get("ININ-ICWS-CSRF-Token") || body.csrfToken;
    this.userId = body.userID;
    this.displayName = body.userDisplayName || body.userID;
    const serverNow = body.serverTimeInfo && parseIcwsDate(body.serverTimeInfo.serverUtcTime);
    this.clockOffset = serverNow ? serverNow.getTime() - Date.now() : 0;
    this.watch = 1;
    await this.callbacks.onSession();
    this.openStream();
  }

  /** The server's clock now, as well as the page can tell (for waiting times). */
  serverNow() { return Date.now() + this.clockOffset; }

  /** A request on the session: JSON in and out; 401 ends the session (back to the form, with the reason). */
  async request(method, path, body) {
    const options = { method, headers: { "ININ-ICWS-CSRF-Token": this.csrfToken } };
    if (body !== undefined) {
      options.headers["Content-Type"] = JSON_TYPE;
      options.body = JSON.stringify(body);
    }
    const response = await fetch(`/icws/${this.sessionId}${path}`, options);
    const answer = await readBody(response);
    if (response.status === 401) {
      const error = new IcwsError(401, answer);
      // A 401 while the stream is down is the restart case: the stream's own recovery signs in again.
      if (this.link === "live") this.end(`Your session has ended: ${error.message}`);
      throw error;
    }
    if (!response.ok) throw new IcwsError(response.status, answer);
    return answer;
  }

  openStream() {
    this.closeStream();
    if (this.ended) return;
    const source = new EventSource(`/icws/${this.sessionId}/messaging/messages`);
    this.source = source;
    source.onopen = () => {
      if (source !== this.source) return;
      this.setLink("live");
    };
    source.onmessage = (event) => {
      if (source !== this.source) return;
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      this.handle(message);
    };
    source.onerror = () => {
      if (source !== this.source || this.ended) return;
      this.setLink("reconnecting");
      // CONNECTING: the browser retries by itself and sends Last-Event-ID, so nothing is missed.
      // CLOSED: the server refused the stream (e.g. 401 after a restart): find out why.
      if (source.readyState === EventSource.CLOSED) this.recover(0);
    };
  }

  handle(message) {
    switch (message.__type) {
      case GOODBYE_URN:
        if (message.shouldReconnect) {
          this.setLink("reconnecting");
        } else {
          this.end(`Your session ended: ${message.reason || "the server ended it."}`);
        }
        return;
      case STATE_URN:
        this.watch = message.state;
        this.watchError = message.error && message.error.message;
        this.callbacks.onStatus();
        return;
      default:
        this.callbacks.onMessage(message);
    }
  }

  /** The stream was refused: still our session (open it again), gone (sign in again), or no server (wait). */
  async recover(attempt) {
    this.closeStream();
    if (this.ended) return;
    const again = () => {
      this.retryTimer = setTimeout(() => this.recover(attempt + 1), Math.min(500 * 2 ** attempt, 5000));
    };
    let status;
    try {
      const response = await fetch(`/icws/${this.sessionId}/connection`, { headers: { "ININ-ICWS-CSRF-Token": this.csrfToken } });
      status = response.status;
    } catch {
      return again();
    }
    if (this.ended) return;
    if (status === 200) {
      // A new EventSource cannot send Last-Event-ID: subscribe again, so fresh snapshots cover any gap.
      try {
        await this.callbacks.onSession();
      } catch {
        return again();
      }
      return this.openStream();
    }
    if (status !== 401) return again();
    try {
      await this.connect();
    } catch (error) {
      if (error instanceof IcwsError && error.status === 400) {
        this.end(`The server no longer knows your session and signing in again failed: ${error.message}`);
      } else {
        again();
      }
    }
  }

  setLink(link) {
    if (this.link === link) return;
    this.link = link;
    this.callbacks.onStatus();
  }

  /** What the page shows: the link state, then the subscription state. */
  get status() {
    if (this.ended) return "ended";
    if (this.link !== "live") return this.link;
    if (this.watch === 2) return "paused";
    if (this.watch === 3) return "stopped";
    return "live";
  }

  closeStream() {
    clearTimeout(this.retryTimer);
    if (this.source) {
      this.source.onopen = this.source.onmessage = this.source.onerror = null;
      this.source.close();
      this.source = null;
    }
  }

  end(reason) {
    if (this.ended) return;
    this.ended = true;
    this.closeStream();
    this.credentials = null;
    this.callbacks.onEnded(reason);
  }

  /** Signs out (DELETE connection); the page returns to the form whatever the server answers. */
  async logout() {
    this.closeStream();
    this.link = "closing";
    try { await this.request("DELETE", "/connection"); } catch { /* the session is over either way */ }
    this.end("You signed out.");
  }
}
