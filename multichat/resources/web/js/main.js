// The composition root: builds the parts, routes each server frame to the part it
// concerns, and carries the page through logging in, choosing a room,
// reconnecting and logging out. No part talks to another but through here.

import { Connection, SESSION_REVOKED } from "./connection.js";
import { LoginForm } from "./login.js";
import { RoomList } from "./room-list.js";
import { MessageView } from "./message-view.js";
import { Composer } from "./composer.js";
import { Outbox, newClientId } from "./outbox.js";
import { Notifier } from "./notifications.js";
import { mentionRanges } from "./mentions.js";
import { SearchPanel } from "./search.js";
import { Uploads } from "./uploads.js";

const HISTORY_PAGE = 50;
const TYPING_SHOWN_MS = 5000;
const READ_DELAY_MS = 300;
const PEEK_ROOMS = 20;
const FILES_PER_MESSAGE = 10; // the protocol's limit: the rest go with the next message
const CHANGE_REF = "change:"; // the ref of a send, edit, delete or react: CHANGE_REF + client_id

const state = {
  me: null, // the logged-in username
  generation: 0, // how many sockets have opened: the outbox sends once per socket
  current: null, // the open room's id (a string, as in server frames)
  joined: false, // whether the open room is joined on this socket
  socketLoggedIn: false, // whether this socket is logged in (by the cookie or the form)
  readSent: new Map(), // room id -> the highest seq marked read
  readTimer: null,
  readWanted: 0, // the newest seq of the open room seen here
  typists: new Map(), // username -> timer
  sessionEnded: false,
  highlight: null, // the seq to show once the open room's history is in (a search result)
};

const chatView = document.getElementById("chat-view");
const statusLine = document.getElementById("connection-status");
const titleNode = document.getElementById("room-title");
const typingLine = document.getElementById("typing");
const dmError = document.getElementById("dm-error");

const connection = new Connection({ onOpen: opened, onFrame: route, onDown: down });
const login = new LoginForm(connection, enterChat);
const outbox = new Outbox();
const notifier = new Notifier((words) => setStatus(words, true));
const rooms = new RoomList(chooseRoom, showTotals);
const view = new MessageView({
  reply: (message) => composer.replyTo(message),
  edit: (message) => composer.edit(message),
  remove: (message) => command({ command: "delete", room: state.current, seq: message.seq,
                                 client_id: newClientId() }),
  react: (message, emoji, on) => command({ command: "react", room: state.current,
                                           seq: message.seq, emoji, on,
                                           client_id: newClientId() }),
  older: (before) => connection.send({ command: "history", room: state.current, before,
                                       limit: HISTORY_PAGE, ref: `older-${state.current}` }),
  shown: (seq) => markRead(seq),
  escape: () => composer.focus(),
});
const composer = new Composer({
  submit,
  typing: () => {
    if (state.joined) connection.send({ command: "typing", room: state.current });
  },
  lastOwn: () => view.lastOwn(),
  hasFiles: () => uploads.busy || uploads.ready.length > 0,
});
const uploads = new Uploads(connection, () => {});
const search = new SearchPanel({
  send: (frame) => connection.send(frame),
  currentRoom: () => state.current,
  title: (roomId) => (rooms.isDirect(roomId) ? `with ${rooms.title(roomId)}`
    : rooms.title(roomId)),
  open: (roomId, seq) => openRoom(roomId, seq),
});
const fileInput = document.getElementById("file-input");
document.getElementById("attach-button").addEventListener("click", () => fileInput.click());
fileInput.addEventListener("change", () => {
  if (fileInput.files.length) attach(fileInput.files);
  fileInput.value = "";
});
// Files dropped on the conversation, or an image pasted into the text box.
const conversation = document.getElementById("conversation");
conversation.addEventListener("dragover", (event) => {
  if (state.current !== null && event.dataTransfer?.types.includes("Files")) {
    event.preventDefault();
    conversation.classList.add("dropping");
  }
});
conversation.addEventListener("dragleave", () => conversation.classList.remove("dropping"));
conversation.addEventListener("drop", (event) => {
  conversation.classList.remove("dropping");
  if (state.current === null || !event.dataTransfer?.files.length) return;
  event.preventDefault();
  attach(event.dataTransfer.files);
});
document.getElementById("message-input").addEventListener("paste", (event) => {
  const files = [...(event.clipboardData?.files ?? [])];
  if (files.length === 0) return;
  event.preventDefault();
  attach(files);
});

