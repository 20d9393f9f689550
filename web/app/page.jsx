'use client';
import { useEffect } from 'react';
import { usePathname, useRouter } from 'next/navigation';
import { Loading } from '../components/AsyncState';
import NotFound from './not-found';

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
  return <NotFound />;
}
