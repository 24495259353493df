// The console's entry: sign-in gate, hash routes to pages, and the nav highlight.
import { clearCredentials, loadCredentials } from './credentials.js';
import { clear, h } from './dom.js';
import { Ec2Client } from './ec2_client.js';
import { routes } from './routes.js';
import { renderSignIn } from './pages/signin.js';

const main = document.getElementById('main');
let cleanup = null;

function signedInAs(credentials) {
  clear(document.getElementById('who'), credentials
    ? [`Signed in with ${credentials.accessKeyId}`,
       h('button', { type: 'button', id: 'sign-out',
                     onclick: () => { clearCredentials(); location.hash = '#/signin'; } },
         'Sign out')]
    : []);
}

// Each navigation renders into a view of its own. A page that is still waiting for the API when
// the user moves on finishes into its detached view, never over the page that replaced it, and
// its cleanup (stopping its counter polls) runs at once.
async function show() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const view = h('div', { class: 'view' });
  clear(main, view);
  const credentials = loadCredentials();
  signedInAs(credentials);
  const path = location.hash.replace(/^#/, '') || '/sessions';
  if (!credentials || path === '/signin') {
    renderSignIn(view, { next: path === '/signin' ? '/sessions' : path });
    focusHeading(view);
    return;
  }
  for (const a of document.querySelectorAll('#nav a')) {
    const section = a.getAttribute('href').slice(1);
    a.classList.toggle('active', path === section || path.startsWith(section + '/'));
  }
  const client = new Ec2Client(credentials);
  for (const [pattern, render] of routes) {
    const match = pattern.exec(path);
    if (match) {
      let done = null;
      try {
        done = (await render(view, { client, params: match.slice(1) })) || null;
      } catch (error) {
        failed(view, path, error);
      }
      if (view.parentNode === main) {
        cleanup = done;
        focusHeading(view);
      } else if (done) {
        done();
      }
      return;
    }
  }
  clear(view, h('h1', {}, 'Not found'), h('p', {}, `Nothing at ${path}.`),
    h('p', {}, h('a', { href: '#/sessions' }, 'Mirror sessions')));
  focusHeading(view);
}

// The list a page's resource belongs to: '#/sessions' for '/sessions/tms-…/modify'.
const LISTS = { instances: 'Instances', interfaces: 'Network interfaces', targets: 'Mirror targets',
                filters: 'Mirror filters', sessions: 'Mirror sessions' };

// A page whose resource is gone (deleted meanwhile, or a stale link) says so and leads back to
// its list; any other failure shows the API's code and message.
function failed(view, path, error) {
  const section = path.split('/')[1];
  const id = path.split('/')[2];
  if (/NotFound|Malformed/.test(error.code || '') && LISTS[section]) {
    clear(view, h('h1', {}, 'Not found'),
      h('div', { class: 'form-error', role: 'alert' }, `${error.code}: ${error.message}`),
      h('p', {}, `${id} does not exist: it may have been deleted. `,
        h('a', { href: `#/${section}` }, `Back to ${LISTS[section]}`)));
    return;
  }
  clear(view, h('h1', {}, 'Something went wrong'),
    h('div', { class: 'form-error', role: 'alert' }, `${error.code || 'Error'}: ${error.message}`),
    LISTS[section] ? h('p', {}, h('a', { href: `#/${section}` }, `Back to ${LISTS[section]}`)) : null);
}

// After a navigation, focus goes to the new page's heading, so a screen reader announces it and
// the next Tab starts in the page (not in the menu the user clicked).
function focusHeading(view) {
  if (!navigated) return;
  const heading = view.querySelector('h1');
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus();
}

// The first page keeps the browser's own focus; every navigation after it moves it.
let navigated = false;
window.addEventListener('hashchange', () => {
  navigated = true;
  show();
});
show();
