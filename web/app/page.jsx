'use client';
import { useEffect } from 'react';
import { usePathname, useRouter } from 'next/navigation';
import Link from 'next/link';
import { Loading } from '../components/AsyncState';

// "/" goes to the upload screen. core-api also serves this page for unknown
// routes, so anything else is a "page not found".
export default function Home() {
  const router = useRouter();
  const pathname = usePathname();
  const isRoot = !pathname || pathname === '/';
  useEffect(() => {
    if (isRoot) router.replace('/upload/');
  }, [isRoot, router]);
  if (isRoot) return <Loading />;
  return <NotFoundBody />;
}

function NotFoundBody() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <Link href="/upload/" prefetch={false}>
          Go to the upload page
        </Link>
      </p>
    </section>
  );
}
