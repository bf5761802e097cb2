// Order page: the optional "Add my location" button of the status form.
import { gettext } from './i18n.js';

for (const button of document.querySelectorAll('[data-geo-button]')) {
  if (!('geolocation' in navigator)) continue;
  const form = button.closest('form');
  const status = form.querySelector('[data-geo-status]');
  button.hidden = false;
  button.addEventListener('click', () => {
    status.textContent = gettext('Finding your location…');
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        form.querySelector('[data-geo="lat"]').value = pos.coords.latitude.toFixed(6);
        form.querySelector('[data-geo="lon"]').value = pos.coords.longitude.toFixed(6);
        status.textContent = gettext('Location added.');
      },
      () => { status.textContent = gettext('Location not available.'); },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 },
    );
  });
}
