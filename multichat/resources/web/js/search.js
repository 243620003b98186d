// The search panel: a query, this room or everywhere, newest results first with
// the matching words marked, "More results" for the next page, and a click or
// Enter on a result to open its room at that message. Ctrl+K or "/" opens it.

import { el, clear } from "./elements.js";
import { matchRanges } from "./words.js";

const PAGE = 20;
const REF_PREFIX = "search-";
const EXCERPT = 300;

const REFUSALS = {
  LIMIT_REACHED: "That search took too long: add letters or words, or search this room only.",
  RATE_LIMITED: "Too many searches at once: wait a moment and try again.",
  BAD_REQUEST: "Type one to eight words to search for (200 characters at most).",
  ROOM_INVALID: "This room cannot be searched.",
  ROOM_ACCESS_DENIED: "This room cannot be searched.",
};

export class SearchPanel {
  /**
   * send(command): false when not connected.
   * currentRoom(): the open room's id or null. title(roomId): its name.
   * open(roomId, seq): show that message in its room.
   */
  constructor({ send, currentRoom, title, open }) {
    this.send = send;
    this.currentRoom = currentRoom;
    this.title = title;
    this.openAt = open;
    this.panel = document.getElementById("search-panel");
    this.form = document.getElementById("search-form");
    this.input = document.getElementById("search-input");
    this.scope = document.getElementById("search-scope");
    this.results = document.getElementById("search-results");
    this.more = document.getElementById("search-more");
    this.status = document.getElementById("search-status");
    this.button = document.getElementById("search-button");
    this.asked = null; // {ref, query, room} of the newest search sent
    this.counter = 0;
    this.button.addEventListener("click", () => (this.panel.hidden ? this.show() : this.hide()));
    document.getElementById("search-close").addEventListener("click", () => this.hide());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.search();
    });
    this.more.addEventListener("click", () => this.search(this.asked?.next));
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.hide();
      }
    });
    document.addEventListener("keydown", (event) => {
      if (document.getElementById("chat-view").hidden) return;
      const typing = event.target.closest?.("input, textarea, select, [contenteditable]");
      if (((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k")
          || (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey)) {
        event.preventDefault();
        this.show();
      }
    });
  }

  show() {
    const room = this.currentRoom();
    this.scope.querySelector("option[value='room']").disabled = room === null;
    if (room === null) this.scope.value = "all";
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.input.focus();
    this.input.select();
  }

  hide() {
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    this.button.focus();
  }

  /** Logged out: nothing of the last search stays. */
  reset() {
    this.panel.hidden = true;
    this.input.value = "";
    this.asked = null;
    clear(this.results);
    this.more.hidden = true;
    this.status.textContent = "";
  }

  /** A new search (before undefined) or its next page. */
  search(before) {
    const paging = before !== undefined;
    const query = paging ? this.asked.query : this.input.value.trim();
    const room = paging ? this.asked.room
      : this.scope.value === "room" ? this.currentRoom() : null;
    if (!query) {
      this.status.textContent = "Type a word to search for.";
      return;
    }
    this.counter += 1;
    const ref = `${REF_PREFIX}${this.counter}`;
    const command = { command: "search", query, limit: PAGE, ref };
    if (room !== null) command.room = room;
    if (paging) command.before = before;
    if (!this.send(command)) {
      this.status.textContent = "Not connected: try again in a moment.";
      return;
    }
    this.asked = { ref, query, room, next: null };
    this.more.hidden = true;
    if (!paging) clear(this.results);
    this.status.textContent = "Searching…";
  }

  owns(frame) {
    return String(frame.ref ?? "").startsWith(REF_PREFIX);
  }

  /** {search, results, more, next}: added under what is shown. */
  answered(frame) {
    if (frame.ref !== this.asked?.ref) return; // an older search's answer
    this.asked.next = frame.more ? frame.next : null;
    for (const result of frame.results) this.results.append(this.row(result));
    const count = this.results.children.length;
    this.status.textContent = count === 0 ? "No messages found."
      : `${count} message${count === 1 ? "" : "s"}${frame.more ? " so far" : ""}.`;
    this.more.hidden = !frame.more;
  }

  failed(frame) {
    if (frame.ref !== this.asked?.ref) return;
    this.status.textContent = REFUSALS[frame.error] ?? frame.detail ?? "The search failed.";
  }

  row(result) {
    const time = result.ts ? new Date(result.ts) : null;
    const text = (result.message ?? "").slice(0, EXCERPT);
    const fileNames = (result.files ?? []).map((file) => file.name).join(", ");
    const button = el("button", { type: "button", class: "search-result",
                                  "data-room": result.room, "data-seq": result.seq },
                      el("span", { class: "meta" },
                         el("span", { class: "result-room" }, this.title(result.room) || "?"),
                         " · ", el("strong", { class: "sender" }, result.username), " · ",
                         time ? el("time", { datetime: result.ts },
                                   time.toLocaleString([], { dateStyle: "medium",
                                                             timeStyle: "short" })) : null),
                      el("span", { class: "result-text" },
                         ...marked(text, this.asked.query)),
                      fileNames ? el("span", { class: "result-files" }, `📎 ${fileNames}`) : null);
    button.addEventListener("click", () => {
      // Out of the way (it lies over the messages); the search button brings it back.
      this.panel.hidden = true;
      this.button.setAttribute("aria-expanded", "false");
      this.openAt(result.room, result.seq);
    });
    return el("li", {}, button);
  }
}

/** Text as text nodes, each word that matched the query in a <mark>. */
function marked(text, query) {
  const pieces = [];
  let at = 0;
  for (const [start, end] of matchRanges(text, query)) {
    if (start > at) pieces.push(text.slice(at, start));
    pieces.push(el("mark", {}, text.slice(start, end)));
    at = end;
  }
  if (at < text.length) pieces.push(text.slice(at));
  return pieces;
}
