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

const HISTORY_PAGE = 50;
const TYPING_SHOWN_MS = 5000;
const READ_DELAY_MS = 300;

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
};

const chatView = document.getElementById("chat-view");
const statusLine = document.getElementById("connection-status");
const titleNode = document.getElementById("room-title");
const typingLine = document.getElementById("typing");

const connection = new Connection({ onOpen: opened, onFrame: route, onDown: down });
const login = new LoginForm(connection, enterChat);
const outbox = new Outbox();
const notifier = new Notifier();
const rooms = new RoomList(openRoom);
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
});
const composer = new Composer({ submit, typing: () => {
  if (state.joined) connection.send({ command: "typing", room: state.current });
} });

document.getElementById("logout-button").addEventListener("click", logOut);
document.getElementById("sidebar-toggle").addEventListener("click", () => toggleSidebar());
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
  state.joined = false;
  state.socketLoggedIn = false;
  // A handshake that carried the session cookie is logged in: its first frame is
  // the login reply. Otherwise the pong comes first, and the form is shown.
  connection.send({ command: "ping", ref: "hello" });
}

function down(code) {
  state.joined = false; // what is typed meanwhile waits in the outbox
  if (code === SESSION_REVOKED) {
    loggedOut("You were logged out.");
    connection.start();
    return;
  }
  setStatus(state.me ? "Connection lost. Reconnecting…" : "Connecting…");
}

function route(frame) {
  if ("error" in frame) return failed(frame);
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
  if ("rooms" in frame) return roomsChanged(frame.rooms);
  if ("join" in frame) return joined(frame.join);
  if ("history" in frame) {
    if (frame.history !== state.current) return;
    const older = String(frame.ref ?? "").startsWith("older-");
    view.history(frame.messages, older);
    if (frame.ref === `initial-${frame.history}`) {
      connection.send({ command: "join", room: frame.history, since: view.newestSeq });
    }
    return;
  }
  if ("activity" in frame) return activity(frame);
  if ("read" in frame) return rooms.read(frame.read, frame.seq);
  if ("typing" in frame) return typing(frame);
  if ("leave" in frame) {
    if (frame.leave === state.current && frame.ref === undefined) closeRoom();
    return;
  }
  if ("logout" in frame) return finishLogout();
  // members, dm, account and whatever a newer server adds: nothing to show here.
}

function failed(frame) {
  if (login.refused(frame)) return;
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
  state.joined = false;
  state.readSent.clear();
  outbox.clear();
  view.close();
  rooms.setRooms([], "");
  chatView.hidden = true;
  titleNode.textContent = "Multichat";
  setStatus(null);
  login.show(words);
}

// -- rooms -------------------------------------------------------------------------

function roomsChanged(entries) {
  rooms.setRooms(entries, state.me ?? "");
  if (state.current !== null && !rooms.has(state.current)) closeRoom();
  else if (state.current !== null) titleNode.textContent = rooms.title(state.current);
}

function openRoom(roomId) {
  toggleSidebar(false);
  if (roomId === state.current) return;
  if (state.current !== null && state.joined) {
    connection.send({ command: "leave", room: state.current });
  }
  state.current = roomId;
  state.joined = false;
  state.readWanted = 0;
  rooms.select(roomId);
  titleNode.textContent = rooms.title(roomId);
  typingLine.textContent = "";
  view.open(roomId, state.me);
  composer.enable(true);
  for (const pending of outbox.forRoom(roomId)) {
    if (pending.command === "send") view.pending(pending.client_id, pending.message);
  }
  connection.send({ command: "history", room: roomId, limit: HISTORY_PAGE,
                    ref: `initial-${roomId}` });
}

function closeRoom() {
  state.current = null;
  state.joined = false;
  rooms.select(null);
  view.close();
  composer.enable(false);
  titleNode.textContent = "Multichat";
}

function joined(roomId) {
  if (roomId !== state.current) return;
  state.joined = true;
  composer.enable(true);
  outbox.flush(roomId, connection, state.generation);
  markRead(Math.max(view.newestSeq, state.readWanted));
}

function roomEvent(frame) {
  if (frame.client_id) outbox.settle(frame.client_id);
  if (frame.room !== state.current) return;
  view.event(frame);
  if (frame.seq !== undefined) {
    rooms.seen(frame.room, frame.seq);
    markRead(frame.seq); // edits and reactions too: they count in last_seq
  }
  if (frame.msg_type <= 3 || frame.msg_type === 5) stopTyping(frame.username);
  if (frame.msg_type <= 3 && frame.username !== state.me) {
    notifier.notify(`${frame.username} in ${rooms.title(frame.room)}`, frame.message ?? "",
                    frame.room, () => {});
  }
}

function activity(frame) {
  rooms.activity(frame);
  if (frame.mention || rooms.isDirect(frame.activity)) {
    const what = frame.mention ? "mentioned you" : "sent you a message";
    notifier.notify(`${frame.username} in ${rooms.title(frame.activity)}`,
                    `${frame.username} ${what}`, frame.activity,
                    () => openRoom(frame.activity));
  }
}

/** The person has seen the open room up to seq: its badge clears now, and the
 * server hears of it (the newest seq seen, once it settles) for their other devices. */
function markRead(seq) {
  const roomId = state.current;
  if (roomId === null || !seq || document.visibilityState !== "visible") return;
  state.readWanted = Math.max(state.readWanted, seq);
  rooms.read(roomId, seq);
  if ((state.readSent.get(roomId) ?? 0) >= state.readWanted) return;
  clearTimeout(state.readTimer);
  state.readTimer = setTimeout(() => {
    const newest = state.readWanted;
    if (state.current !== roomId || !state.joined) return;
    if ((state.readSent.get(roomId) ?? 0) >= newest) return;
    state.readSent.set(roomId, newest);
    connection.send({ command: "read", room: roomId, seq: newest });
  }, READ_DELAY_MS);
}

// -- sending -----------------------------------------------------------------------

function submit(text, context) {
  const roomId = state.current;
  if (roomId === null) return;
  const client_id = newClientId();
  if (context?.edit) {
    command({ command: "edit", room: roomId, seq: context.edit.seq, message: text, client_id });
    return;
  }
  const send = { command: "send", room: roomId, message: text, client_id };
  if (context?.reply) send.reply_to = context.reply.seq;
  view.pending(client_id, text);
  command(send);
}

/** A change the person made: kept until confirmed, sent now if the room is joined. */
function command(change) {
  outbox.add(change);
  if (state.joined) outbox.flush(state.current, connection, state.generation);
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
