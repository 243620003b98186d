// Desktop notifications through the browser's Notification API. The permission is
// asked only when the person presses the button (browsers ignore, or hold against
// the page, a request made without a gesture). Browsers offer the API on secure
// pages only: https://, or http:// on this machine (localhost, 127.0.0.1); on a
// plain http:// LAN address the button says why there are none.

export class Notifier {
  /** say(words): tell the person something (the page's status line). */
  constructor(say) {
    this.say = say;
    this.button = document.getElementById("notify-button");
    this.supported = "Notification" in window;
    this.button.addEventListener("click", () => this.ask());
    this.refresh();
  }

  get usable() {
    return this.supported && window.isSecureContext;
  }

  async ask() {
    if (!this.usable) {
      this.say("Desktop notifications need the page's https:// address (a server with --tls).");
      this.button.hidden = true; // said once is enough
      return;
    }
    const answer = await Notification.requestPermission();
    if (answer === "denied") {
      this.say("Notifications are blocked for this page: allow them in the browser's site settings.");
    }
    this.refresh();
  }

  refresh() {
    this.button.hidden = !this.supported
      || (window.isSecureContext && Notification.permission !== "default");
  }

  /**
   * Tell the person, once they allowed it. A message of the room they have open
   * is not told while they look at this page; one of another room always is
   * (`otherRoom`), as in the app.
   */
  notify(title, body, roomId, onClick, { otherRoom = false } = {}) {
    if (!this.usable || Notification.permission !== "granted") return;
    if (!otherRoom && document.visibilityState === "visible" && document.hasFocus()) return;
    const note = new Notification(title, { body: body.slice(0, 200), tag: `room-${roomId}`,
                                           icon: "/icon.svg" });
    note.addEventListener("click", () => {
      window.focus();
      onClick();
      note.close();
    });
  }
}
