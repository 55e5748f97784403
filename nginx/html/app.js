// portcullis SPA — health page.
// Loaded as a file (the CSP forbids inline script). Text from the server is only ever put into
// the page with textContent, never as HTML.
'use strict';

(function () {
  const HEALTH_URL = '/api/v1/health';

  const message = document.getElementById('health-message');
  const details = document.getElementById('health-details');
  const statusField = document.getElementById('health-status');
  const databaseField = document.getElementById('health-database');
  const refresh = document.getElementById('health-refresh');

  function show(text, state) {
    message.textContent = text;
    message.dataset.state = state;
  }

  function showDetails(body) {
    statusField.textContent = String(body.status);
    databaseField.textContent = body.database === undefined ? 'unknown' : String(body.database);
    details.hidden = false;
  }

  async function checkHealth() {
    refresh.disabled = true;
    details.hidden = true;
    show('Checking the service…', 'pending');
    try {
      const response = await fetch(HEALTH_URL, {
        method: 'GET',
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
      });
      let body = null;
      try {
        body = await response.json();
      } catch (parseError) {
        body = null;
      }
      if (body && typeof body === 'object' && body.error && typeof body.error === 'object') {
        // The API's error envelope: {"error":{"code","message","request_id"}}.
        const reference = body.error.request_id ? ' (request ' + body.error.request_id + ')' : '';
        show(String(body.error.message || 'The service reported an error.') + reference, 'error');
      } else if (body && typeof body === 'object' && body.status !== undefined) {
        showDetails(body);
        const healthy = response.ok && body.status === 'ok';
        show(healthy ? 'The service is up.' : 'The service is degraded.', healthy ? 'ok' : 'error');
      } else {
        show('Unexpected answer from the service (HTTP ' + response.status + ').', 'error');
      }
    } catch (networkError) {
      show('The service cannot be reached.', 'error');
    } finally {
      refresh.disabled = false;
    }
  }

  refresh.addEventListener('click', checkHealth);
  checkHealth();
})();
