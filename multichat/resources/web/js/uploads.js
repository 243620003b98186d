// Files on their way up, shown above the text box with a progress bar and a
// Cancel button each. Over the page's WebSocket, one at a time (the protocol's
// rule): `upload` -> {"upload": {id, chunk}} -> binary frames of at most
// `chunk` bytes -> {"file": FILE_OBJ}. Cancelling midway does what the desktop
// app does: one frame of chunk + 1 bytes, which the server answers FILE_INVALID
// (not shown) and discards the upload. The finished files go with the next send.

import { el } from "./elements.js";
import { sizeWords } from "./files.js";

// Hand the socket no more than this much unsent: the bar then tells what left.
const HIGH_WATER = 256 * 1024;
const DRAIN_WAIT_MS = 20;
const REF_PREFIX = "upload-";

const REFUSALS = {
  FILE_TOO_LARGE: "Too large for this server.",
  QUOTA_EXCEEDED: "You have uploaded as much as this server allows in a day: try later.",
  FILE_INVALID: "The server refused this file.",
  RATE_LIMITED: "Too many commands at once: try again in a moment.",
  BAD_REQUEST: "The server refused this file's name or type.",
};

let counter = 0;

export class Uploads {
  /** changed(): the set of files changed (the Send button may now apply). */
  constructor(connection, changed) {
    this.connection = connection;
    this.changed = changed;
    this.tray = document.getElementById("upload-tray");
    this.entries = []; // in the order chosen
    this.current = null; // the entry whose upload is open on the socket
  }

  add(files) {
    for (const file of files) {
      counter += 1;
      const entry = { file, ref: `${REF_PREFIX}${counter}`, state: "queued", sent: 0,
                      fileObj: null };
      entry.bar = el("progress", { max: String(Math.max(file.size, 1)), value: "0",
                                   "aria-label": `Uploading ${file.name}` });
      entry.words = el("span", { class: "upload-state" }, "waiting…");
      entry.button = el("button", { type: "button", class: "upload-cancel",
                                    "aria-label": `Cancel ${file.name}` }, "Cancel");
      entry.button.addEventListener("click", () => this.cancel(entry));
      entry.node = el("li", { class: "upload" }, el("span", { class: "upload-name" }, file.name),
                      el("span", { class: "upload-size" }, sizeWords(file.size)),
                      entry.bar, entry.words, entry.button);
      this.entries.push(entry);
      this.tray.append(entry.node);
    }
    this.tray.hidden = this.entries.length === 0;
    this.pump();
    this.changed();
  }

  /** Whether any file is still going up (a send then waits). */
  get busy() {
    return this.entries.some((e) => e.state === "queued" || e.state === "waiting"
                             || e.state === "sending");
  }

  /** The ids of the finished files, to send. */
  get ready() {
    return this.entries.filter((e) => e.state === "done").map((e) => e.fileObj.id);
  }

  get readyFiles() {
    return this.entries.filter((e) => e.state === "done").map((e) => e.fileObj);
  }

  /** These went with a message: off the tray, and the failed ones with them. */
  sent(fileObjs) {
    for (const entry of [...this.entries]) {
      if (entry.state === "failed" || fileObjs.includes(entry.fileObj)) this.drop(entry);
    }
  }

  /** Every file off the tray (logging out); an open upload ends with the socket. */
  clear() {
    for (const entry of [...this.entries]) {
      if (entry.state !== "done" && entry.state !== "failed") entry.state = "cancelled";
      this.drop(entry);
    }
    this.current = null;
  }

  /** Start the next file, unless one is open. */
  pump() {
    if (this.current !== null) return;
    const next = this.entries.find((e) => e.state === "queued");
    if (!next) return;
    const { file } = next;
    const sent = this.connection.send({ command: "upload", name: file.name || "file",
                                        size: file.size, ...(file.type ? { type: file.type } : {}),
                                        ref: next.ref });
    if (!sent) return; // not connected: resume() tries again once logged in
    next.state = "waiting";
    next.words.textContent = "starting…";
    this.current = next;
  }

