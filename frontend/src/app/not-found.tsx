import Link from "next/link";

export default function NotFound() {
  return (
    <div className="py-16 text-center">
      <h1 className="text-2xl font-semibold">Page not found</h1>
      <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">There is no page at this address.</p>
      <Link href="/" className="mt-6 inline-block text-sm font-medium text-indigo-600 underline dark:text-indigo-400">
        Go to the overview
      </Link>
    </div>
  );
}
