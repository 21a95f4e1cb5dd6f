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
// Language tabs over code snippets (docs and playground): one choice for every block on the
// page. Without this script every language shows, one under the other, under its name.
(() => {
  const blocks = document.querySelectorAll("[data-snippets]");
  if (!blocks.length) return;
  function choose(language) {
    blocks.forEach((block) => {
      const tabs = [...block.querySelectorAll("[role=tab]")];
      if (!tabs.some((tab) => tab.dataset.language === language)) return;
      tabs.forEach((tab) => {
        const chosen = tab.dataset.language === language;
        tab.setAttribute("aria-selected", String(chosen));
        tab.tabIndex = chosen ? 0 : -1;
        document.getElementById(tab.getAttribute("aria-controls")).hidden = !chosen;
      });
    });
  }
  blocks.forEach((block) => block.classList.add("tabbed"));
  const first = blocks[0].querySelector("[role=tab]");
  if (first) choose(first.dataset.language);
  document.addEventListener("click", (event) => {
    const tab = event.target.closest("[data-snippets] [role=tab]");
    if (tab) choose(tab.dataset.language);
  });
  document.addEventListener("keydown", (event) => {
    const tab = event.target.closest("[data-snippets] [role=tab]");
    if (!tab || !["ArrowLeft", "ArrowRight"].includes(event.key)) return;
    const tabs = [...tab.parentElement.querySelectorAll("[role=tab]")];
    const next = tabs[(tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    choose(next.dataset.language);
    next.focus();
    event.preventDefault();
  });
})();

// A select that submits its form when changed (the account switcher): no inline handler,
// which the Content-Security-Policy refuses.
document.querySelectorAll('select[data-autosubmit]').forEach(function (select) {
  select.addEventListener('change', function () { select.form.submit(); });
});
