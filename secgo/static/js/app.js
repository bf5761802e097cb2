// Page entry: offline reading and the service worker, then the outbox for write forms.
// Other modules (push, ...) add one import line each.
import { initOffline } from './offline.js';
import { initOutbox } from './outbox.js';
import { initPhotoPickers } from './photopick.js';
import { initTabs } from './tabs.js';
import { initDateFields } from './datefields.js';

initTabs();
initOffline();
initOutbox();
initPhotoPickers();
initDateFields();
// The voice recorder only where a form takes a voice note: other pages never load it.
if (document.querySelector('[data-voice]')) import('./voice.js').then((m) => m.initVoice());
// The signature pad only where a delivery form takes a signature.
if (document.querySelector('[data-signature-pad]')) import('./signature.js').then((m) => m.initSignature());
