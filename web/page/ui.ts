/** Page-wide pieces every stage uses: the main region, announcements for screen readers, focus, and error wording. */
import { ApiError } from './api';

const main = document.getElementById('main')!;

/** Polite updates for screen readers; alerts interrupt. */
export function announce(text: string, urgent = false): void {
  const region = document.getElementById(urgent ? 'alerter' : 'announcer')!;
  region.textContent = '';
  setTimeout(() => (region.textContent = text), 30);
}

export function show(...nodes: Node[]): void {
  main.replaceChildren(...nodes);
}

export function focusHeading(root: ParentNode = main): void {
  const heading = root.querySelector<HTMLElement>('h1, h2');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: false });
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return 'Something went wrong on our side. Please try again.';
}
