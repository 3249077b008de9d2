// The supervisor board and the agent panel. Everything on screen comes from ICWS messages on the session's
// event stream; every action is an ICWS request. Text from the server is only ever set as textContent.
import { IcwsSession, IcwsError, parseIcwsDate } from "/board/icws.js";

const URN = "urn:inin.com:interactions.assistance:";
const MY_QUEUE = "board-my-interactions";
const WORKGROUP_QUEUE = "board-workgroups";
const WAITING = 0, ACCEPTED = 1, COMPLETED = 2;
const IGNORED = 2, ACCEPT = 3;

const $ = (id) => document.getElementById(id);

/** Builds an element: `el("p", {class: "x", text: "…", hidden: true}, child…)`. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key === "hidden") node.hidden = true;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? h + ":" : ""}${mm}:${String(s).padStart(2, "0")}`;
}

function formatClock(date) {
  return date ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

let session = null;
let isSupervisor = false;
let currentView = "agent";
/** Supervisor board: assistanceId → card. */
const cards = new Map();
/** Requests the supervisor has looked at (kept across a re-login after a server restart). */
const seen = new Set();
const announced = new Set();
/** Details of requests (either watch): assistanceId → {interactionId, state, participants: Map, lines: []}. */
const details = new Map();
/** The one details watch held per request: assistanceId → "supervisor" | "agent". */
const detailsWatches = new Map();
/** Agent panel: interactionId → item; and the ids of the agent's own active requests. */
const items = new Map();
const myRequests = new Set();
/** Remote names of the interactions in the supervised workgroups' queues. */
const remoteNames = new Map();
let watchedWorkgroups = new Set();

// ---------------------------------------------------------------------------------------------- status

const LINK_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting… updates resume by themselves",
  paused: "Paused: the server cannot serve updates right now; they resume by themselves",
  stopped: "Stopped: the server ended the live updates",
};

function showStatus() {
  if (!session || session.ended) return;
  const status = session.status;
  const link = $("link");
  link.dataset.state = status;
  let text = LINK_TEXT[status] || status;
  if ((status === "paused" || status === "stopped") && session.watchError) text += ` (${session.watchError})`;
  link.textContent = text;
  $("resume").hidden = status !== "stopped";
  document.body.dataset.link = status;
}

function announce(text) {
  const region = $("announcer");
  region.append(el("p", { text }));
  while (region.childElementCount > 5) region.firstElementChild.remove();
}

function updateTitle() {
  const unseen = [...cards.keys()].filter((id) => !seen.has(id)).length;
  const badge = $("unseen-badge");
  badge.hidden = unseen === 0;
  badge.textContent = unseen ? `${unseen} new` : "";
  $("mark-seen").disabled = unseen === 0;
  const name = !session ? "Sign in" : currentView === "board" ? "Requests" : "My interactions";
  document.title = `${unseen && session ? `(${unseen}) ` : ""}${name} · OpenICWS`;
}

// ------------------------------------------------------------------------------------------ sign in/out

function showLogin(reason) {
  $("login").hidden = false;
  for (const id of ["board", "agent", "views", "logout", "who", "link", "resume"]) $(id).hidden = true;
  const notice = $("login-reason");
  notice.hidden = !reason;
  notice.textContent = reason || "";
  $("password").value = "";
  document.body.dataset.link = "signed-out";
  updateTitle();
  // Signing in again after the session ended: the user id is still there, the password is what is missing.
  ($("user-id").value ? $("password") : $("user-id")).focus();
}

