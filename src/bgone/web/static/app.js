// Small progressive enhancements; every page works without them.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const text = document.getElementById(button.dataset.copy).textContent.trim();
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    const range = document.createRange();
    range.selectNodeContents(document.getElementById(button.dataset.copy));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Press Ctrl+C";
  }
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
// Close the profile menu when clicking elsewhere.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.profile[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});
// "Go back" on the error page: the previous page, or home without one (no javascript: URL,
// which the Content-Security-Policy refuses like any inline script).
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-history-back]");
  if (!link || window.history.length <= 1) return;
  event.preventDefault();
  window.history.back();
});
