import './globals.css';
import AppShell from '../components/AppShell';

export const metadata = {
  title: 'DocIngest',
  description: 'Document ingestion and grounded retrieval',
};

export const viewport = {
  width: 'device-width',
  initialScale: 1,
};

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>
        <AppShell>{children}</AppShell>
      </body>
    </html>
  );
}