document.getElementById("logout-button").addEventListener("click", logOut);
document.getElementById("dm-form").addEventListener("submit", (event) => {
  event.preventDefault();
  startDirect();
});
document.getElementById("sidebar-toggle").addEventListener("click", () => toggleSidebar());
// On a phone the list lies over the messages: a tap beside it or Escape folds it.
document.getElementById("conversation").addEventListener("click", () => toggleSidebar(false));
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && document.body.classList.contains("sidebar-open")) {
    toggleSidebar(false);
    document.getElementById("sidebar-toggle").focus();
  }
});
window.addEventListener("pagehide", () => sendRead());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    markRead(Math.max(view.newestSeq, state.readWanted));
  }
});

setStatus("Connecting…");
connection.start();

// -- the socket ------------------------------------------------------------------

function opened() {
  state.generation += 1;
  setJoined(false);
  state.socketLoggedIn = false;
  // A handshake that carried the session cookie is logged in: its first frame is
  // the login reply. Otherwise the pong comes first, and the form is shown.
  connection.send({ command: "ping", ref: "hello" });
}

function down(code) {
  setJoined(false); // what is typed meanwhile waits in the outbox
  uploads.connectionLost();
  if (code === SESSION_REVOKED) {
    loggedOut("You were logged out.");
    connection.start();
    return;
  }
  setStatus(state.me ? "Connection lost. Reconnecting…" : "Connecting…");
}

function route(frame) {
  if ("error" in frame) return failed(frame);
  if (uploads.owns(frame)) {
    if ("upload" in frame) uploads.accepted(frame);
    else if ("file" in frame) uploads.finished(frame);
    return;
  }
  if ("search" in frame && search.owns(frame)) return search.answered(frame);
  if ("msg_type" in frame) return roomEvent(frame);
  if ("login" in frame) {
    if (frame.ref === "login") login.loggedIn(frame);
    else enterChat(frame.login);
    return;
  }
  if ("session.ticket" in frame) return login.ticket(frame);
  if ("pong" in frame) {
    if (frame.ref !== "hello" || state.socketLoggedIn) return;
    if (state.me === null) {
      setStatus(null);
      login.show(state.sessionEnded ? "Your session has ended. Log in again." : "");
    } else {
      // Was logged in, but this socket is not (the cookie is gone): ask again.
      loggedOut("Your session has ended. Log in again.");
    }
    return;
  }
  if ("rooms" in frame) return roomsChanged(frame.rooms, frame.ref);
  if ("join" in frame) return joined(frame.join);
  if ("history" in frame) {
    if (String(frame.ref ?? "").startsWith("peek-")) return peeked(frame);
    if (frame.history !== state.current) return;
    const older = String(frame.ref ?? "").startsWith("older-");
    view.history(frame.messages, older);
    if (frame.ref === `initial-${frame.history}`) {
      if (state.highlight !== null && !view.highlight(state.highlight)) {
        setStatus("That message is no longer there.", true);
      }
      state.highlight = null;
      connection.send({ command: "join", room: frame.history, since: view.newestSeq });
    }
    return;
  }
  if ("activity" in frame) return activity(frame);
  if ("read" in frame) return rooms.readElsewhere(frame.read, frame.seq, frame.unread);
  if ("typing" in frame) return typing(frame);
  if ("leave" in frame) {
    if (frame.leave === state.current && frame.ref === undefined) closeRoom();
    return;
  }
  if ("logout" in frame) return finishLogout();
  if ("dm" in frame) return directOpened(frame.dm);
  // members, dm, account and whatever a newer server adds: nothing to show here.
}

function failed(frame) {
  if (login.refused(frame)) return;
  if (uploads.owns(frame)) return uploads.failed(frame);
  if (search.owns(frame)) return search.failed(frame);
  if (frame.ref === "dm") {
    dmError.textContent = frame.error === "USER_INVALID"
      ? `No one here is called that${frame.detail ? ` (${frame.detail})` : ""}.`
      : frame.error === "RATE_LIMITED" ? "Too many new conversations: wait a while."
        : frame.detail ?? "That conversation cannot be started.";
    return;
  }
  if (String(frame.ref ?? "").startsWith(CHANGE_REF) && frame.error !== "RATE_LIMITED") {
    refusedChange(frame);
    if (frame.error === "MESSAGE_TOO_LONG") return;
  }
  if (frame.error === "LOGIN_FAILED" && frame.ref === undefined) {
    state.sessionEnded = true; // the cookie names a revoked session; the pong follows
    return;
  }
  if (frame.error === "ROOM_INVALID" || frame.error === "ROOM_ACCESS_DENIED") closeRoom();
  setStatus(frame.detail ?? frame.error, true);
}

