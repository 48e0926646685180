// Live preview of a form's JSON Schema, rendered by the server with the inbox's field template.
(function () {
  const textarea = document.getElementById('schema');
  const preview = document.getElementById('preview');
  const token = document.querySelector('input[name=csrf_token]').value;
  let timer;
  textarea.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const body = new URLSearchParams({ schema: textarea.value, csrf_token: token });
      const response = await fetch(textarea.dataset.preview, { method: 'POST', body, credentials: 'same-origin' });
      preview.innerHTML = await response.text();
    }, 300);
  });
})();
