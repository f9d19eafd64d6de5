// Debian's Chromium as the browser tests and the dashboard bench launch it (headless, quiet), and the
// wait for a page's content to be drawn.
import { chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** A headless Chromium with no sandbox, GPU, background traffic or first-run work. */
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * Waits until each of `rows` matches an element and each of `images` matches images that have all
 * loaded with a width; returns the time since the document's navigation started, in ms. A function,
 * not a string: Playwright evaluates a string predicate with eval, which the page's CSP refuses.
 */
export async function drawn(page: Page, rows: readonly string[], images: readonly string[]): Promise<number> {
  const handle = await page.waitForFunction(
    ({ rows, images }) => {
      const doc = (
        globalThis as unknown as {
          document: { querySelectorAll(s: string): ArrayLike<{ complete?: boolean; naturalWidth?: number }> };
        }
      ).document;
      const ready =
        rows.every((s) => doc.querySelectorAll(s).length > 0) &&
        images.every((s) => {
          const found = Array.from(doc.querySelectorAll(s));
          return found.length > 0 && found.every((i) => i.complete && (i.naturalWidth ?? 0) > 0);
        });
      return ready && performance.now();
    },
    { rows, images },
    { timeout: 30_000 },
  );
  return (await handle.jsonValue()) as number;
}
