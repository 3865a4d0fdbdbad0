/* /docs: Swagger UI from the pinned local copy, started here rather than inline so the
   page keeps a strict Content-Security-Policy. */
"use strict";
(function () {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.openapiUrl, domNode: root });
})();