async function signIn(event) {
  event.preventDefault();
  const userId = $("user-id").value.trim();
  const password = $("password").value;
  const notice = $("login-reason");
  if (!userId || !password) {
    notice.hidden = false;
    notice.textContent = "Enter your user ID and password.";
    (userId ? $("password") : $("user-id")).focus();
    return;
  }
  $("sign-in").disabled = true;
  const attempt = new IcwsSession({
    onMessage: (message) => { if (session === attempt) dispatch(message); },
    onStatus: () => { if (session === attempt) showStatus(); },
    onSession: () => subscribeAll(attempt),
    onEnded: (reason) => { if (session === attempt) signedOut(reason); },
  });
  session = attempt;
  try {
    await attempt.login(userId, password);
  } catch (error) {
    session = null;
    attempt.end("");
    notice.hidden = false;
    notice.textContent = !(error instanceof IcwsError)
      ? "The server cannot be reached. Check the address and try again."
      : error.status === 400 ? "The user ID or password is not right." : error.message;
    $("password").value = "";
    $("password").focus();
    return;
  } finally {
    $("sign-in").disabled = false;
  }
  $("login").hidden = true;
  $("login-reason").hidden = true;
  $("who").hidden = false;
  $("who").textContent = `Signed in as ${attempt.displayName}`;
  $("link").hidden = false;
  $("logout").hidden = false;
  $("views").hidden = !isSupervisor;
  $("show-board").hidden = !isSupervisor;
  showView(isSupervisor ? "board" : "agent", false);
  showStatus();
}

function signedOut(reason) {
  session = null;
  clearAll();
  showLogin(reason);
}

function clearAll() {
  for (const card of cards.values()) card.node.remove();
  for (const item of items.values()) item.node.remove();
  cards.clear();
  items.clear();
  details.clear();
  detailsWatches.clear();
  myRequests.clear();
  remoteNames.clear();
  seen.clear();
  announced.clear();
  watchedWorkgroups = new Set();
  refreshEmpty();
}

/** After every login (the first, and after a server restart): the server holds no watches yet. */
async function subscribeAll(target) {
  detailsWatches.clear();
  watchedWorkgroups = new Set();
  try {
    await target.request("PUT", "/messaging/subscriptions/interactions/supervisor-assistance");
    isSupervisor = true;
  } catch (error) {
    // Only 403 means "supervises no workgroup"; anything else (401, 503, no answer) is an error to report.
    if (!(error instanceof IcwsError) || error.status !== 403) throw error;
    isSupervisor = false;
  }
  await target.request("PUT", `/messaging/subscriptions/queues/${MY_QUEUE}`, {
    queueIds: [{ queueType: 1, queueName: target.userId }],
    attributeNames: ["Eic_State", "Eic_RemoteName", "Eic_WorkgroupName", "Eic_ObjectType"],
  });
  await target.request("PUT", "/messaging/subscriptions/interactions/agent-assistance");
  // Watches the server forgot (a restart) come back from the list snapshots; re-watch details already shown.
  for (const id of cards.keys()) holdDetails(id, "supervisor");
  for (const id of myRequests) holdDetails(id, "agent");
  if (cards.size) watchWorkgroups();
}

function showView(view, focus = true) {
  currentView = view;
  $("board").hidden = view !== "board";
  $("agent").hidden = view !== "agent";
  $("show-board").setAttribute("aria-pressed", String(view === "board"));
  $("show-agent").setAttribute("aria-pressed", String(view === "agent"));
  updateTitle();
  if (focus) $(view === "board" ? "board-title" : "agent-title").focus();
}

// -------------------------------------------------------------------------------------------- messages

function dispatch(message) {
  switch (message.__type) {
    case URN + "supervisorAssistanceRequestMessage": return applySupervisorList(message);
    case URN + "assistanceRequestDetailsMessage": return applyDetails(message);
    case URN + "assistanceRequestListMessage": return applyMyList(message);
    case "urn:inin.com:queues:queueContentsMessage": return applyQueue(message);
  }
}

function holdDetails(id, kind) {
  if (!session || detailsWatches.has(id)) return;
  detailsWatches.set(id, kind);
  const path = kind === "supervisor" ? "supervisor-assistance" : "agent-assistance";
  session.request("PUT", `/messaging/subscriptions/interactions/${path}/${encodeURIComponent(id)}`).catch(() => {
    detailsWatches.delete(id);
  });
}

