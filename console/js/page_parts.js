// Pieces every resource page uses: the title bar, a details list, the delete button, notices.
import { h } from './dom.js';

export function titleBar(title, ...actions) {
  return h('div', { class: 'toolbar' }, h('h1', {}, title), h('span', { class: 'spacer' }),
           actions);
}

// A resource page's heading: "web-to-collector (tms-0123…)", or the id alone.
export function resourceTitle(name, id) {
  return h('span', {}, name && name !== '-' ? `${name} ` : '',
    h('span', { class: 'id' }, name && name !== '-' ? `(${id})` : id));
}

export function details(pairs) {
  return h('dl', { class: 'details' }, pairs.filter(Boolean).map(([label, value]) => [
    h('dt', {}, label), h('dd', { 'data-detail': label }, value ?? '-')]));
}

// Asks, calls `remove`, then goes to `after`; an error (in use…) is shown in `errorSlot`.
export function deleteButton(what, remove, after, errorSlot) {
  return h('button', { type: 'button', class: 'danger delete', onclick: async (e) => {
    if (!confirm(`Delete ${what}?`)) return;
    e.target.disabled = true;
    try {
      await remove();
      location.hash = after;
    } catch (error) {
      errorSlot.textContent = `${error.code}: ${error.message}`;
      errorSlot.hidden = false;
      e.target.disabled = false;
    }
  } }, 'Delete');
}

export function errorSlot() {
  return h('div', { class: 'form-error', role: 'alert', hidden: true });
}

export function notice(text) {
  return h('div', { class: 'notice', role: 'status' }, text);
}

export function panel(...children) {
  return h('div', { class: 'panel' }, children);
}

// A notice for the next page (after a create): shown once.
export function flash(text) {
  sessionStorage.setItem('tmirror.flash', text);
}

export function takeFlash() {
  const text = sessionStorage.getItem('tmirror.flash');
  sessionStorage.removeItem('tmirror.flash');
  return text ? notice(text) : null;
}
