"""One open room: its messages, its members, and the input to write to it.

Attributes down, signals up: the main window gives it models and words to
show; it says what the person wants (send, leave, mute) through signals. It
composes the message list (``message_list_view.py``) and the input
(``message_input.py``), and holds what they share: the reply or edit in
progress, the message menu's actions and the permissions behind them.

Narrow (the window at 480 px with the sidebar hidden), the member list folds
away behind a "Members" button and the title elides instead of widening the
window.

What one does with a message: its context menu (asked for by the message
list) offers Reply, Edit (one's own), Delete (one's own; anyone's with
``set_permissions(delete_any=True)``), React, Copy text and Copy link to
message (``multichat://ROOM/SEQ``). Reply and Edit put a bar over the input
(✕ or Esc cancels); Up in an empty input edits one's last message; Delete
asks first. Reactions are chips under a message (a click toggles one's own)
and an emoji picker, favourites first (``EmojiUsage``). A reply's quote
jumps to its original, asking for it (``messageWanted``) when it is not
loaded and jumping once it arrives. Who is typing shows on a line kept under
the messages.

Files: the paperclip beside the box, a drop anywhere on the room, or a paste
(a file, or an image such as a screenshot, saved as PNG) stage files for the
next message (``StagedFiles``, ✕ takes one off); Enter then sends them with
the text, if any (``filesSubmitted``). Each uploads with a progress bar and
Cancel (``UploadList``). In the messages, an image's thumbnail opens the
image viewer; a file's Save downloads it (``set_file_transfers``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QBuffer,
    QIODevice,
    QModelIndex,
    QPoint,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QCursor,
    QDesktopServices,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeySequence,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from multichat.desktop.client.uploads import Attachment, pasted_image_name
from multichat.desktop.models.members import MemberRole
from multichat.desktop.models.messages import (
    MessageListModel,
    MessageRole,
    MessageRow,
    Quote,
)
from multichat.desktop.services.emoji_usage import EmojiUsage
from multichat.desktop.services.file_transfers import FileTransfers
from multichat.desktop.services.file_words import files_summary
from multichat.desktop.widgets.attachment_tray import StagedFiles, UploadList
from multichat.desktop.widgets.eliding_label import ElidingLabel
from multichat.desktop.widgets.emoji_picker import EmojiPicker
from multichat.desktop.widgets.image_viewer import ImageViewer
from multichat.desktop.widgets.message_delegate import quote_line
from multichat.desktop.widgets.message_input import MessageInput, local_files
from multichat.desktop.widgets.message_list_view import MessageListView
from multichat.desktop.widgets.reply_bar import ComposeBar
from multichat.desktop.widgets.shortcuts_dialog import ATTACH_FILES, shown
from multichat.protocol import MsgType
from multichat.protocol.frames import FileObj

# Below this width the member list folds away (a message needs ~300 px to read well).
MEMBERS_FOLD_WIDTH = 560
LINK_SCHEME = "multichat"
ATTACH_GLYPH_SCALE = 1.4  # the 📎 at text size is a speck beside a one-line box
DROP_WORDS = "Drop the files to attach them to your next message."


def message_link(room: str, seq: int) -> str:
    """A message's link, as "Copy link to message" gives it: multichat://ROOM/SEQ."""
    return f"{LINK_SCHEME}://{room}/{seq}"


def typing_words(usernames: list[str]) -> str:
    """The line under the messages: who else is typing now."""
    if not usernames:
        return ""
    if len(usernames) == 1:
        return f"{usernames[0]} is typing…"
    if len(usernames) == 2:
        return f"{usernames[0]} and {usernames[1]} are typing…"
    return "several people are typing…"


