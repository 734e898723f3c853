// Unsaved answers on a domain page, kept in this browser until the server has them.
//
// A progressive enhancement: the page works without it. As someone answers, a copy of the form goes into this
// browser's localStorage, labelled with the page's revision. If they come back to the page and it is still at that
// revision, their save never reached the server (a lost connection, a closed lid), so the page offers the copy back.
// Once a save lands the revision moves on, and the old copy is thrown away. Each copy names the user it belongs to:
// signing out clears every copy, and when someone else signs in on this browser, other people's copies go. A copy
// outlives an ended session (an idle timeout, cleared cookies), since that is when a save most often fails.

const PREFIX = "readiness-draft:";
const KEEP_FOR_MS = 2 * 24 * 60 * 60 * 1000;

function fieldsOf(form) {
  return [...form.elements].filter(
    (el) => el.name && el.name !== "csrf_token" && el.type !== "hidden" && el.type !== "submit",
  );
}

function read(form) {
  const data = {};
  for (const el of fieldsOf(form)) {
    if (el.type === "radio" || el.type === "checkbox") {
      if (el.checked) data[el.name] = el.value;
    } else {
      data[el.name] = el.value;
    }
  }
  return data;
}

function fill(form, data) {
  for (const el of fieldsOf(form)) {
    if (el.type === "radio" || el.type === "checkbox") {
      el.checked = data[el.name] === el.value;
    } else if (el.name in data) {
      el.value = data[el.name];
    }
  }
}

function same(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => (a[key] || "") === (b[key] || ""));
}

function offer(form, key, draft) {
  const callout = document.createElement("div");
  callout.className = "nhsuk-warning-callout";
  callout.id = "unsaved-draft";
  callout.tabIndex = -1;
  const heading = document.createElement("h2");
  heading.className = "nhsuk-warning-callout__label";
  heading.textContent = "You have answers on this device that were not saved";
  const text = document.createElement("p");
  const when = new Date(draft.savedAt).toLocaleString("en-GB", { dateStyle: "long", timeStyle: "short" });
  text.textContent = `You changed this page on ${when}, but the changes did not reach us. Restore them to check and save them.`;
  const buttons = document.createElement("div");
  buttons.className = "app-button-group";
  const restore = document.createElement("button");
  restore.type = "button";
  restore.className = "nhsuk-button";
  restore.textContent = "Restore my unsaved answers";
  const discard = document.createElement("button");
  discard.type = "button";
  discard.className = "nhsuk-button nhsuk-button--secondary";
  discard.textContent = "Discard them";
  buttons.append(restore, discard);
  callout.append(heading, text, buttons);
  form.before(callout);
  callout.focus();
  restore.addEventListener("click", () => {
    fill(form, draft.data);
    // A restored note shows: open the folded "Add a note" around any note that has text.
    for (const note of form.querySelectorAll("details textarea")) {
      if (note.value) note.closest("details").open = true;
    }
    callout.remove();
    form.querySelector("input, textarea")?.focus();
  });
  discard.addEventListener("click", () => {
    localStorage.removeItem(key);
    callout.remove();
  });
}

function start() {
  let storage;
  try {
    storage = window.localStorage;
    storage.getItem(PREFIX);
  } catch {
    return; // storage switched off: the page works as it always did
  }
  const user = document.querySelector("meta[name=app-user]")?.content;
  if (!user) return; // nobody signed in: leave the copies for their owner to come back to
  const drafts = () => Object.keys(storage).filter((k) => k.startsWith(PREFIX));
  for (const k of drafts()) {
    let owner = null;
    try {
      owner = JSON.parse(storage.getItem(k))?.user;
    } catch {
      owner = null;
    }
    if (owner !== user) storage.removeItem(k); // someone else's, on a shared computer
  }
  document
    .querySelector("form[action$='/sign-out']")
    ?.addEventListener("submit", () => drafts().forEach((k) => storage.removeItem(k)));
  const form = document.querySelector("form[data-draft-key]");
  if (!form) return;
  const key = PREFIX + form.dataset.draftKey;
  const revision = form.querySelector("input[name=revision]")?.value ?? "";
  let draft = null;
  try {
    draft = JSON.parse(storage.getItem(key) || "null");
  } catch {
    draft = null;
  }
  if (draft && (draft.revision !== revision || Date.now() - draft.savedAt > KEEP_FOR_MS)) {
    storage.removeItem(key); // a save has landed since (or it is too old): this copy is out of date
    draft = null;
  }
  if (draft && form.dataset.draftOffer === "yes" && !same(draft.data, read(form))) {
    offer(form, key, draft);
  }
  const keep = () =>
    storage.setItem(key, JSON.stringify({ user, revision, savedAt: Date.now(), data: read(form) }));
  form.addEventListener("input", keep);
  form.addEventListener("change", keep);
  form.dataset.draftReady = "yes"; // for tests: the copy is being kept from now on
}

start();
