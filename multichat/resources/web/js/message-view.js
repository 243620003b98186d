// The open conversation: its messages in seq order, each once, with replies,
// edits, deletions and reactions applied as their events arrive; older pages
// fetched as the person scrolls up.
//
// Each message's buttons show on hover or focus. From the keyboard the list is
// one stop (a roving tabindex): Tab reaches one message (the newest, or the
// last one visited) and then its buttons; the arrow keys, Home and End move
// between messages; Escape goes back to the text box.

import { el, clear } from "./elements.js";
import { mentionRanges } from "./mentions.js";
import { linkRanges } from "./links.js";
import { layOut, Membership } from "./timeline.js";
import { attachments } from "./files.js";

const MESSAGE = 0, ENTER = 4, LEAVE = 5, EDIT = 6, DELETE = 7, REACTION = 8;
const QUICK_REACTIONS = ["👍", "❤️", "😂"];
// How close to the top (px) a scroll must come to fetch the page before it.
const NEAR_TOP = 48;

export class MessageView {
  /**
   * actions: {reply(message), edit(message), remove(message), react(message, emoji, on),
   *           older(beforeSeq), shown(seq), escape()}
   */
  constructor(actions) {
    this.actions = actions;
    this.list = document.getElementById("messages");
    this.empty = document.getElementById("conversation-empty");
    this.messages = new Map(); // seq -> message record
    this.pendingNodes = new Map(); // client_id -> node
    this.me = "";
    this.roomId = null;
    this.atStart = false;
    this.loadingOlder = false;
    this.activeSeq = null; // the message that holds the list's one tab stop
    this.readSeq = 0;
    this.run = null;
    this.list.addEventListener("scroll", () => this.maybeFetchOlder());
    this.list.addEventListener("focusin", (event) => {
      const node = event.target.closest(".message[data-seq]");
      if (!node || Number(node.dataset.seq) === this.activeSeq) return;
      this.activeSeq = Number(node.dataset.seq);
      this.rove();
    });
    this.list.addEventListener("keydown", (event) => this.key(event));
  }

  /** readSeq: where the person had read this room (the "New messages" line goes
   * after it; 0 for none). */
  open(roomId, me, readSeq = 0) {
    this.roomId = roomId;
    this.me = me;
    this.readSeq = readSeq;
    this.run = null; // the join/leave line at the end, while nothing else follows it
    this.messages.clear();
    this.pendingNodes.clear();
    this.atStart = false;
    this.loadingOlder = false;
    this.activeSeq = null;
    clear(this.list);
    this.empty.hidden = true;
  }

  close() {
    this.roomId = null;
    this.messages.clear();
    clear(this.list);
    this.empty.hidden = false;
  }

  get newestSeq() {
    let newest = 0;
    for (const seq of this.messages.keys()) newest = Math.max(newest, seq);
    return newest;
  }

  /** The reader's newest message shown here (not deleted), or null; null too while one
   *  of theirs is still being sent, so that Up never edits the one before it. */
  lastOwn() {
    if (this.pendingNodes.size) return null;
    let last = null;
    for (const message of this.messages.values()) {
      if (message.username === this.me && message.msg_type === MESSAGE && !message.deleted
          && (last === null || message.seq > last.seq)) last = message;
    }
    return last;
  }

  get oldestSeq() {
    let oldest = Infinity;
    for (const seq of this.messages.keys()) oldest = Math.min(oldest, seq);
    return oldest === Infinity ? null : oldest;
  }

  /** A `history` page: messages as they are now, oldest first. */
  history(messages, older) {
    this.loadingOlder = false;
    if (older && messages.length === 0) this.atStart = true;
    const keepBottom = this.list.scrollHeight - this.list.scrollTop;
    const fresh = messages.filter((m) => !this.messages.has(m.seq));
    for (const message of fresh) this.add(message);
    this.layOut();
    if (older) this.list.scrollTop = this.list.scrollHeight - keepBottom;
    else this.scrollToEnd();
    this.rove();
  }

  /** A room event, live or caught up with `since`. */
  event(frame) {
    const type = frame.msg_type;
    if (type === ENTER || type === LEAVE) {
      this.notice(frame.username, type === ENTER, frame.ts);
      return;
    }
    if (type <= 3) {
      if (frame.client_id) this.settle(frame.client_id);
      if (this.messages.has(frame.seq)) return;
      const stick = this.nearEnd();
      this.add(frame);
      this.layOut();
      if (stick || frame.username === this.me) this.scrollToEnd();
      this.rove();
      return;
    }
    const target = this.messages.get(frame.target);
    if (!target) return; // a message not loaded here: history shows it as it is now
    if (type === EDIT) {
      target.message = frame.message;
      target.edited = true;
    } else if (type === DELETE) {
      target.message = null;
      target.deleted = true;
      target.files = [];
    } else if (type === REACTION) {
      const users = target.reactions.get(frame.emoji) ?? new Set();
      if (frame.on === false) users.delete(frame.username);
      else users.add(frame.username);
      if (users.size) target.reactions.set(frame.emoji, users);
      else target.reactions.delete(frame.emoji);
    }
    this.draw(target);
    this.rove();
  }