function releaseDetails(id) {
  if (cards.has(id) || myRequests.has(id)) return;
  const kind = detailsWatches.get(id);
  details.delete(id);
  if (!kind || !session) return;
  detailsWatches.delete(id);
  const path = kind === "supervisor" ? "supervisor-assistance" : "agent-assistance";
  session.request("DELETE", `/messaging/subscriptions/interactions/${path}/${encodeURIComponent(id)}`).catch(() => {});
}

function applyDetails(message) {
  const id = message.assistanceId;
  let entry = details.get(id);
  if (!entry || !message.isDelta) {
    entry = { interactionId: message.interactionId, state: WAITING, participants: new Map(), lines: [] };
    details.set(id, entry);
  }
  if (message.interactionId) entry.interactionId = message.interactionId;
  if (message.state !== undefined && message.state !== null) entry.state = message.state;
  for (const p of [...(message.participantsAdded || []), ...(message.participantsChanged || [])]) {
    entry.participants.set(p.userId, p);
  }
  for (const line of message.messagesAdded || []) entry.lines.push(line);
  cards.get(id)?.update();
  refreshItemFor(id);
}

function applySupervisorList(message) {
  if (!message.isDelta) {
    const present = new Set((message.requestsAdded || []).map((r) => r.assistanceId));
    for (const id of [...cards.keys()]) if (!present.has(id)) removeCard(id);
  }
  const arrived = [];
  for (const request of [...(message.requestsAdded || []), ...(message.requestsChanged || [])]) {
    let card = cards.get(request.assistanceId);
    if (!card) {
      card = new RequestCard(request);
      cards.set(request.assistanceId, card);
      $("cards").append(card.node);
      holdDetails(request.assistanceId, "supervisor");
      if (!announced.has(request.assistanceId)) arrived.push(request);
    }
    card.request = request;
    card.update();
  }
  for (const id of message.requestsRemoved || []) removeCard(id);
  for (const request of arrived) announced.add(request.assistanceId);
  if (arrived.length === 1) {
    const r = arrived[0];
    announce(`New assistance request from ${r.initiator.displayName} in ${r.workgroup}: ${r.problemDescription}`);
  } else if (arrived.length > 1) {
    announce(`${arrived.length} new assistance requests.`);
  }
  watchWorkgroups();
  refreshEmpty();
  updateTitle();
}

/** Takes a card or item off the page; focus inside it goes to the view's heading rather than to nowhere. */
function removeFrom(map, id, headingId) {
  const entry = map.get(id);
  if (!entry) return false;
  const hadFocus = entry.node.contains(document.activeElement);
  entry.node.remove();
  map.delete(id);
  if (hadFocus) $(headingId).focus();
  return true;
}

function removeCard(id) {
  if (!removeFrom(cards, id, "board-title")) return;
  seen.delete(id);
  announced.delete(id);
  releaseDetails(id);
}

/** One queue watch over every workgroup that has a request on the board, for the callers' names. */
function watchWorkgroups() {
  const wanted = new Set([...cards.values()].map((c) => c.request.workgroup));
  if ([...wanted].every((w) => watchedWorkgroups.has(w))) return;
  watchedWorkgroups = new Set([...watchedWorkgroups, ...wanted]);
  session?.request("PUT", `/messaging/subscriptions/queues/${WORKGROUP_QUEUE}`, {
    queueIds: [...watchedWorkgroups].map((name) => ({ queueType: 2, queueName: name })),
    attributeNames: ["Eic_RemoteName"],
  }).catch(() => {});
}

