// The rooms and direct conversations the user may see, each a button named by its
// title, with its unread and mention counts beside it. The counts are the
// server's: `unread` of the room list, `count` of each activity frame, `unread`
// of a read marker set on another device (docs/protocol.md, "Read markers",
// "Activity"); last_seq - read_seq only for an older server, which sends none.

import { el, clear } from "./elements.js";

export class RoomList {
  /** onOpen(roomId): the person chose a room; onCounts({unread, mentions}): the
   * totals over every room changed (or may have). */
  constructor(onOpen, onCounts = () => {}) {
    this.onOpen = onOpen;
    this.onCounts = onCounts;
    // id -> {id, title, kind, members, last_seq, read_seq, unread, mentions}
    this.rooms = new Map();
    this.me = "";
    this.current = null;
    this.roomList = document.getElementById("room-list");
    this.directList = document.getElementById("direct-list");
  }

  /** A `rooms` frame: the whole list, as the server sees it now. */
  setRooms(entries, me) {
    this.me = me;
    const old = this.rooms;
    this.rooms = new Map();
    for (const entry of entries) {
      const before = old.get(entry.id);
      const last = entry.last_seq ?? 0, read = entry.read_seq ?? 0;
      const room = {
        ...entry,
        kind: entry.kind ?? "room",
        last_seq: last,
        read_seq: read,
        unread: entry.unread ?? Math.max(0, last - read),
        mentions: before?.mentions ?? 0,
      };
      // Events this page saw after the server made the list still count.
      if (before && before.last_seq > last) {
        room.last_seq = before.last_seq;
        room.unread = before.read_seq >= before.last_seq ? 0 : Math.max(room.unread, before.unread);
      }
      if (room.unread === 0) room.mentions = 0;
      this.rooms.set(entry.id, room);
    }
    this.render();
  }

  /** The title a person sees: a direct conversation is named by its other members. */
  title(roomId) {
    const room = this.rooms.get(roomId);
    if (!room) return "";
    if (room.kind === "direct" && Array.isArray(room.members)) {
      const others = room.members.filter((name) => name !== this.me);
      return others.length ? others.join(", ") : room.title;
    }
    return room.title;
  }

  /** The entries as the room list gave them (with what this page counted since). */
  entries() {
    return [...this.rooms.values()];
  }

  has(roomId) {
    return this.rooms.has(roomId);
  }

  isDirect(roomId) {
    return this.rooms.get(roomId)?.kind === "direct";
  }

  /** An `activity` frame: `count` new messages (one for an older server) in a room
   * not joined here, `mention` when one of them names this user. */
  activity(frame) {
    const room = this.rooms.get(frame.activity);
    if (!room || frame.seq <= room.read_seq) return;
    room.last_seq = Math.max(room.last_seq, frame.seq);
    room.unread += frame.count ?? 1;
    if (frame.mention) room.mentions += 1;
    this.render();
  }

  /** A stored event of the open room, shown here. `unread`: a message the person has
   * not seen yet (the page is hidden); `mention`: and it names them. */
  seen(roomId, seq, { unread = false, mention = false } = {}) {
    const room = this.rooms.get(roomId);
    if (!room || seq <= room.last_seq) return;
    room.last_seq = seq;
    if (unread) room.unread += 1;
    if (unread && mention) room.mentions += 1;
    this.render();
  }

  /** The open room, in view, read here up to seq: it shows every message it has, so
   * none is left unread (the server, told seq, agrees). */
  readHere(roomId, seq) {
    const room = this.rooms.get(roomId);
    if (!room || (seq <= room.read_seq && room.unread === 0 && room.mentions === 0)) return;
    room.read_seq = Math.max(room.read_seq, seq);
    room.last_seq = Math.max(room.last_seq, seq);
    room.unread = 0;
    room.mentions = 0;
    this.render();
  }

  /** A `read` push: another of this user's devices read up to seq, and the server
   * says how many are left (`unread`; an older server does not). */
  readElsewhere(roomId, seq, unread) {
    const room = this.rooms.get(roomId);
    if (!room || seq < room.read_seq) return;
    room.read_seq = seq;
    room.last_seq = Math.max(room.last_seq, seq);
    room.unread = unread ?? Math.max(0, room.last_seq - seq);
    room.mentions = Math.min(room.mentions, room.unread);
    this.render();
  }

  /** The rooms with unread messages, most unread first. */
  withUnread() {
    return [...this.rooms.values()].filter((room) => room.unread > 0)
      .sort((a, b) => b.unread - a.unread).map((room) => room.id);
  }

  /** Unread messages (by seq) found to name this person, reading a room's history. */
  mentionsFound(roomId, seqs) {
    const room = this.rooms.get(roomId);
    if (!room || room.unread === 0) return;
    const found = seqs.filter((seq) => seq > room.read_seq).length;
    if (found <= room.mentions) return;
    room.mentions = found;
    this.render();
  }

  /** How far the person had read a room, as this page knows it. */
  readSeq(roomId) {
    return this.rooms.get(roomId)?.read_seq ?? 0;
  }

  unread(roomId) {
    return this.rooms.get(roomId)?.unread ?? 0;
  }

  /** Unread messages and mentions over every room: for the tab's title. */
  totals() {
    let unread = 0, mentions = 0;
    for (const room of this.rooms.values()) {
      unread += room.unread;
      mentions += room.mentions;
    }
    return { unread, mentions };
  }

  select(roomId) {
    this.current = roomId;
    this.render();
  }

  render() {
    // Rebuilt whole on each change: the button that had the focus gets it back, so
    // an activity frame does not throw a keyboard user out of the list.
    const focused = document.activeElement?.closest?.("#sidebar li")?.dataset.roomId;
    clear(this.roomList);
    clear(this.directList);
    for (const room of this.rooms.values()) {
      const title = this.title(room.id);
      // The whole title on hover: a long one is cut short with "…" in the list.
      const button = el("button", { type: "button", class: "room-button", title,
                                    "aria-current": room.id === this.current ? "true" : false },
                        title);
      button.addEventListener("click", () => this.onOpen(room.id));
      const item = el("li", { "data-room-id": room.id }, button);
      if (room.staff_only) {
        item.append(el("span", { class: "staff-mark", role: "img", "aria-label": "staff only",
                                 title: "Staff only: only staff members see this room" }, "◆"));
      }
      if (room.unread > 0) {
        item.classList.add("has-unread");
        item.append(el("span", { class: "badge unread", "aria-label": `${room.unread} unread` },
                       String(room.unread)));
      }
      if (room.mentions > 0) {
        item.append(el("span", { class: "badge mention",
                                 "aria-label": `${room.mentions} mentioning you` },
                       `@${room.mentions}`));
      }
      (room.kind === "direct" ? this.directList : this.roomList).append(item);
      if (room.id === focused) button.focus();
    }
    this.onCounts(this.totals());
  }
}