  /** Logged in again on a new socket: go on with what waits. */
  resume() {
    this.pump();
  }

  /** The socket closed: the server dropped the open upload. */
  connectionLost() {
    const entry = this.current;
    this.current = null;
    if (entry && entry.state !== "cancelled") {
      this.fail(entry, "The connection dropped: the upload stopped.");
    }
  }

  /** Whether a frame answers an upload of this page's (a cancelled one's too). */
  owns(frame) {
    return String(frame.ref ?? "").startsWith(REF_PREFIX);
  }

  /** {"upload": {id, chunk}}: send the bytes. */
  async accepted(frame) {
    const entry = this.current;
    if (!entry || entry.ref !== frame.ref) return;
    const chunk = frame.upload.chunk;
    if (entry.state === "cancelled") {
      this.abandon(chunk);
      return;
    }
    entry.state = "sending";
    entry.words.textContent = "uploading…";
    const socketGeneration = this.connection.socket;
    for (let offset = 0; offset < entry.file.size; offset += chunk) {
      while (this.connection.buffered > HIGH_WATER && entry.state !== "cancelled") {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_WAIT_MS));
        entry.bar.value = Math.max(0, entry.sent - this.connection.buffered);
      }
      if (this.current !== entry || this.connection.socket !== socketGeneration) return;
      if (entry.state === "cancelled") {
        this.abandon(chunk);
        return;
      }
      const bytes = await entry.file.slice(offset, offset + chunk).arrayBuffer();
      if (this.current !== entry) return;
      if (entry.state === "cancelled") {
        this.abandon(chunk);
        return;
      }
      if (!this.connection.sendBytes(bytes)) return; // connectionLost() tells
      entry.sent = offset + bytes.byteLength;
      entry.bar.value = Math.max(0, entry.sent - this.connection.buffered);
    }
    if (entry.state === "sending") entry.words.textContent = "checking…";
  }

  /** {"file": FILE_OBJ}: it is whole on the server. */
  finished(frame) {
    const entry = this.entries.find((e) => e.ref === frame.ref) ?? this.current;
    if (this.current?.ref === frame.ref) this.current = null;
    if (entry && entry.ref === frame.ref && entry.state !== "cancelled") {
      entry.state = "done";
      entry.fileObj = frame.file;
      entry.bar.value = entry.bar.max;
      entry.words.textContent = "ready";
      entry.button.textContent = "Remove";
      entry.button.setAttribute("aria-label", `Remove ${entry.file.name}`);
    }
    this.pump();
    this.changed();
  }

  /** An error that ends an upload: told in words, unless it answers a cancel. */
  failed(frame) {
    const entry = [...this.entries, this.current].find((e) => e?.ref === frame.ref);
    if (this.current?.ref === frame.ref) this.current = null;
    if (entry && entry.state !== "cancelled") {
      const words = REFUSALS[frame.error] ?? "The upload failed.";
      this.fail(entry, frame.detail && frame.error === "FILE_INVALID"
        ? `${words} (${frame.detail})` : words);
    }
    this.pump();
  }

  fail(entry, words) {
    entry.state = "failed";
    entry.words.textContent = words;
    entry.node.classList.add("failed");
    entry.button.textContent = "Remove";
    entry.button.setAttribute("aria-label", `Remove ${entry.file.name}`);
    this.changed();
  }

  cancel(entry) {
    if (entry.state === "done" || entry.state === "failed") {
      this.drop(entry);
      return;
    }
    entry.state = "cancelled";
    this.drop(entry);
    // Open: the upload reply or the sending loop ends it on the socket. Every byte
    // out already: its `file` reply is ignored (a file no message carries is deleted).
  }

  /** One frame past `chunk`: the server answers FILE_INVALID and drops the upload. */
  abandon(chunk) {
    this.connection.sendBytes(new Uint8Array(chunk + 1));
    this.current = null;
    this.pump();
  }

  drop(entry) {
    entry.node.remove();
    this.entries = this.entries.filter((e) => e !== entry);
    this.tray.hidden = this.entries.length === 0;
    this.changed();
  }
}
