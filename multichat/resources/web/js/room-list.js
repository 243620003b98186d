// The rooms and direct conversations the user may see, each a button named by its
// title, with its unread count (last_seq - read_seq) and mentions beside it.

import { el, clear } from "./elements.js";

export class RoomList {
  /** onOpen(roomId): the person chose a room. */
  constructor(onOpen) {
    this.onOpen = onOpen;
    this.rooms = new Map(); // id -> {id, title, kind, members, last_seq, read_seq, mentions}
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
      this.rooms.set(entry.id, {
        ...entry,
        kind: entry.kind ?? "room",
        last_seq: Math.max(entry.last_seq ?? 0, before?.last_seq ?? 0),
        read_seq: Math.max(entry.read_seq ?? 0, before?.read_seq ?? 0),
        mentions: before?.mentions ?? 0,
      });
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

  has(roomId) {
    return this.rooms.has(roomId);
  }

  isDirect(roomId) {
    return this.rooms.get(roomId)?.kind === "direct";
  }

  /** An `activity` frame: a new event in a room not open here. */
  activity(frame) {
    const room = this.rooms.get(frame.activity);
    if (!room) return;
    room.last_seq = Math.max(room.last_seq, frame.seq);
    if (frame.mention) room.mentions += 1;
    this.render();
  }

  /** A stored event shown in the open room: its seq is the newest known. */
  seen(roomId, seq) {
    const room = this.rooms.get(roomId);
    if (!room || seq <= room.last_seq) return;
    room.last_seq = seq;
    this.render();
  }

  /** Marked read up to seq (here, or by the user's other connections). */
  read(roomId, seq) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.read_seq = Math.max(room.read_seq, seq);
    if (room.read_seq >= room.last_seq) room.mentions = 0;
    this.render();
  }

  unread(roomId) {
    const room = this.rooms.get(roomId);
    return room ? Math.max(0, room.last_seq - room.read_seq) : 0;
  }

  select(roomId) {
    this.current = roomId;
    this.render();
  }

  render() {
    clear(this.roomList);
    clear(this.directList);
    for (const room of this.rooms.values()) {
      const title = this.title(room.id);
      const button = el("button", { type: "button", class: "room-button",
                                    "aria-current": room.id === this.current ? "true" : false },
                        title);
      button.addEventListener("click", () => this.onOpen(room.id));
      const item = el("li", { "data-room-id": room.id }, button);
      const unread = this.unread(room.id);
      if (unread > 0) {
        item.append(el("span", { class: "badge unread", "aria-label": `${unread} unread` },
                       String(unread)));
      }
      if (room.mentions > 0) {
        item.append(el("span", { class: "badge mention",
                                 "aria-label": `${room.mentions} mentioning you` },
                       `@${room.mentions}`));
      }
      (room.kind === "direct" ? this.directList : this.roomList).append(item);
    }
  }
}
