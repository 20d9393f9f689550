import Link from 'next/link';

export default function NotFound() {
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