  /** What the person sent, shown greyed until the server's event confirms it. */
  pending(clientId, text, files = []) {
    if (this.pendingNodes.has(clientId)) return;
    const node = el("li", { class: "message pending", "data-client-id": clientId },
                    el("div", { class: "meta" }, el("strong", {}, this.me), " ",
                       el("span", { class: "state" }, "sending…")),
                    el("p", { class: "text" }, text),
                    files.length ? el("p", { class: "pending-files" },
                                      `📎 ${files.map((f) => f.name).join(", ")}`) : null);
    this.pendingNodes.set(clientId, node);
    this.list.append(node);
    this.scrollToEnd();
  }

  settle(clientId) {
    const node = this.pendingNodes.get(clientId);
    if (node) node.remove();
    this.pendingNodes.delete(clientId);
  }

  add(frame) {
    const message = {
      seq: frame.seq,
      username: frame.username,
      message: frame.message,
      msg_type: frame.msg_type,
      ts: frame.ts,
      reply_to: frame.reply_to ?? null,
      edited: Boolean(frame.edited),
      deleted: Boolean(frame.deleted),
      reactions: new Map(Object.entries(frame.reactions ?? {}).map(([e, u]) => [e, new Set(u)])),
      files: frame.files ?? [],
      node: el("li", { class: "message", "data-seq": frame.seq }),
    };
    this.messages.set(message.seq, message);
    // In seq order: before the first message with a higher seq, else after the last one.
    const after = [...this.list.children].find((n) => Number(n.dataset.seq) > message.seq);
    const firstPending = this.list.querySelector(".pending");
    this.list.insertBefore(message.node, after ?? firstPending ?? null);
    this.draw(message);
    this.actions.shown(message.seq);
  }