function applyQueue(message) {
  if (message.subscriptionId === WORKGROUP_QUEUE) {
    if (!message.isDelta) remoteNames.clear();
    for (const i of [...(message.interactionsAdded || []), ...(message.interactionsChanged || [])]) {
      if (i.attributes.Eic_RemoteName !== undefined) remoteNames.set(i.interactionId, i.attributes.Eic_RemoteName);
    }
    for (const id of message.interactionsRemoved || []) remoteNames.delete(id);
    for (const card of cards.values()) card.update();
    return;
  }
  if (message.subscriptionId !== MY_QUEUE) return;
  if (!message.isDelta) {
    const present = new Set((message.interactionsAdded || []).map((i) => i.interactionId));
    for (const id of [...items.keys()]) if (!present.has(id)) removeItem(id);
  }
  for (const i of [...(message.interactionsAdded || []), ...(message.interactionsChanged || [])]) {
    let item = items.get(i.interactionId);
    if (!item) {
      item = new InteractionItem(i.interactionId);
      items.set(i.interactionId, item);
      $("interactions").append(item.node);
      if (session && !session.ended && message.isDelta) {
        announce(`New interaction: ${i.attributes.Eic_RemoteName || i.interactionId}.`);
      }
    }
    Object.assign(item.attributes, i.attributes);
    item.update();
  }
  for (const id of message.interactionsRemoved || []) removeItem(id);
  refreshEmpty();
}

function removeItem(id) {
  removeFrom(items, id, "agent-title");
}

function applyMyList(message) {
  if (!message.isDelta) {
    const present = new Set(message.requestsAdded || []);
    for (const id of [...myRequests]) if (!present.has(id)) dropMyRequest(id);
  }
  for (const id of message.requestsAdded || []) {
    myRequests.add(id);
    holdDetails(id, "agent");
  }
  for (const id of message.requestsRemoved || []) dropMyRequest(id);
}

function dropMyRequest(id) {
  const interactionId = details.get(id)?.interactionId;
  myRequests.delete(id);
  releaseDetails(id);
  if (interactionId) items.get(interactionId)?.update();
}

function refreshItemFor(assistanceId) {
  const interactionId = details.get(assistanceId)?.interactionId;
  if (interactionId) items.get(interactionId)?.update();
}

function refreshEmpty() {
  $("board-empty").hidden = cards.size > 0;
  $("agent-empty").hidden = items.size > 0;
}

/** The display name of a participant of a request, else their user id. */
function nameOf(entry, userId) {
  return entry?.participants.get(userId)?.displayName || userId;
}

function renderLines(list, entry, from) {
  const lines = entry ? entry.lines.slice(from) : [];
  if (list.childElementCount > lines.length) list.replaceChildren();
  for (const line of lines.slice(list.childElementCount)) {
    const mine = session && line.participantId === session.userId;
    const when = parseIcwsDate(line.timeAdded);
    list.append(el("li", { class: mine ? "line mine" : "line" },
      el("span", { class: "line-who", text: mine ? "You" : nameOf(entry, line.participantId) }),
      el("time", { class: "line-time", datetime: when ? when.toISOString() : null, text: formatClock(when) }),
      el("p", { class: "line-text", text: line.text })));
  }
  list.hidden = list.childElementCount === 0;
}

/** A chat form: a labelled text field and a Send button; `send(text)` returns a promise. */
function chatForm(id, label, send, showError) {
  const input = el("input", { id: `${id}-input`, class: "say-input", autocomplete: "off", maxlength: "2000" });
  const button = el("button", { type: "submit", class: "primary", text: "Send" });
  const form = el("form", { class: "say", novalidate: true },
    el("label", { for: input.id, text: label }), el("div", { class: "say-row" }, input, button));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) { input.focus(); return; }
    button.disabled = true;
    try {
      await send(text);
      input.value = "";
      showError("");
    } catch (error) {
      showError(describe(error));
    } finally {
      button.disabled = false;
      input.focus();
    }
  });
  return { form, input, label: form.querySelector("label") };
}

/** What to tell the user about a failed action: the server's message, or that it cannot be reached. */
function describe(error) {
  return error instanceof IcwsError ? error.message
    : "The server cannot be reached right now. Try again once the page is live.";
}

