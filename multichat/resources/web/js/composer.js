// The text box labelled "Message": Enter sends, Shift+Enter breaks the line, Up in
// an empty box edits one's last message; a bar above it says when the next send
// is a reply or an edit; typing is told to the room at most every TYPING_EVERY_MS.
// What is written, replied to or edited belongs to its room: switching rooms puts
// it aside and opening the room again brings it back (a reply or an edit begun in
// one room never goes to another).

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
    this.room = null; // the room the box writes to
    this.drafts = new Map(); // room id -> {text, context, words, beforeEdit}
    this.beforeEdit = ""; // what was written when an edit began: Escape gives it back
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

  /** The box now writes to `roomId` (null: no room): the room left keeps its draft. */
  switchTo(roomId) {
    if (roomId === this.room) return;
    if (this.room !== null && (this.input.value || this.context)) {
      this.drafts.set(this.room, { text: this.input.value, context: this.context,
                                   words: this.barText.textContent,
                                   beforeEdit: this.beforeEdit });
    }
    const draft = roomId === null ? undefined : this.drafts.get(roomId);
    this.drafts.delete(roomId);
    this.room = roomId;
    this.input.value = draft?.text ?? "";
    this.context = draft?.context ?? null;
    this.beforeEdit = draft?.beforeEdit ?? "";
    this.barText.textContent = draft?.words ?? "";
    this.bar.hidden = !this.context;
    this.lastTyping = 0;
  }

  /** A message the server refused: its text back in its room's box (or draft), before
   *  whatever was written since. */
  giveBack(roomId, text) {
    if (roomId !== this.room) {
      const draft = this.drafts.get(roomId) ?? { text: "", context: null, words: "",
                                                 beforeEdit: "" };
      draft.text = draft.text ? `${text}\n${draft.text}` : text;
      this.drafts.set(roomId, draft);
      return;
    }
    if (this.context?.edit) {
      this.beforeEdit = this.beforeEdit ? `${text}\n${this.beforeEdit}` : text;
      return;
    }
    const written = this.input.value;
    this.input.value = written ? `${text}\n${written}` : text;
    this.input.setSelectionRange(text.length, text.length);
  }

  /** Logged out: every room's draft is forgotten (the next person sees none). */
  forget() {
    this.switchTo(null);
    this.drafts.clear();
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
    if (!this.context?.edit) this.beforeEdit = this.input.value;
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
    if (this.context?.edit) this.input.value = this.beforeEdit; // what was being written
    this.beforeEdit = "";
    this.context = null;
    this.bar.hidden = true;
  }

  submit() {
    const text = this.input.value;
    if ((!text.trim() && !(this.hasFiles() && !this.context?.edit)) || this.input.disabled) return;
    if (this.submitText(text, this.context) === false) return;
    this.input.value = this.context?.edit ? this.beforeEdit : "";
    this.beforeEdit = "";
    this.lastTyping = 0;
    this.context = null;
    this.bar.hidden = true;
  }
}
