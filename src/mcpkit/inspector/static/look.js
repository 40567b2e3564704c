// Light or dark: the system's choice (prefers-color-scheme) until the toggle picks one, which
// this browser remembers.
const KEY = "mcpkit-inspector-theme";
const root = document.documentElement;
const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

function stored() {
  try { return localStorage.getItem(KEY); } catch { return null; }
}

function apply(theme) {
  if (theme === "light" || theme === "dark") root.dataset.theme = theme;
  else delete root.dataset.theme;
}

export function currentTheme() {
  return root.dataset.theme || (systemDark.matches ? "dark" : "light");
}

apply(stored());

function label(button) {
  const next = currentTheme() === "dark" ? "light" : "dark";
  button.title = `Switch to the ${next} theme`;
  button.setAttribute("aria-label", button.title);
  button.textContent = next === "dark" ? "☾" : "☀";
}

const button = document.getElementById("theme");
if (button) {
  label(button);
  systemDark.addEventListener("change", () => label(button));
  button.onclick = () => {
    const next = currentTheme() === "dark" ? "light" : "dark";
    apply(next);
    try { localStorage.setItem(KEY, next); } catch { /* private mode: for this page only */ }
    label(button);
  };
}
