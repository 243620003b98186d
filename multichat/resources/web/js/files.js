// A message's files as the page shows them: a decoded image as its thumbnail
// (GET /files/ID/thumbnail, with the session cookie), which opens the full
// image; anything else as a card with its name, size and a download link.
// Names go in as text, addresses are built from the id: nothing is parsed.

import { el } from "./elements.js";

const THUMBNAIL_SIDE = 320;

export function fileAddress(id) {
  return `/files/${encodeURIComponent(id)}`;
}

/** "512 bytes", "12.5 KB", "3.1 MB" (of 1024). */
export function sizeWords(bytes) {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? "" : "s"}`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The files of a message, in their order, or null when it has none. */
export function attachments(files) {
  if (!Array.isArray(files) || files.length === 0) return null;
  return el("div", { class: "files" }, ...files.map(
    (file) => (file.width && file.height ? image(file) : card(file))));
}

function image(file) {
  const scale = Math.min(1, THUMBNAIL_SIDE / Math.max(file.width, file.height));
  const thumbnail = el("img", { alt: file.name, loading: "lazy", decoding: "async" });
  thumbnail.width = Math.max(1, Math.round(file.width * scale));
  thumbnail.height = Math.max(1, Math.round(file.height * scale));
  thumbnail.src = `${fileAddress(file.id)}/thumbnail`;
  const link = el("a", { class: "file-image", target: "_blank", rel: "noopener noreferrer",
                         title: `${file.name} (${sizeWords(file.size)})` }, thumbnail);
  link.href = fileAddress(file.id);
  return link;
}

function card(file) {
  const download = el("a", { download: file.name, rel: "noopener noreferrer" }, "Download");
  download.href = fileAddress(file.id);
  return el("div", { class: "file-card" },
            el("span", { class: "file-icon", "aria-hidden": "true" }, "📄"),
            el("span", { class: "file-name" }, file.name),
            el("span", { class: "file-size" }, sizeWords(file.size)),
            download);
}
