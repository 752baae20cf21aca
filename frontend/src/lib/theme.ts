/**
 * Light/dark theme: follows the system unless the user picks one (kept in localStorage). The
 * same logic runs as an inline script before the first paint (see `layout.tsx`) so a dark-mode
 * user never sees a white flash.
 */

export type ThemeChoice = "system" | "light" | "dark";
export const THEME_KEY = "theme";
/** Fired on `window` when the choice changes in this tab. */
export const THEME_EVENT = "themechange";

/** Subscribes to choice changes (this tab, other tabs, and the system preference). */
export function subscribeChoice(onChange: () => void): () => void {
  const mq = matchMedia("(prefers-color-scheme: dark)");
  const onSystem = () => {
    // While following the system, follow its changes too.
    if (readChoice() === "system") applyChoice("system");
  };
  const onStorage = (e: StorageEvent) => {
    if (e.key === THEME_KEY) {
      applyChoice(readChoice());
      onChange();
    }
  };
  mq.addEventListener("change", onSystem);
  window.addEventListener(THEME_EVENT, onChange);
  window.addEventListener("storage", onStorage);
  return () => {
    mq.removeEventListener("change", onSystem);
    window.removeEventListener(THEME_EVENT, onChange);
    window.removeEventListener("storage", onStorage);
  };
}

export function readChoice(): ThemeChoice {
  try {
    const v = localStorage.getItem(THEME_KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

export function applyChoice(choice: ThemeChoice): void {
  try {
    if (choice === "system") localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, choice);
  } catch {
    // Storage may be blocked; the theme still applies for this page.
  }
  window.dispatchEvent(new Event(THEME_EVENT));
  const dark = choice === "dark" || (choice === "system" && matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.classList.toggle("dark", dark);
  document.documentElement.style.colorScheme = dark ? "dark" : "light";
}

/** Runs before hydration: the stored choice, else the system preference. */
export const THEME_BOOT_SCRIPT = `(function(){try{var v=localStorage.getItem("${THEME_KEY}");var d=v==="dark"||(v!=="light"&&matchMedia("(prefers-color-scheme: dark)").matches);var e=document.documentElement;if(d)e.classList.add("dark");e.style.colorScheme=d?"dark":"light";}catch(_){}})();`;
