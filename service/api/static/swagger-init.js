// Start Swagger UI on the API's OpenAPI document. A file of its own, not an inline script: the
// Content-Security-Policy (service/security/headers.py) runs scripts from our own files only.
window.ui = SwaggerUIBundle({
  url: document.currentScript.dataset.specUrl, dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout",
  validatorUrl: null
});