function errorBox() {
  const box = el("p", { class: "error", role: "alert", hidden: true });
  return { box, show: (text) => { box.hidden = !text; box.textContent = text || ""; } };
}

// ------------------------------------------------------------------------------------- supervisor card

class RequestCard {
  constructor(request) {
    this.request = request;
    const id = request.assistanceId;
    const safe = id.replace(/[^A-Za-z0-9_-]/g, "_");
    this.firstSeenAt = session ? session.serverNow() : Date.now();
    this.title = el("h3", { id: `card-${safe}-title`, class: "card-title" });
    this.badge = el("span", { class: "badge new-badge", text: "New" });
    this.state = el("p", { class: "state" });
    this.workgroup = el("dd");
    this.interaction = el("dd");
    this.waitLabel = el("dt", { text: "Waiting" });
    this.waited = el("time", { class: "waited" });
    this.acceptedBy = el("dd");
    this.problem = el("blockquote", { class: "problem" });
    this.accept = el("button", { type: "button", class: "primary accept", text: "Accept" });
    this.ignore = el("button", { type: "button", class: "ignore", text: "Ignore" });
    this.lines = el("ol", { class: "chat", role: "log", "aria-label": "Conversation", hidden: true });
    const error = errorBox();
    this.showError = error.show;
    this.chat = chatForm(`card-${safe}-say`, "Message to the agent",
      (text) => session.request("POST", `/interactions/supervisor-assistance/${encodeURIComponent(id)}`, { text }), error.show);
    this.hint = el("p", { class: "hint", text: "Accept the request to chat with the agent." });
    const act = (action) => async () => {
      this.markSeen();
      try {
        await session.request("POST", `/interactions/supervisor-assistance/${encodeURIComponent(id)}`, { action });
        this.showError("");
        if (action === ACCEPT) {
          this.request = { ...this.request, action: ACCEPT };
          this.update();
          this.chat.input.focus();
        }
      } catch (error) {
        this.showError(describe(error));
      }
    };
    this.accept.addEventListener("click", act(ACCEPT));
    this.ignore.addEventListener("click", act(IGNORED));
    const article = el("article", { class: "card-body", "aria-labelledby": this.title.id },
      el("header", { class: "card-head" }, this.title, this.badge, this.state),
      el("dl", { class: "facts" },
        el("dt", { text: "Workgroup" }), this.workgroup,
        el("dt", { text: "Interaction" }), this.interaction,
        this.waitLabel, el("dd", {}, this.waited),
        el("dt", { text: "Accepted by" }), this.acceptedBy),
      this.problem,
      el("div", { class: "actions" }, this.accept, this.ignore),
      this.lines, this.hint, this.chat.form, error.box);
    this.node = el("li", { class: "card request", "data-assistance-id": id }, article);
    this.node.addEventListener("focusin", () => this.markSeen());
    this.node.addEventListener("click", () => this.markSeen());
  }

  markSeen() {
    if (seen.has(this.request.assistanceId)) return;
    seen.add(this.request.assistanceId);
    this.update();
    updateTitle();
  }

  /** When the request started waiting: its first line (the problem), else when this page first saw it. */
  get since() {
    const first = details.get(this.request.assistanceId)?.lines[0];
    return parseIcwsDate(first?.timeAdded)?.getTime() ?? this.firstSeenAt;
  }

  tick(now) {
    this.waited.textContent = formatDuration(now - this.since);
    this.waited.setAttribute("datetime", `PT${Math.max(0, Math.floor((now - this.since) / 1000))}S`);
  }