  draw(message) {
    const node = message.node;
    const mine = message.username === this.me;
    const time = message.ts ? new Date(message.ts) : null;
    const meta = el("div", { class: "meta" }, el("strong", { class: "sender" }, message.username),
                    " ",
                    time ? el("time", { datetime: message.ts, title: time.toLocaleString() },
                              time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }))
                      : null);
    const parts = [meta];
    if (message.reply_to !== null) {
      const quoted = this.messages.get(message.reply_to);
      const words = quoted
        ? `${quoted.username}: ${quoted.deleted ? "message deleted" : quoted.message ?? ""}`
        : `message ${message.reply_to}`;
      parts.push(el("blockquote", { class: "reply-quote" }, `↪ ${words.slice(0, 140)}`));
    }
    const ranges = message.deleted ? [] : mentionRanges(message.message ?? "", this.me);
    parts.push(el("div", { class: "content" }, message.deleted
      ? el("p", { class: "text deleted" }, "message deleted")
      : el("p", { class: `text type-${message.msg_type}` },
           ...decorated(message.message ?? "", ranges)),
    message.edited && !message.deleted ? el("span", { class: "edited" }, " (edited)") : null,
    message.deleted ? null : attachments(message.files)));
    if (!message.deleted) parts.push(this.reactionChips(message));
    if (!message.deleted && message.msg_type === MESSAGE) parts.push(this.buttons(message, mine));
    node.classList.toggle("mine", mine);
    node.classList.remove("confirming"); // a redraw drops an unanswered question
    node.classList.toggle("mentions-me", !mine && ranges.length > 0);
    // Redrawn under a keyboard user (their reaction came back): the focus stays put.
    const focused = node.contains(document.activeElement) && document.activeElement !== node
      ? document.activeElement.dataset.key ?? "" : null;
    node.replaceChildren(...parts);
    if (focused !== null) {
      const again = [...node.querySelectorAll("button")]
        .find((button) => button.dataset.key === focused);
      (again ?? node).focus();
    }
  }

  reactionChips(message) {
    const chips = el("div", { class: "reactions" });
    for (const [emoji, users] of message.reactions) {
      const mine = users.has(this.me);
      const chip = el("button", { type: "button", class: "chip", "aria-pressed": String(mine),
                                  "data-key": `chip ${emoji}`,
                                  title: [...users].join(", ") },
                      `${emoji} ${users.size}`);
      chip.addEventListener("click", () => this.actions.react(message, emoji, !mine));
      chips.append(chip);
    }
    return chips;
  }

  buttons(message, mine) {
    const bar = el("div", { class: "actions" });
    const add = (label, handler, name = label) => {
      const button = el("button", { type: "button", "aria-label": name, "data-key": name },
                        label);
      button.addEventListener("click", handler);
      bar.append(button);
    };
    add("Reply", () => this.actions.reply(message));
    for (const emoji of QUICK_REACTIONS) {
      const on = !(message.reactions.get(emoji)?.has(this.me));
      add(emoji, () => this.actions.react(message, emoji, on), `React ${emoji}`);
    }
    if (mine) {
      add("Edit", () => this.actions.edit(message));
      add("Delete", () => this.confirmDelete(message, bar));
    }
    return bar;
  }

  /** Deleting cannot be undone: the bar asks first, and stays until answered. */
  confirmDelete(message, bar) {
    const yes = el("button", { type: "button", class: "danger", "data-key": "Yes, delete" },
                   "Yes, delete");
    const no = el("button", { type: "button", "data-key": "Cancel" }, "Cancel");
    yes.addEventListener("click", () => this.actions.remove(message));
    no.addEventListener("click", () => {
      message.node.classList.remove("confirming");
      this.draw(message);
      this.rove();
      message.node.focus();
    });
    message.node.classList.add("confirming");
    bar.replaceChildren(el("span", { class: "question" }, "Delete this message?"), yes, no);
    yes.focus();
  }

  has(seq) {
    return this.messages.has(seq);
  }

  /** Bring a message into view, marked for a while, and give it the focus (a
   * search result opened here). */
  highlight(seq) {
    const message = this.messages.get(seq);
    if (!message) return false;
    for (const node of this.list.querySelectorAll(".highlighted")) {
      node.classList.remove("highlighted");
    }
    message.node.classList.add("highlighted");
    message.node.scrollIntoView({ block: "center" });
    this.activeSeq = seq;
    this.rove();
    message.node.focus({ preventScroll: true });
    return true;
  }

  /** The one message in the tab order (with its buttons): the one last visited, or
   * the newest. Every other message and button is reached by the arrow keys. */
  rove() {
    const nodes = this.list.querySelectorAll(".message[data-seq]");
    const active = (this.activeSeq !== null && this.messages.get(this.activeSeq)?.node)
      || nodes[nodes.length - 1];
    for (const node of nodes) {
      const on = node === active;
      node.tabIndex = on ? 0 : -1;
      for (const control of node.querySelectorAll("button, a")) control.tabIndex = on ? 0 : -1;
    }
  }

  key(event) {
    const node = event.target.closest?.(".message[data-seq]");
    if (!node) return;
    if (event.key === "Escape") {
      event.preventDefault();
      this.actions.escape();
      return;
    }
    const nodes = [...this.list.querySelectorAll(".message[data-seq]")];
    const at = nodes.indexOf(node);
    const to = { ArrowUp: at - 1, ArrowDown: at + 1, Home: 0, End: nodes.length - 1 }[event.key];
    if (to === undefined || to < 0 || to >= nodes.length) return;
    event.preventDefault();
    nodes[to].focus();
    if (to === 0) this.maybeFetchOlder();
  }

  /** Someone joined or left: one line for a run of them, never the reader's own. */
  notice(username, entered, ts) {
    if (username === this.me) return;
    const stick = this.nearEnd();
    const last = [...this.list.querySelectorAll(":scope > li:not(.pending)")].at(-1);
    if (!this.run || this.run.node !== last) {
      this.run = { node: el("li", { class: "notice", "data-ts": ts ?? "" }),
                   members: new Membership() };
      const firstPending = this.list.querySelector(":scope > .pending");
      this.list.insertBefore(this.run.node, firstPending);
    }
    this.run.members.add(username, entered);
    this.run.node.textContent = this.run.members.text;
    if (!this.run.node.textContent) {
      this.run.node.remove();
      this.run = null;
    }
    this.layOut();
    if (stick) this.scrollToEnd();
  }

  layOut() {
    layOut(this.list, (node) => (node.dataset.seq ? this.messages.get(Number(node.dataset.seq))
                                 ?? null : null), this.readSeq, this.me);
  }

  nearEnd() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  maybeFetchOlder() {
    if (this.roomId === null || this.atStart || this.loadingOlder) return;
    if (this.list.scrollTop > NEAR_TOP) return;
    const oldest = this.oldestSeq;
    if (oldest === null || oldest <= 1) {
      this.atStart = true;
      return;
    }
    this.loadingOlder = true;
    this.actions.older(oldest);
  }
}

/** Text as text nodes, with its web links as links (opened in a new tab, with
 * no opener and no referrer) and each range that names the reader in a <mark>
 * (none inside a link). Built from nodes: nothing is parsed as HTML. */
function decorated(text, mentions) {
  const links = linkRanges(text);
  const inLink = (start, end) => links.some((link) => start < link.end && end > link.start);
  const spans = [
    ...links.map((link) => ({ ...link, node: () => el("a", {
      href: link.href, target: "_blank", rel: "noopener noreferrer" },
    text.slice(link.start, link.end)) })),
    ...mentions.filter(([start, end]) => !inLink(start, end)).map(([start, end]) => ({
      start, end, node: () => el("mark", { class: "mention" }, text.slice(start, end)) })),
  ].sort((a, b) => a.start - b.start);
  const pieces = [];
  let at = 0;
  for (const span of spans) {
    pieces.push(text.slice(at, span.start), span.node());
    at = span.end;
  }
  pieces.push(text.slice(at));
  return pieces.filter((piece) => piece !== "");
}
