// What the person sent and the server has not confirmed yet. Each command carries a
// client_id, so the server stores it once however often it is sent; here each goes
// out once per connection: at once when the room is joined, else when it is
// joined again after a reconnect. It leaves when its event comes back.

let counter = 0;

export function newClientId() {
  counter += 1;
  const random = crypto.getRandomValues(new Uint32Array(2)).join("-");
  return `web-${Date.now()}-${random}-${counter}`;
}

export class Outbox {
  constructor() {
    this.waiting = new Map(); // client_id -> {command, sentOn}
  }

  /** Keep a command (it has room and client_id) until its event confirms it. */
  add(command) {
    this.waiting.set(command.client_id, { command, sentOn: null });
  }

  /** Send what waits for this room and was not sent on this connection. */
  flush(roomId, connection, generation) {
    for (const entry of this.waiting.values()) {
      if (String(entry.command.room) !== roomId || entry.sentOn === generation) continue;
      if (connection.send(entry.command)) entry.sentOn = generation;
    }
  }

  /** The command waiting under this client_id, if any. */
  get(clientId) {
    return this.waiting.get(clientId)?.command;
  }

  settle(clientId) {
    this.waiting.delete(clientId);
  }

  forRoom(roomId) {
    return [...this.waiting.values()].filter((e) => String(e.command.room) === roomId)
      .map((e) => e.command);
  }

  clear() {
    this.waiting.clear();
  }
}