// -- logging in and out ----------------------------------------------------------

function enterChat(user) {
  state.socketLoggedIn = true;
  state.me = user.username;
  state.sessionEnded = false;
  login.hide();
  chatView.hidden = false;
  document.getElementById("me").textContent = user.username;
  setStatus(null);
  connection.send({ command: "rooms", ref: "rooms" });
  uploads.resume();
  if (state.current !== null) {
    // Back after a reconnect: what was missed comes after the join reply, in order.
    connection.send({ command: "join", room: state.current, since: view.newestSeq });
  }
}

function logOut() {
  if (!connection.send({ command: "logout", ref: "logout" })) {
    setStatus("Not connected: cannot log out now.", true);
  }
}

async function finishLogout() {
  try {
    await fetch("/logout", { credentials: "same-origin", cache: "no-store" });
  } catch {
    // The session is revoked already; a stale cookie logs nobody in.
  }
  loggedOut("");
}

function loggedOut(words) {
  state.me = null;
  state.current = null;
  showInAddress(null);
  setJoined(false);
  state.readSent.clear();
  outbox.clear();
  uploads.clear();
  search.reset();
  composer.forget();
  view.close();
  rooms.setRooms([], "");
  chatView.hidden = true;
  titleNode.textContent = "Multichat";
  setStatus(null);
  login.show(words);
}

// -- rooms -------------------------------------------------------------------------

function roomsChanged(entries, ref) {
  rooms.setRooms(entries, state.me ?? "");
  if (ref === "rooms") peekForMentions();
  if (ref === "rooms" && state.current === null) {
    // A reload (or a link) names the room that was open: back in it, ready to write.
    const named = /^#room=(\w+)$/.exec(location.hash)?.[1];
    if (named && rooms.has(named)) chooseRoom(named);
    // Nothing to come back to: on a phone the list is the first thing to see
    // (a wide window shows it anyway), as in any chat app.
    else toggleSidebar(true);
  }
  if (state.current !== null && !rooms.has(state.current)) closeRoom();
  else if (state.current !== null) titleNode.textContent = rooms.title(state.current);
}

/** The room list counts unread messages but not mentions: at login, read the
 * unread messages of a few rooms to count those that name this person. */
function peekForMentions() {
  for (const roomId of rooms.withUnread().slice(0, PEEK_ROOMS)) {
    connection.send({ command: "history", room: roomId, ref: `peek-${roomId}`,
                      limit: Math.min(rooms.unread(roomId), HISTORY_PAGE) });
  }
}

function peeked(frame) {
  const naming = frame.messages.filter((m) => m.msg_type <= 3 && m.username !== state.me
    && mentionRanges(m.message ?? "", state.me ?? "").length > 0);
  rooms.mentionsFound(frame.history, naming.map((m) => m.seq));
}

/** Open a room; at a given message (a search result) when `at` is a seq. */
function openRoom(roomId, at = null) {
  toggleSidebar(false);
  if (roomId === state.current && (at === null || view.highlight(at))) return;
  if (roomId === state.current && state.joined) {
    // Here, but that message is not loaded: load the room again around it.
    sendRead();
    connection.send({ command: "leave", room: roomId, ref: "reopen" });
  } else if (state.current !== null && state.joined) {
    sendRead();
    connection.send({ command: "leave", room: state.current });
  }
  state.current = roomId;
  showInAddress(roomId);
  setJoined(false);
  state.readWanted = 0;
  rooms.select(roomId);
  titleNode.textContent = rooms.title(roomId);
  typingLine.textContent = "";
  state.highlight = at;
  view.open(roomId, state.me, rooms.unread(roomId) > 0 ? rooms.readSeq(roomId) : 0);
  composer.switchTo(roomId);
  composer.enable(true);
  for (const pending of outbox.forRoom(roomId)) {
    if (pending.command === "send") view.pending(pending.client_id, pending.message);
  }
  const page = { command: "history", room: roomId, limit: HISTORY_PAGE,
                 ref: `initial-${roomId}` };
  if (at !== null) page.around = at;
  connection.send(page);
}

