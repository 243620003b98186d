// The login form, and turning a password login into the browser's session cookie.
//
// websockets answers GET only, so the password goes over the WebSocket (the
// `login` command), never in a URL. The reply's token is used once, to ask for a
// one-time ticket (`session.ticket`); fetching /session?ticket=... sets the
// HttpOnly cookie that logs every later connection in. The token is then
// dropped: it is never stored where a script could find it again.

const WORDS = {
  LOGIN_FAILED: "Wrong username or password.",
  RATE_LIMITED: "Too many failed logins. Wait a moment, then try again.",
};

export class LoginForm {
  /** connection: a Connection; onLoggedIn(user): the login reply's user. */
  constructor(connection, onLoggedIn) {
    this.connection = connection;
    this.onLoggedIn = onLoggedIn;
    this.view = document.getElementById("login-view");
    this.form = document.getElementById("login-form");
    this.username = document.getElementById("login-username");
    this.password = document.getElementById("login-password");
    this.error = document.getElementById("login-error");
    this.button = this.form.querySelector("button");
    this.user = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  show(message = "") {
    this.view.hidden = false;
    this.error.textContent = message;
    this.button.disabled = false;
    (this.username.value ? this.password : this.username).focus();
  }

  hide() {
    this.view.hidden = true;
  }

  submit() {
    const username = this.username.value.trim();
    const password = this.password.value;
    if (!username || !password) {
      this.fail("Enter your username and password.");
      return;
    }
    const sent = this.connection.send({ command: "login", username, password, ref: "login" });
    if (!sent) {
      this.fail("Not connected to the server; trying again…");
      return;
    }
    this.button.disabled = true;
    this.error.textContent = "";
  }

  /** The reply to our `login` (it carries the token): ask for a cookie ticket. */
  loggedIn(frame) {
    this.user = frame.login;
    this.connection.send({ command: "session.ticket", token: frame.login.token, ref: "ticket" });
  }

  /** The ticket: trade it for the cookie, then carry on on this same socket. */
  async ticket(frame) {
    let ok = false;
    try {
      const response = await fetch(`/session?ticket=${encodeURIComponent(frame["session.ticket"])}`,
                                   { credentials: "same-origin", cache: "no-store" });
      ok = response.ok;
    } catch {
      ok = false;
    }
    this.password.value = "";
    if (!ok) {
      // Logged in on this socket, but a reload would ask again: say so, carry on.
      console.warn("the session cookie could not be set");
    }
    this.onLoggedIn(this.user);
  }

  /** An error frame answering our login; true when it was one. */
  refused(frame) {
    if (frame.ref !== "login" && frame.ref !== "ticket") return false;
    this.fail(WORDS[frame.error] ?? frame.detail ?? `The server refused: ${frame.error}`);
    return true;
  }

  fail(words) {
    this.button.disabled = false;
    this.error.textContent = words;
    // Back in the password, selected: typing it again replaces the wrong one.
    if (this.password.value) {
      this.password.focus();
      this.password.select();
    }
  }
}
