export { createHtmlView, HTML_VIEW_PATHS, type HtmlViewOptions } from './html-view.js';
export { CONTENT_SECURITY_POLICY } from './page.js';
