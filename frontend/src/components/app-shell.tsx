"use client";

/**
 * The frame around every page: providers, the sidebar (a drawer on phones), the live-connection
 * indicator, the theme toggle and logout. The login page renders bare; every other page waits
 * for the session check and renders only for a logged-in user.
 */

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { type ReactNode, useState } from "react";
import { AuthProvider, LOGIN_PATH, useAuth } from "@/lib/auth";
import { activeHref, NAV } from "@/lib/nav";
import { SocketProvider } from "@/lib/socket";
import { ConnectionIndicator } from "./connection-indicator";
import { Icon } from "./icons";
import { ThemeToggle } from "./theme-toggle";
import { buttonClass, ErrorState, Loading } from "./ui";

export function AppShell({ children }: { children: ReactNode }) {
  return (
    <AuthProvider>
      <Gate>{children}</Gate>
    </AuthProvider>
  );
}

function Gate({ children }: { children: ReactNode }) {
  const { auth, recheck } = useAuth();
  const pathname = usePathname();
  if (pathname.startsWith("/login")) return <>{children}</>;
  if (auth.status === "error") {
    return (
      <main className="mx-auto max-w-md p-8">
        <ErrorState error={auth.error} onRetry={recheck} />
      </main>
    );
  }
  if (auth.status !== "authenticated") return <Loading label="Checking your session" />;
  return (
    <SocketProvider>
      <Frame user={auth.user.username}>{children}</Frame>
    </SocketProvider>
  );
}

function Frame({ user, children }: { user: string; children: ReactNode }) {
  const pathname = usePathname();
  // The phone drawer is open for the page it was opened on: navigating closes it.
  const [openOn, setOpenOn] = useState<string | null>(null);
  const open = openOn === pathname;
  return (
    <div className="min-h-dvh lg:flex">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 dark:focus:bg-zinc-900">
        Skip to content
      </a>
      <header className="sticky top-0 z-30 flex items-center justify-between border-b border-zinc-200 bg-white/90 px-4 py-2 backdrop-blur lg:hidden dark:border-zinc-800 dark:bg-zinc-950/90">
        <button type="button" className={buttonClass.ghost} aria-expanded={open} aria-controls="sidebar" onClick={() => setOpenOn(open ? null : pathname)}>
          <Icon name={open ? "close" : "menu"} />
          <span className="sr-only">{open ? "Close menu" : "Open menu"}</span>
        </button>
        <span className="text-sm font-semibold">Voice dashboard</span>
        <ConnectionIndicator />
      </header>
      <Sidebar user={user} open={open} />
      <main id="main" className="min-w-0 flex-1 px-4 py-6 sm:px-6 lg:px-10 lg:py-8">
        <div className="mx-auto max-w-7xl">{children}</div>
      </main>
    </div>
  );
}

function Sidebar({ user, open }: { user: string; open: boolean }) {
  const pathname = usePathname();
  const active = activeHref(pathname);
  const { logout } = useAuth();
  const router = useRouter();
  return (
    <nav
      id="sidebar"
      aria-label="Main"
      className={`${open ? "block" : "hidden"} fixed inset-x-0 top-[53px] bottom-0 z-20 overflow-y-auto border-r border-zinc-200 bg-white p-4 lg:sticky lg:top-0 lg:block lg:h-dvh lg:w-60 lg:shrink-0 dark:border-zinc-800 dark:bg-zinc-950`}
    >
      <div className="mb-6 hidden px-2 lg:block">
        <p className="text-base font-semibold text-zinc-900 dark:text-zinc-50">Voice dashboard</p>
        <div className="mt-2">
          <ConnectionIndicator />
        </div>
      </div>
      <ul className="space-y-1">
        {NAV.map((item) => {
          const current = item.href === active;
          return (
            <li key={item.href}>
              <Link
                href={item.href}
                aria-current={current ? "page" : undefined}
                className={`flex items-center gap-3 rounded-lg px-3 py-2 text-sm font-medium ${
                  current
                    ? "bg-indigo-50 text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300"
                    : "text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-900"
                }`}
              >
                <Icon name={item.icon} />
                {item.label}
              </Link>
            </li>
          );
        })}
      </ul>
      <div className="mt-8 space-y-2 border-t border-zinc-200 pt-4 dark:border-zinc-800">
        <ThemeToggle />
        <div className="flex items-center justify-between gap-2 px-2 text-xs text-zinc-600 dark:text-zinc-400">
          <span className="truncate" title={`Logged in as ${user}`}>
            {user}
          </span>
          <button
            type="button"
            className="inline-flex items-center gap-1 rounded px-2 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-800"
            onClick={async () => {
              await logout().catch(() => undefined);
              router.replace(LOGIN_PATH);
            }}
          >
            <Icon name="logout" className="size-4" /> Log out
          </button>
        </div>
      </div>
    </nav>
  );
}
