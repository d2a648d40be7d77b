/** What the server tells the page about this deployment, embedded in the HTML by api/routes/web.ts. */
import type { PageConfig } from '../../api/routes/web';

export const config = JSON.parse(document.getElementById('onsale-config')!.textContent ?? '{}') as PageConfig;
