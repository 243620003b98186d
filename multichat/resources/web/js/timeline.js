// How the open conversation's rows are presented, as the desktop app does it
// (multichat/desktop/models/timeline.py): a date line above each day's first
// row, a "New messages" line above the first message past where the person had
// read, a message from the same sender within five minutes shown without its
// name and time (unless it names the reader: that one stands out whole), and a
// run of joins and leaves as one line that leaves out the
// reader and anyone who left and came straight back.

import { el } from "./elements.js";

const GROUP_GAP_MS = 5 * 60 * 1000;
const NAMES_SHOWN = 2;

/** "Today", "Yesterday", else the date in the person's own format. */
export function dayLabel(when, now = new Date()) {
  const day = new Date(when.getFullYear(), when.getMonth(), when.getDate());
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const days = Math.round((today - day) / 86_400_000);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  return when.toLocaleDateString([], { weekday: "long", year: "numeric", month: "long",
                                       day: "numeric" });
}

/** "alice", "alice and bob", "alice, bob and 3 others". */
export function names(list) {
  if (list.length <= NAMES_SHOWN) return list.join(" and ");
  const others = list.length - NAMES_SHOWN;
  return `${list.slice(0, NAMES_SHOWN).join(", ")} and ${others} other${others > 1 ? "s" : ""}`;
}

/** A run of joins and leaves, told as one line ("" when it comes to nothing). */
export class Membership {
  constructor() {
    this.joined = [];
    this.left = [];
  }

  /** Someone joined (`entered`) or left. Back within the same run: they never went. */
  add(username, entered) {
    const [same, other] = entered ? [this.joined, this.left] : [this.left, this.joined];
    const back = other.indexOf(username);
    if (back >= 0) other.splice(back, 1);
    else if (!same.includes(username)) same.push(username);
  }

  get text() {
    const parts = [];
    if (this.joined.length) parts.push(`${names(this.joined)} joined`);
    if (this.left.length) parts.push(`${names(this.left)} left`);
    return parts.join("; ");
  }
}

/**
 * Lay out the rows of `list` (<li> nodes in seq order): date lines, the unread
 * line past `readSeq` (none when 0: a room never read opens at its newest), and
 * the `continued` class on grouped messages. `messageOf(node)` gives a message
 * row's record ({seq, username, ts, msg_type, reply_to}), null for other rows.
 */
export function layOut(list, messageOf, readSeq, me) {
  for (const line of list.querySelectorAll(":scope > .day, :scope > .divider")) line.remove();
  let previous = null;
  let shownDay = null;
  let dividerPlaced = false;
  for (const node of [...list.children]) {
    if (node.classList.contains("pending")) continue;
    const message = messageOf(node);
    const ts = message?.ts ?? node.dataset.ts;
    const when = ts ? new Date(ts) : null;
    if (when && when.toDateString() !== shownDay) {
      shownDay = when.toDateString();
      node.before(el("li", { class: "day", role: "separator" }, dayLabel(when)));
      previous = null;
    }
    if (message && !dividerPlaced && readSeq > 0 && message.seq > readSeq
        && message.username !== me && message.msg_type <= 3) {
      node.before(el("li", { class: "divider", role: "separator" }, "New messages"));
      dividerPlaced = true;
      previous = null;
    }
    const continued = message !== null && previous !== null && message.msg_type === 0
      && previous.msg_type === 0 && previous.username === message.username
      && message.reply_to === null && !node.classList.contains("mentions-me")
      && when !== null && previous.ts
      && when - new Date(previous.ts) < GROUP_GAP_MS;
    node.classList.toggle("continued", Boolean(continued));
    previous = message;
  }
}
