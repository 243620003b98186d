// The WebSocket to the server that served this page: JSON frames in and out,
// reconnecting by itself with a growing, jittered delay. It knows nothing of
// rooms or logins: it reports frames and state changes to its owner.

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;
// The server closes a revoked session with this code: reconnecting would not help.
export const SESSION_REVOKED = 4001;

export class Connection {
  /**
   * onOpen(): a new socket is open (the server's first frame follows).
   * onFrame(frame): each decoded server frame.
   * onDown(closeCode): the socket closed; it reconnects unless stop() was called.
   */
  constructor({ onOpen, onFrame, onDown }) {
    this.onOpen = onOpen;
    this.onFrame = onFrame;
    this.onDown = onDown;
    this.socket = null;
    this.failures = 0;
    this.stopped = false;
    this.timer = null;
  }

  get url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/`;
  }

  get isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  open() {
    clearTimeout(this.timer);
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.failures = 0;
      this.onOpen();
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        console.warn("not JSON from the server", event.data);
        return;
      }
      this.onFrame(frame);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.onDown(event.code);
      if (!this.stopped && event.code !== SESSION_REVOKED) this.retry();
    });
  }

  /** Try again after a delay that doubles with each failure, up to MAX_DELAY_MS. */
  retry() {
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.failures);
    this.failures += 1;
    this.timer = setTimeout(() => this.open(), delay * (0.75 + Math.random() / 2));
  }

  /** Send a command; false when the socket is not open (the caller keeps it). */
  send(command) {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify(command));
    return true;
  }

  /** Send one binary frame (an upload's bytes); false when the socket is not open. */
  sendBytes(bytes) {
    if (!this.isOpen) return false;
    this.socket.send(bytes);
    return true;
  }

  /** Bytes handed to the socket and not yet sent (0 when there is none). */
  get buffered() {
    return this.socket?.bufferedAmount ?? 0;
  }

  /** Close for good (logging out) or reconnect now (after logging in again). */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
  }
}
