// The text box labelled "Message": Enter sends, Shift+Enter breaks the line, Up in
// an empty box edits one's last message; a bar above it says when the next send
// is a reply or an edit; typing is told to the room at most every TYPING_EVERY_MS.

const TYPING_EVERY_MS = 3000;

export class Composer {
  /** submit(text, context): context is null, {reply: message} or {edit: message}.
   *  typing(): the person is typing (throttled here).
   *  lastOwn(): the person's newest message here, if any (Up in an empty box edits it).
   *  hasFiles(): whether files wait to go (a message may then have no text).
   *  submit returns false to keep the text (it cannot go yet). */
  constructor({ submit, typing, lastOwn, hasFiles }) {
    this.hasFiles = hasFiles;
    this.submitText = submit;
    this.typing = typing;
    this.lastOwn = lastOwn;
    this.form = document.getElementById("composer");
    this.input = document.getElementById("message-input");
    this.button = this.form.querySelector("button[type='submit']");
    this.attach = document.getElementById("attach-button");
    this.bar = document.getElementById("context-bar");
    this.barText = document.getElementById("context-text");
    this.context = null;
    this.lastTyping = 0;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      } else if (event.key === "Escape" && this.context) {
        this.cancel();
      } else if (event.key === "ArrowUp" && !this.input.value && !this.context) {
        const last = this.lastOwn();
        if (last) {
          event.preventDefault();
          this.edit(last);
        }
      }
    });
    this.input.addEventListener("input", () => {
      const now = Date.now();
      if (this.input.value && now - this.lastTyping > TYPING_EVERY_MS) {
        this.lastTyping = now;
        this.typing();
      }
    });
    document.getElementById("context-cancel").addEventListener("click", () => this.cancel());
  }

  focus() {
    this.input.focus();
  }

  enable(on) {
    this.input.disabled = !on;
    this.button.disabled = !on;
    this.attach.disabled = !on;
  }

  replyTo(message) {
    this.setContext({ reply: message }, `Replying to ${message.username}: ${message.message ?? ""}`);
  }

  edit(message) {
    this.setContext({ edit: message }, "Editing your message");
    this.input.value = message.message ?? "";
  }

  setContext(context, words) {
    this.context = context;
    this.barText.textContent = words.slice(0, 140);
    this.bar.hidden = false;
    this.input.focus();
  }

  cancel() {
    if (this.context?.edit) this.input.value = "";
    this.context = null;
    this.bar.hidden = true;
  }

  submit() {
    const text = this.input.value;
    if ((!text.trim() && !(this.hasFiles() && !this.context?.edit)) || this.input.disabled) return;
    if (this.submitText(text, this.context) === false) return;
    this.input.value = "";
    this.lastTyping = 0;
    this.context = null;
    this.bar.hidden = true;
  }
}