class RoomView(QWidget):
    # What the person does in the room; the main window hands each to the workspace.
    messageSubmitted = Signal(str, object)  # text, the seq it replies to or None
    filesSubmitted = Signal(str, object, list)  # text (maybe ""), reply_to, [Attachment]
    uploadCancelled = Signal(str)  # the key of an upload to drop from its message
    editSubmitted = Signal(int, str)  # seq of one's own message, its new text
    deleteRequested = Signal(int)  # seq, after the person confirmed
    cancelSendingRequested = Signal(str)  # a pending message's client id: out of the outbox
    reactionToggled = Signal(int, str, bool)  # seq, emoji, on
    messageWanted = Signal(int)  # a seq not loaded (a reply's original): load around it
    typingActivity = Signal()  # the person typed into a non-empty input
    directMessageRequested = Signal(str)  # "Message …" on a member: their username
    leaveRequested = Signal()
    muteToggled = Signal(bool)

    def __init__(self, room: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.room = room
        self.setObjectName("roomView")
        self.title = ElidingLabel(title)
        self.title.setObjectName("roomTitle")
        self.members_button = QToolButton()
        self.members_button.setText("Members")
        self.members_button.setCheckable(True)
        self.members_button.setChecked(True)
        self.members_button.setToolTip("Show or hide who is in the room")
        self.mute_button = QPushButton("Mute")
        self.mute_button.setCheckable(True)
        self.mute_button.setToolTip("No notifications or unread counts from this room, "
                                    "except mentions of you")
        self.leave_button = QPushButton("Leave")
        for button in (self.mute_button, self.leave_button):
            button.setMinimumWidth(0)
        self.banner = QLabel()
        self.banner.setObjectName("roomBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.messages = MessageListView()
        self.members = QListView()
        self.members.setObjectName("memberList")
        self.members.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.members.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # nothing in it to do by keys
        self.members.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.typing_line = ElidingLabel(minimum_characters=0)
        self.typing_line.setObjectName("typingLine")
        self.typing_line.setAccessibleName("Who is typing")
        # Kept the height of its words even when empty: the messages don't jump.
        self.typing_line.setFixedHeight(self.typing_line.fontMetrics().height() + 4)
        self.compose_bar = ComposeBar()
        self.input = MessageInput()
        self.input.setAccessibleName("Message")
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self._make_file_widgets()
        self.emoji_picker = EmojiPicker(self)
        self.emoji_usage = EmojiUsage()
        self.delete_any = False
        # What the next Enter does besides sending: answer this seq, or save this edit.
        self._reply_to: int | None = None
        self._editing: int | None = None
        self._editing_text = ""
        self._draft = ""  # the input as it was before an edit filled it
        self._filling = False  # the input changes by our hand, not the person's
        self._react_seq: int | None = None  # the message the emoji picker is open for
        self.menu: QMenu | None = None  # the last message menu shown
        self.member_menu: QMenu | None = None  # the last member menu shown

        self._lay_out()
        self._connect()
        self._narrow: bool | None = None
        self.closed = False

    def _make_file_widgets(self) -> None:
        self.attach_button = QToolButton()
        self.attach_button.setObjectName("attachButton")
        self.attach_button.setText("📎")
        glyph = self.attach_button.font()
        if glyph.pointSizeF() > 0:  # a font sized in pixels says -1
            glyph.setPointSizeF(glyph.pointSizeF() * ATTACH_GLYPH_SCALE)  # an icon, not a word
            self.attach_button.setFont(glyph)
        self.attach_button.setToolTip(f"Attach files ({shown(ATTACH_FILES)}), or drop them "
                                      "on the room, or paste an image")
        attach = QShortcut(QKeySequence(ATTACH_FILES), self)
        attach.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        attach.activated.connect(self.choose_files)
        self.attach_button.setAccessibleName("Attach files")
        self.staged = StagedFiles()
        self.uploads = UploadList()
        self.files: FileTransfers | None = None
        self.viewer: ImageViewer | None = None  # the last image viewer opened
        self.setAcceptDrops(True)

    def _connect(self) -> None:
        self.input.submitted.connect(self._submit)
        self.input.scrollRequested.connect(self.messages.scroll_pages)
        self.input.latestRequested.connect(self.messages.scroll_to_latest)
        self.send_button.clicked.connect(self.input.submit)
        self.leave_button.clicked.connect(self.leaveRequested.emit)
        self.mute_button.toggled.connect(self._mute_toggled)
        self.members_button.toggled.connect(self.members.setVisible)
        self.members.customContextMenuRequested.connect(self._member_menu)
        self.input.editLastRequested.connect(self._edit_last)
        self.input.cancelRequested.connect(self.cancel_compose)
        self.input.textChanged.connect(self._typed)
        self.compose_bar.cancelled.connect(self.cancel_compose)
        self.messages.menuRequested.connect(self._show_menu)
        self.messages.quoteClicked.connect(self.go_to_message)
        self.messages.reactionClicked.connect(self.toggle_reaction)
        self.messages.reactRequested.connect(self.open_emoji_picker)
        self.messages.replyRequested.connect(self.start_reply)
        self.emoji_picker.chosen.connect(self._emoji_chosen)
        self.attach_button.clicked.connect(self.choose_files)
        self.input.filesGiven.connect(self.attach_files)
        self.input.imagePasted.connect(self.attach_image)
        self.staged.changed.connect(self._staged_changed)
        self.uploads.cancelled.connect(self.uploadCancelled.emit)
        self.messages.imageClicked.connect(self.view_image)
        self.messages.saveClicked.connect(self.save_file)
        self.messages.cardClicked.connect(self._card_clicked)

    def _lay_out(self) -> None:
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.members_button)
        header.addWidget(self.mute_button)
        header.addWidget(self.leave_button)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.messages)
        self.splitter.addWidget(self.members)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setCollapsible(0, False)
        self.splitter.setSizes([600, 160])
        self.members.setMinimumWidth(0)
        # As in Slack and Element: the buttons as tall as a one-line box, so centred on it,
        # and on its bottom row as it grows.
        entry = QHBoxLayout()
        entry.addWidget(self.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        entry.addWidget(self.input, 1, Qt.AlignmentFlag.AlignBottom)
        entry.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.input.oneLineHeightChanged.connect(self._fit_entry_buttons)
        self._fit_entry_buttons(self.input.one_line_height())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.typing_line)
        layout.addWidget(self.compose_bar)
        layout.addWidget(self.uploads)
        layout.addWidget(self.staged)
        layout.addLayout(entry)

    def _fit_entry_buttons(self, height: int) -> None:
        self.attach_button.setFixedSize(height, height)  # square, like an icon button
        self.send_button.setFixedHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        narrow = event.size().width() < MEMBERS_FOLD_WIDTH
        if narrow != self._narrow:  # crossing the line: the default for the width
            self._narrow = narrow
            self.members_button.setChecked(not narrow)

    def set_closed(self, closed: bool) -> None:
        """A room we are no longer in: its tab stays to show why, but takes no input."""
        self.closed = closed
        for widget in (self.input, self.send_button, self.mute_button, self.leave_button,
                       self.attach_button):
            widget.setEnabled(not closed)
        if not closed:
            self.show_banner("")

    def set_models(self, messages: MessageListModel, members: QAbstractItemModel) -> None:
        old = self.messages.message_model()
        if old is not None:
            old.dataChanged.disconnect(self._messages_changed)
        self.messages.set_message_model(messages)
        self.members.setModel(members)
        messages.dataChanged.connect(self._messages_changed)

    def set_muted(self, muted: bool) -> None:
        self.mute_button.blockSignals(True)
        self.mute_button.setChecked(muted)
        self.mute_button.setText("Muted" if muted else "Mute")
        self.mute_button.blockSignals(False)

    def show_banner(self, words: str) -> None:
        self.banner.setText(words)
        self.banner.setVisible(bool(words))

    def give_back(self, text: str) -> None:
        """A message the server refused (too long): its text back in the message box,
        to shorten or send again, before whatever was written since."""
        written = self.input.toPlainText()
        if self._editing is not None:
            self._draft = text + ("\n" + self._draft if self._draft else "")
            return
        self._fill(text)
        cursor = self.input.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        end_of_refused = cursor.position()
        if written:
            self._filling = True
            try:
                cursor.insertText("\n" + written)
            finally:
                self._filling = False
        cursor.setPosition(end_of_refused)
        self.input.setTextCursor(cursor)

    def give_back_edit(self, seq: int, text: str) -> None:
        """An edit the server refused (too long): the message in edit again, with the
        new text to shorten, whatever was being written kept as the draft. Not while
        another message is being edited (the person has moved on), nor if it is gone."""
        if self._editing is not None and self._editing != seq:
            return
        self.start_edit(seq)
        if self._editing == seq:
            self._fill(text)
            self.input.moveCursor(self.input.textCursor().MoveOperation.End)

    def focus_input(self) -> None:
        self.input.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_typing(self, usernames: list[str]) -> None:
        """Who else is typing in the room now ("bob is typing…" under the view)."""
        self.typing_line.set_full_text(typing_words(usernames))

    def set_permissions(self, *, delete_any: bool) -> None:
        """Whether this user may delete others' messages here (a superuser, not in a
        direct conversation)."""
        self.delete_any = delete_any

    # -- a message's actions -------------------------------------------------------------

    def _model(self) -> MessageListModel | None:
        return self.messages.message_model()

    def _own_username(self) -> str:
        model = self._model()
        return model.own_username() if model is not None else ""

    def _row(self, seq: int) -> MessageRow | None:
        model = self._model()
        return model.message(seq) if model is not None else None

    def message_menu(self, seq: int) -> QMenu | None:
        """The context menu of a stored message (none for notices; a pending one's is
        ``pending_menu``); a deleted one offers only Copy link."""
        row = self._row(seq)
        if row is None or row.pending or row.msg_type is not MsgType.MESSAGE:
            return None
        menu = QMenu(self)
        menu.setObjectName("messageMenu")
        menu.setAccessibleName("Message actions")
        standing = row.actionable and not self.closed

        def add(name: str, words: str, slot: object) -> None:
            action = menu.addAction(words)
            action.setObjectName(name)
            action.triggered.connect(slot)

        if standing:
            add("replyAction", "Reply", lambda: self.start_reply(seq))
            if row.own:
                add("editAction", "Edit", lambda: self.start_edit(seq))
            add("reactAction", "React…", lambda: self.open_emoji_picker(seq, QCursor.pos()))
            menu.addSeparator()
        if not row.deleted and row.text:
            add("copyTextAction", "Copy text",
                lambda: QGuiApplication.clipboard().setText(row.text))
        if not row.deleted and row.files and self.files is not None:
            files = row.files
            words = f"Save “{files[0].name}”" if len(files) == 1 else f"Save {len(files)} files"
            add("saveFilesAction", words, lambda: self._save_all(files))
        add("copyLinkAction", "Copy link to message",
            lambda: QGuiApplication.clipboard().setText(message_link(self.room, seq)))
        if standing and (row.own or self.delete_any):
            menu.addSeparator()
            add("deleteAction", "Delete…", lambda: self.confirm_delete(seq))
        return menu

    def pending_menu(self, client_id: str) -> QMenu | None:
        """The context menu of a message still waiting in the outbox (sent while offline,
        or on its way): Copy text and Cancel sending, which takes it out of the outbox
        (one already on its way is deleted once stored: see ``ChatClient.delete_pending``)."""
        model = self._model()
        row = model.pending_message(client_id) if model is not None else None
        if row is None:
            return None
        menu = QMenu(self)
        menu.setObjectName("pendingMenu")
        menu.setAccessibleName("Message actions")
        if row.text:
            copy = menu.addAction("Copy text")
            copy.setObjectName("copyTextAction")
            copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(row.text))
        cancel = menu.addAction("Cancel sending")
        cancel.setObjectName("cancelSendingAction")
        cancel.triggered.connect(lambda: self.cancelSendingRequested.emit(client_id))
        return menu

    def _show_menu(self, index: QModelIndex, point: QPoint, keyboard: bool = False) -> None:
        seq = index.data(MessageRole.Seq)
        client_id = index.data(MessageRole.ClientId)
        if seq is not None:
            menu = self.message_menu(int(seq))
        elif index.data(MessageRole.IsPending) and client_id:
            menu = self.pending_menu(str(client_id))
        else:
            menu = None
        if menu is None:
            return
        if self.menu is not None:
            self.menu.deleteLater()
        self.menu = menu
        menu.popup(point)
        if keyboard:  # opened from the keyboard, Enter picks the first, as menus do
            menu.setActiveAction(next(a for a in menu.actions() if not a.isSeparator()))

    def start_reply(self, seq: int) -> None:
        row = self._row(seq)
        if row is None or not row.actionable:
            return
        self._stop_editing()
        self._reply_to = seq
        who, first = quote_line(_quote_of(row))
        self.compose_bar.show_reply(who, first)
        self.input.has_context = True
        self.focus_input()

    def start_edit(self, seq: int) -> None:
        row = self._row(seq)
        if row is None or not row.actionable or not row.own:
            return
        self._reply_to = None
        if self._editing is None:
            self._draft = self.input.toPlainText()
        self._editing = seq
        self._editing_text = row.text
        self._fill(row.text)
        self.compose_bar.show_editing()
        self.input.has_context = True
        self.focus_input()
        self.input.moveCursor(self.input.textCursor().MoveOperation.End)

    def cancel_compose(self) -> None:
        """Stop replying or editing (✕ or Esc); an edit gives the draft back."""
        self._reply_to = None
        self._stop_editing()
        self.compose_bar.hide()
        self.input.has_context = False

    def _stop_editing(self) -> None:
        if self._editing is not None:
            self._editing = None
            self._fill(self._draft)
            self._draft = ""

    def _fill(self, text: str) -> None:
        self._filling = True
        try:
            self.input.setPlainText(text)
        finally:
            self._filling = False

    def replying_to(self) -> int | None:
        return self._reply_to

    def editing(self) -> int | None:
        return self._editing

    def _edit_last(self) -> None:
        model = self._model()
        seq = model.last_own_message() if model is not None else None
        if seq is not None and not self.closed:
            self.start_edit(seq)

    def confirm_delete(self, seq: int) -> None:
        """Ask first (Cancel is the default); delete only on Delete."""
        row = self._row(seq)
        if row is None or not row.actionable:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Delete message?",
                          "Delete this message for everyone? This can't be undone.",
                          QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("deleteConfirmation")
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def finished() -> None:
            if box.clickedButton() is delete:
                if self._editing == seq:
                    self.cancel_compose()
                self.deleteRequested.emit(seq)

        box.finished.connect(finished)
        box.open()

    def open_emoji_picker(self, seq: int, point: QPoint) -> None:
        row = self._row(seq)
        if row is None or not row.actionable:
            return
        self._react_seq = seq
        me = self._own_username()
        mine = [emoji for emoji, names in row.reactions.items() if me in names]
        self.emoji_picker.set_emoji(self.emoji_usage.offered(), mine)
        self.emoji_picker.popup_at(point)

    def _emoji_chosen(self, emoji: str) -> None:
        if self._react_seq is not None:
            self.toggle_reaction(self._react_seq, emoji)
        self._react_seq = None

    def toggle_reaction(self, seq: int, emoji: str) -> None:
        """Give ``emoji`` to the message, or take it back if the reader already gave it."""
        row = self._row(seq)
        if row is None or not row.actionable or self.closed:
            return
        on = self._own_username() not in row.reactions.get(emoji, [])
        if on:
            self.emoji_usage.record(emoji)
        self.reactionToggled.emit(seq, emoji, on)

    def go_to_message(self, seq: int) -> None:
        """Scroll to a message and highlight it; not loaded, ask for it and jump later."""
        if not self.messages.jump_to(seq):
            self.messages.want(seq)
            self.messageWanted.emit(seq)

    def _messages_changed(self, *_: object) -> None:
        # A message being replied to or edited may have gone (deleted, here or elsewhere).
        for seq in (self._reply_to, self._editing):
            if seq is not None:
                row = self._row(seq)
                if row is not None and row.deleted:
                    self.cancel_compose()
                    return

    def _member_menu(self, point: QPoint) -> None:
        index = self.members.indexAt(point)
        username = index.data(MemberRole.Username) if index.isValid() else None
        if not username or index.data(MemberRole.IsMe):
            return
        if self.member_menu is not None:
            self.member_menu.deleteLater()
        menu = self.member_menu = QMenu(self)
        menu.setObjectName("memberMenu")
        action = menu.addAction(f"Message {username}")
        action.setObjectName("directMessageAction")
        action.triggered.connect(lambda: self.directMessageRequested.emit(str(username)))
        menu.popup(self.members.viewport().mapToGlobal(point))

    def _typed(self) -> None:
        if self._filling or self._editing is not None:
            return
        if self.input.toPlainText().strip():
            self.typingActivity.emit()

    def _submit(self, text: str) -> None:
        self.show_banner("")
        if self._editing is None and self.staged.files:
            reply_to = self._reply_to
            self.cancel_compose()
            self.messages.scroll_to_latest()
            self.filesSubmitted.emit(text, reply_to, self.staged.take())
            return
        if self._editing is not None:
            seq, before = self._editing, self._editing_text
            self.cancel_compose()
            if text != before.strip():
                self.editSubmitted.emit(seq, text)
            return
        reply_to = self._reply_to
        self.cancel_compose()
        self.messages.scroll_to_latest()  # one's own message is worth seeing go out
        self.messageSubmitted.emit(text, reply_to)

    def _mute_toggled(self, muted: bool) -> None:
        self.mute_button.setText("Muted" if muted else "Mute")
        self.muteToggled.emit(muted)


    # -- files ------------------------------------------------------------------------------

    def choose_files(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(self, "Attach files")
        if paths:
            self.attach_files(paths)

    def attach_files(self, paths: list[str]) -> list[Attachment]:
        """Stage these files for the next message; what could not be read is said in the
        banner. The attachments staged."""
        staged: list[Attachment] = []
        problems: list[str] = []
        for path in paths:
            try:
                staged.append(Attachment.from_path(path))
            except OSError as exc:
                problems.append(f"{path.rsplit('/', 1)[-1] or path}: {exc.strerror or exc}")
        left_out = self.staged.add(staged)
        if left_out:
            problems.append(f"{left_out} file(s) left out: a message carries at most 10.")
        self.show_banner("Not attached: " + "; ".join(problems) if problems else "")
        self.focus_input()
        return staged

    def attach_image(self, image: QImage) -> Attachment | None:
        """Stage a pasted image, as a PNG named for the moment it was pasted."""
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
            self.show_banner("That image could not be pasted.")
            return None
        attachment = Attachment.from_bytes(pasted_image_name(datetime.now()),
                                           bytes(buffer.data().data()), "image/png")
        self.staged.add([attachment])
        self.focus_input()
        return attachment

    def _staged_changed(self) -> None:
        self.input.has_files = bool(self.staged.files)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not self.closed and local_files(event.mimeData()):
            event.acceptProposedAction()
            self.show_banner(DROP_WORDS)
        else:
            super().dragEnterEvent(event)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        if self.banner.text() == DROP_WORDS:
            self.show_banner("")
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        files = local_files(event.mimeData())
        if self.closed or not files:
            super().dropEvent(event)
            return
        event.acceptProposedAction()
        self.show_banner("")
        self.attach_files(files)

    def set_uploads(self, pending: list[dict[str, Any]]) -> None:
        """The room's outbox: a progress row per file still going."""
        self.uploads.set_pending(pending)

    def upload_progress(self, key: str, sent: int, size: int) -> None:
        self.uploads.progress(key, sent, size)

    def set_file_transfers(self, files: FileTransfers) -> None:
        """Where thumbnails come from and downloads go: the messages repaint as they do."""
        self.files = files
        self.messages.delegate.files = files
        for signal in (files.thumbnailReady, files.downloadProgress, files.downloadFinished,
                       files.downloadFailed):
            signal.connect(self._repaint_messages)

    def _repaint_messages(self, *_: object) -> None:
        self.messages.viewport().update()

    def view_image(self, file: object) -> None:
        if self.files is not None:
            self.viewer = ImageViewer(file, self.files, self)  # type: ignore[arg-type]
            self.viewer.show()

    def _card_clicked(self, file: FileObj) -> None:
        """A file's card: saved already, its folder opens (never the file: it could be a
        program); else it is saved, as by its Save."""
        download = self.files.progress(file.id) if self.files is not None else None
        if download is not None and download.path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(download.path.parent)))
        else:
            self.save_file(file)

    def _save_all(self, files: tuple[FileObj, ...]) -> None:
        for file in files:
            self.save_file(file)

    def save_file(self, file: object) -> None:
        if self.files is not None:
            self.files.save(file)  # type: ignore[arg-type]


def _quote_of(row: MessageRow) -> Quote:
    return Quote(row.seq or 0, loaded=True, username=row.username,
                 text=row.text or files_summary([file.name for file in row.files]),
                 deleted=row.deleted)
