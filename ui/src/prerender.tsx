import { renderToStaticMarkup } from "react-dom/server";

import { Frame } from "./Frame";
import { DEFAULT_PAGE } from "./pageMeta";

/** What `vite build` puts inside index.html's #root (vite.config.ts): the first page's frame,
 * which the window paints before any script has run. React replaces it on its first render with
 * the same frame and the page in it. */
export function frameMarkup(): string {
  return renderToStaticMarkup(<Frame page={DEFAULT_PAGE} />);
}