/** A room chosen in the list: opened, ready to write in, as a chat app does; not on a
 * touch screen, where the keyboard would come up over the messages. */
function chooseRoom(roomId) {
  openRoom(roomId);
  if (window.matchMedia("(pointer: fine)").matches) composer.focus();
}

/** The open room in the page's address (`#room=ID`), so that a reload comes back to
 * it; no new history entry for each room. */
function showInAddress(roomId) {
  const wanted = roomId === null ? location.pathname + location.search : `#room=${roomId}`;
  if ((roomId === null && location.hash) || (roomId !== null && location.hash !== wanted)) {
    history.replaceState(null, "", wanted);
  }
}

function closeRoom() {
  state.current = null;
  showInAddress(null);
  setJoined(false);
  rooms.select(null);
  view.close();
  composer.switchTo(null);
  composer.enable(false);
  titleNode.textContent = "Multichat";
}

/** Whether the open room is joined; its history is `aria-busy` until then (and
 * while reconnecting), which assistive technology and the tests both read. */
function setJoined(flag) {
  state.joined = flag;
  document.getElementById("messages").setAttribute("aria-busy", String(!flag));
}

function joined(roomId) {
  if (roomId !== state.current) return;
  setJoined(true);
  composer.enable(true);
  outbox.flush(roomId, connection, state.generation);
  markRead(Math.max(view.newestSeq, state.readWanted));
}

function roomEvent(frame) {
  if (frame.client_id) outbox.settle(frame.client_id);
  if (frame.room !== state.current) return;
  view.event(frame);
  if (frame.seq !== undefined) {
    // A message not from this person, while the page is hidden: unread until seen.
    const unseen = frame.msg_type <= 3 && frame.username !== state.me
      && document.visibilityState !== "visible";
    rooms.seen(frame.room, frame.seq, {
      unread: unseen,
      mention: unseen && mentionRanges(frame.message ?? "", state.me ?? "").length > 0,
    });
    markRead(frame.seq); // edits and reactions too: they count in last_seq
  }
  if (frame.msg_type <= 3 || frame.msg_type === 5) stopTyping(frame.username);
  if (frame.msg_type <= 3 && frame.username !== state.me) {
    notifier.notify(noticeTitle(frame.room, frame.username), frame.message ?? "", frame.room,
                    () => {});
  }
}

/** New messages in a room not open here: counted; told when they are in a direct
 * conversation or name this person (the text is not sent: the notice says who). */
function activity(frame) {
  rooms.activity(frame);
  if (frame.username === state.me) return;
  if (!frame.mention && !rooms.isDirect(frame.activity)) return;
  notifier.notify(noticeTitle(frame.activity, frame.username),
                  frame.mention ? "mentioned you" : "sent you a message", frame.activity,
                  () => openRoom(frame.activity), { otherRoom: true });
}

function noticeTitle(roomId, username) {
  return rooms.isDirect(roomId) ? username : `${username} in ${rooms.title(roomId)}`;
}

/** The person has seen the open room up to seq: its badge clears now, and the
 * server hears of it for their other devices: at most every READ_DELAY_MS (a
 * room busier than that is still told), and at once when they leave the room. */
function markRead(seq) {
  const roomId = state.current;
  if (roomId === null || !seq || document.visibilityState !== "visible") return;
  state.readWanted = Math.max(state.readWanted, seq);
  rooms.readHere(roomId, seq);
  if ((state.readSent.get(roomId) ?? 0) >= state.readWanted) return;
  if (state.readTimer === null) state.readTimer = setTimeout(sendRead, READ_DELAY_MS);
}

function sendRead() {
  clearTimeout(state.readTimer);
  state.readTimer = null;
  const roomId = state.current;
  const newest = state.readWanted;
  if (roomId === null || !state.joined || (state.readSent.get(roomId) ?? 0) >= newest) return;
  if (connection.send({ command: "read", room: roomId, seq: newest })) {
    state.readSent.set(roomId, newest);
  }
}

/** "Start a conversation with": the names typed (commas or spaces between, an @ is fine). */
function startDirect() {
  const input = document.getElementById("dm-users");
  const users = input.value.split(/[\s,]+/).map((name) => name.replace(/^@/, ""))
    .filter(Boolean);
  dmError.textContent = "";
  if (users.length === 0) {
    dmError.textContent = "Type the name of the person to write to.";
    return;
  }
  if (!connection.send({ command: "dm.open", users, ref: "dm" })) {
    dmError.textContent = "Not connected: try again in a moment.";
  }
}

