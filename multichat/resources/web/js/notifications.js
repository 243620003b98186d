// Desktop notifications through the browser's Notification API. The permission is
// asked only when the person presses the button (browsers ignore, or hold against
// the page, a request made without a gesture).

export class Notifier {
  constructor() {
    this.button = document.getElementById("notify-button");
    this.supported = "Notification" in window;
    this.button.addEventListener("click", async () => {
      await Notification.requestPermission();
      this.refresh();
    });
    this.refresh();
  }

  refresh() {
    this.button.hidden = !this.supported || Notification.permission !== "default";
  }

  /** Tell the person, unless they are looking at this page. */
  notify(title, body, roomId, onClick) {
    if (!this.supported || Notification.permission !== "granted") return;
    if (document.visibilityState === "visible" && document.hasFocus()) return;
    const note = new Notification(title, { body: body.slice(0, 200), tag: `room-${roomId}` });
    note.addEventListener("click", () => {
      window.focus();
      onClick();
      note.close();
    });
  }
}
