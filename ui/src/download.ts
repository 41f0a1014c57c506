/**
 * Hands text to the browser (or the desktop app's web view) as a file download: a Blob URL on a
 * temporary link, clicked, and revoked a little later (revoking at once can cancel the save).
 * `parts` is the text, or its pieces in order (a streamed log kept as the chunks that arrived).
 */
export function downloadText(name: string, parts: string | BlobPart[], type = "text/plain;charset=utf-8"): void {
  const href = URL.createObjectURL(new Blob(typeof parts === "string" ? [parts] : parts, { type }));
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