/** The conversation exists (the room list that holds it came first): open it. */
function directOpened(entry) {
  document.getElementById("dm-users").value = "";
  if (!rooms.has(entry.id)) rooms.setRooms([...rooms.entries(), entry], state.me ?? "");
  openRoom(entry.id);
  composer.focus();
}

// -- sending -----------------------------------------------------------------------

function submit(text, context) {
  const roomId = state.current;
  if (roomId === null) return false;
  if (!context?.edit && uploads.busy) {
    setStatus("Wait for the files to finish uploading, or cancel them.", true);
    return false;
  }
  const client_id = newClientId();
  if (context?.edit) {
    command({ command: "edit", room: roomId, seq: context.edit.seq, message: text, client_id });
    return;
  }
  const send = { command: "send", room: roomId, message: text, client_id };
  if (context?.reply) send.reply_to = context.reply.seq;
  const files = uploads.readyFiles.slice(0, FILES_PER_MESSAGE);
  if (files.length) send.files = files.map((file) => file.id);
  uploads.sent(files);
  view.pending(client_id, text, files);
  command(send);
  return true;
}

/** Files chosen, dropped or pasted: up they go, to be sent with the next message. */
function attach(files) {
  if (state.current === null) return;
  uploads.add([...files]);
  composer.focus();
}

/** A change the person made: kept until confirmed, sent now if the room is joined.
 * Its ref names it, so that a refusal finds it (see refusedChange). */
function command(change) {
  change.ref = `${CHANGE_REF}${change.client_id}`;
  outbox.add(change);
  if (state.joined) outbox.flush(state.current, connection, state.generation);
}

/** The server refused a change for good (a message too long, one gone): it leaves the
 * outbox (it would be refused again at every reconnect) and its "sending…" line;
 * a message's text goes back to the text box rather than being lost. */
function refusedChange(frame) {
  const clientId = frame.ref.slice(CHANGE_REF.length);
  const change = outbox.get(clientId);
  outbox.settle(clientId);
  view.settle(clientId);
  if (change?.command === "send" && change.message) {
    composer.giveBack(String(change.room), change.message);
  }
  if (frame.error === "MESSAGE_TOO_LONG") {
    const limit = frame.detail ? `: ${frame.detail}` : "";
    setStatus(change?.command === "send"
      ? `That message is too long${limit}. It is back in the text box.`
      : `That edit is too long${limit}. The message is unchanged.`, true);
  }
}

// -- typing ------------------------------------------------------------------------

function typing(frame) {
  if (frame.typing !== state.current || frame.username === state.me) return;
  clearTimeout(state.typists.get(frame.username));
  state.typists.set(frame.username, setTimeout(() => stopTyping(frame.username),
                                               TYPING_SHOWN_MS));
  showTypists();
}

function stopTyping(username) {
  if (!state.typists.has(username)) return;
  clearTimeout(state.typists.get(username));
  state.typists.delete(username);
  showTypists();
}

function showTypists() {
  const names = [...state.typists.keys()];
  typingLine.textContent = names.length === 0 ? ""
    : names.length === 1 ? `${names[0]} is typing…`
      : `${names.slice(0, -1).join(", ")} and ${names.at(-1)} are typing…`;
}

// -- the page ----------------------------------------------------------------------

/** The tab says what waits: "(3) Multichat", "(@1 · 3) Multichat". */
function showTotals({ unread, mentions }) {
  const waiting = mentions ? `@${mentions} · ${unread}` : unread ? String(unread) : "";
  document.title = waiting ? `(${waiting}) Multichat` : "Multichat";
}

function setStatus(words, isError = false) {
  statusLine.hidden = !words;
  statusLine.textContent = words ?? "";
  statusLine.classList.toggle("error", isError);
  if (isError) {
    clearTimeout(setStatus.timer);
    setStatus.timer = setTimeout(() => setStatus(null), 6000);
  }
}

function toggleSidebar(open) {
  const show = open ?? !document.body.classList.contains("sidebar-open");
  document.body.classList.toggle("sidebar-open", show);
  document.getElementById("sidebar-toggle").setAttribute("aria-expanded", String(show));
}