  update() {
    const r = this.request;
    const entry = details.get(r.assistanceId);
    const state = entry?.state ?? r.state;
    const isNew = !seen.has(r.assistanceId);
    this.node.classList.toggle("is-new", isNew);
    this.badge.hidden = !isNew;
    this.title.textContent = `${r.initiator.displayName} asks for help`;
    this.workgroup.textContent = r.workgroup;
    const remote = remoteNames.get(r.interactionId);
    this.interaction.textContent = remote ? `${remote} (${r.interactionId})` : r.interactionId;
    this.problem.textContent = r.problemDescription;
    const accepted = entry ? [...entry.participants.values()].filter((p) => p.action === ACCEPT && p.userId !== r.initiator.userId) : [];
    if (!entry && state === ACCEPTED && r.action === ACCEPT && session) accepted.push({ displayName: session.displayName });
    this.acceptedBy.textContent = accepted.length ? accepted.map((p) => p.displayName).join(", ") : "Nobody yet";
    const iAccepted = r.action === ACCEPT;
    const stateName = state === WAITING ? "waiting" : state === ACCEPTED ? "accepted" : "completed";
    this.node.dataset.state = stateName;
    this.state.dataset.state = stateName;
    this.state.textContent = iAccepted ? "You accepted" : r.action === IGNORED ? "You ignored it"
      : state === WAITING ? "Waiting" : state === ACCEPTED ? "Accepted" : "Completed";
    this.waitLabel.textContent = state === WAITING ? "Waiting" : "Open for";
    this.accept.hidden = iAccepted;
    this.ignore.hidden = iAccepted;
    this.ignore.disabled = r.action === IGNORED;
    this.chat.form.hidden = !iAccepted;
    this.hint.hidden = iAccepted;
    this.chat.label.textContent = `Message to ${r.initiator.displayName}`;
    this.lines.setAttribute("aria-label", `Conversation with ${r.initiator.displayName}`);
    renderLines(this.lines, entry, 1);
    this.tick(session ? session.serverNow() : Date.now());
  }
}

// ---------------------------------------------------------------------------------- agent interaction

const STATES = { A: "Alerting", C: "Connected", I: "Disconnected" };

