/** The sidebar's entries: only pages that exist. */

import type { IconName } from "@/components/icons";

export interface NavItem {
  href: string;
  label: string;
  icon: IconName;
}

export const NAV: readonly NavItem[] = [
  { href: "/", label: "Overview", icon: "overview" },
  { href: "/live/", label: "Live calls", icon: "live" },
  { href: "/calls/new/", label: "Make a call", icon: "phone" },
  { href: "/calls/", label: "Call log", icon: "list" },
  { href: "/recordings/", label: "Recordings", icon: "recording" },
  { href: "/campaigns/", label: "Campaigns", icon: "campaigns" },
  { href: "/contacts/", label: "Contacts", icon: "contacts" },
  { href: "/dnc/", label: "Do not call", icon: "block" },
  { href: "/crm/", label: "CRM deliveries", icon: "send" },
];

/** Whether `pathname` is inside the nav entry `href` (the longest matching entry wins). */
export function activeHref(pathname: string, items: readonly NavItem[] = NAV): string | null {
  const path = pathname.endsWith("/") ? pathname : `${pathname}/`;
  let best: string | null = null;
  for (const { href } of items) {
    const match = href === "/" ? path === "/" : path.startsWith(href);
    if (match && (!best || href.length > best.length)) best = href;
  }
  return best;
}
