// The open conversation: its messages in seq order, each once, with replies,
// edits, deletions and reactions applied as their events arrive; older pages
// fetched as the person scrolls up.

import { el, clear } from "./elements.js";

const MESSAGE = 0, ENTER = 4, LEAVE = 5, EDIT = 6, DELETE = 7, REACTION = 8;
const QUICK_REACTIONS = ["👍", "❤️", "😂"];
// How close to the top (px) a scroll must come to fetch the page before it.
const NEAR_TOP = 48;

export class MessageView {
  /**
   * actions: {reply(message), edit(message), remove(message), react(message, emoji, on),
   *           older(beforeSeq), shown(seq)}
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
    this.list.addEventListener("scroll", () => this.maybeFetchOlder());
  }

  open(roomId, me) {
    this.roomId = roomId;
    this.me = me;
    this.messages.clear();
    this.pendingNodes.clear();
    this.atStart = false;
    this.loadingOlder = false;
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
    if (older) this.list.scrollTop = this.list.scrollHeight - keepBottom;
    else this.scrollToEnd();
  }

  /** A room event, live or caught up with `since`. */
  event(frame) {
    const type = frame.msg_type;
    if (type === ENTER || type === LEAVE) {
      this.notice(frame.username, type === ENTER ? "joined" : "left");
      return;
    }
    if (type <= 3) {
      if (frame.client_id) this.settle(frame.client_id);
      if (this.messages.has(frame.seq)) return;
      const stick = this.nearEnd();
      this.add(frame);
      if (stick || frame.username === this.me) this.scrollToEnd();
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
    } else if (type === REACTION) {
      const users = target.reactions.get(frame.emoji) ?? new Set();
      if (frame.on === false) users.delete(frame.username);
      else users.add(frame.username);
      if (users.size) target.reactions.set(frame.emoji, users);
      else target.reactions.delete(frame.emoji);
    }
    this.draw(target);
  }

  /** What the person sent, shown greyed until the server's event confirms it. */
  pending(clientId, text) {
    if (this.pendingNodes.has(clientId)) return;
    const node = el("li", { class: "message pending", "data-client-id": clientId },
                    el("div", { class: "meta" }, el("strong", {}, this.me), " ",
                       el("span", { class: "state" }, "sending…")),
                    el("p", { class: "text" }, text));
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
                      : null,
                    message.edited && !message.deleted ? el("span", { class: "edited" }, " (edited)")
                      : null);
    const parts = [meta];
    if (message.reply_to !== null) {
      const quoted = this.messages.get(message.reply_to);
      const words = quoted
        ? `${quoted.username}: ${quoted.deleted ? "message deleted" : quoted.message ?? ""}`
        : `message ${message.reply_to}`;
      parts.push(el("blockquote", { class: "reply-quote" }, `↪ ${words.slice(0, 140)}`));
    }
    parts.push(message.deleted
      ? el("p", { class: "text deleted" }, "message deleted")
      : el("p", { class: `text type-${message.msg_type}` }, message.message ?? ""));
    if (!message.deleted) parts.push(this.reactionChips(message));
    if (!message.deleted && message.msg_type === MESSAGE) parts.push(this.buttons(message, mine));
    node.classList.toggle("mine", mine);
    node.replaceChildren(...parts);
  }

  reactionChips(message) {
    const chips = el("div", { class: "reactions" });
    for (const [emoji, users] of message.reactions) {
      const mine = users.has(this.me);
      const chip = el("button", { type: "button", class: "chip", "aria-pressed": String(mine),
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
      const button = el("button", { type: "button", "aria-label": name }, label);
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
      add("Delete", () => this.actions.remove(message));
    }
    return bar;
  }

  notice(username, what) {
    this.list.append(el("li", { class: "notice" }, `${username} ${what}`));
    if (this.nearEnd()) this.scrollToEnd();
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