class InteractionItem {
  constructor(interactionId) {
    this.interactionId = interactionId;
    this.attributes = {};
    const safe = interactionId.replace(/[^A-Za-z0-9_-]/g, "_");
    this.title = el("h3", { id: `int-${safe}-title`, class: "card-title" });
    this.state = el("p", { class: "state" });
    this.type = el("dd");
    this.workgroup = el("dd");
    const error = errorBox();
    this.showError = error.show;

    const textarea = el("textarea", { id: `int-${safe}-problem`, rows: "3", maxlength: "2000" });
    const askButton = el("button", { type: "submit", class: "primary", text: "Ask a supervisor" });
    this.ask = el("form", { class: "ask", novalidate: true },
      el("label", { for: textarea.id, text: "What do you need help with?" }), textarea, askButton);
    this.askInput = textarea;
    this.ask.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = textarea.value.trim();
      if (!text) { this.showError("Describe the problem first."); textarea.focus(); return; }
      askButton.disabled = true;
      try {
        const answer = await session.request("POST", `/interactions/${encodeURIComponent(interactionId)}/agent-assistance`, { text });
        textarea.value = "";
        this.showError("");
        myRequests.add(answer.assistanceId);
        details.set(answer.assistanceId, details.get(answer.assistanceId) ||
          { interactionId, state: WAITING, participants: new Map(), lines: [] });
        holdDetails(answer.assistanceId, "agent");
        this.update();
        this.chat.input.focus();
      } catch (error) {
        this.showError(describe(error));
        textarea.focus();
      } finally {
        askButton.disabled = false;
      }
    });
    this.unavailable = el("p", { class: "hint", text: "This interaction did not come through a workgroup, so there is no supervisor to ask." });

    this.assistState = el("p", { class: "assist-state", role: "status" });
    this.lines = el("ol", { class: "chat", role: "log", "aria-label": "Conversation with supervisors", hidden: true });
    this.chat = chatForm(`int-${safe}-say`, "Message to the supervisors",
      (text) => session.request("POST", `/interactions/agent-assistance/${encodeURIComponent(this.assistanceId)}`, { text }), error.show);
    this.done = el("button", { type: "button", class: "done", text: "Done" });
    this.done.addEventListener("click", async () => {
      try {
        await session.request("DELETE", `/interactions/agent-assistance/${encodeURIComponent(this.assistanceId)}`);
        this.showError("");
        const finished = this.assistanceId;
        myRequests.delete(finished);
        releaseDetails(finished);
        this.update();
        announce("Assistance request completed.");
        this.askInput.focus();
      } catch (error) {
        this.showError(describe(error));
      }
    });
    this.assist = el("section", { class: "assist", "aria-label": "Assistance" },
      this.assistState, this.lines, this.chat.form,
      el("div", { class: "actions" }, this.done));

    const article = el("article", { class: "card-body", "aria-labelledby": this.title.id },
      el("header", { class: "card-head" }, this.title, this.state),
      el("dl", { class: "facts" },
        el("dt", { text: "Type" }), this.type,
        el("dt", { text: "Workgroup" }), this.workgroup,
        el("dt", { text: "Interaction" }), el("dd", { text: interactionId })),
      this.ask, this.unavailable, this.assist, error.box);
    this.node = el("li", { class: "card interaction", "data-interaction-id": interactionId }, article);
  }

  /** The agent's active request on this interaction, if any. */
  get assistanceId() {
    for (const id of myRequests) {
      const entry = details.get(id);
      if (entry && entry.interactionId === this.interactionId && entry.state !== COMPLETED) return id;
    }
    return null;
  }

  update() {
    const a = this.attributes;
    const state = STATES[a.Eic_State] || a.Eic_State || "";
    this.title.textContent = a.Eic_RemoteName || `Interaction ${this.interactionId}`;
    this.state.textContent = state;
    this.node.dataset.state = state.toLowerCase();
    this.type.textContent = a.Eic_ObjectType || "";
    this.workgroup.textContent = a.Eic_WorkgroupName || "None";
    const id = this.assistanceId;
    const entry = id ? details.get(id) : null;
    const live = a.Eic_State !== "I";
    this.ask.hidden = !!id || !live || !a.Eic_WorkgroupName;
    this.unavailable.hidden = !!id || !live || !!a.Eic_WorkgroupName;
    this.assist.hidden = !id;
    this.node.dataset.assistance = entry ? (entry.state === ACCEPTED ? "accepted" : "waiting") : "none";
    if (entry) {
      const helpers = [...entry.participants.values()].filter((p) => p.action === ACCEPT && p.userId !== session?.userId);
      const text = helpers.length ? `${helpers.map((p) => p.displayName).join(", ")} ${helpers.length > 1 ? "are" : "is"} helping.`
        : "Help requested: waiting for a supervisor to accept.";
      if (this.assistState.textContent !== text) this.assistState.textContent = text;
      renderLines(this.lines, entry, 0);
    }
  }
}

// ------------------------------------------------------------------------------------------------ start

function start() {
  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", () => session?.logout());
  $("show-board").addEventListener("click", () => showView("board"));
  $("show-agent").addEventListener("click", () => showView("agent"));
  $("mark-seen").addEventListener("click", () => {
    for (const id of cards.keys()) seen.add(id);
    for (const card of cards.values()) card.update();
    updateTitle();
  });
  $("resume").addEventListener("click", async () => {
    if (!session) return;
    session.watch = 1;
    showStatus();
    try { await subscribeAll(session); } catch (error) { announce(`Could not resume: ${describe(error)}`); }
  });
  for (const id of ["board-title", "agent-title"]) $(id).setAttribute("tabindex", "-1");
  setInterval(() => {
    if (!session) return;
    const now = session.serverNow();
    for (const card of cards.values()) card.tick(now);
  }, 1000);
  showLogin("");
}

start();
