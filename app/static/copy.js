// "Copy" buttons: shown only where the clipboard can be used; without JavaScript the text box is there to select.
for (const button of document.querySelectorAll("[data-copy-from]")) {
  const source = document.getElementById(button.dataset.copyFrom);
  const status = button.parentElement.querySelector(".app-copy-status");
  if (!source || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(source.value);
      if (status) status.textContent = "Copied.";
    } catch {
      source.select();
      if (status) status.textContent = "Select the text and copy it.";
    }
  });
}
