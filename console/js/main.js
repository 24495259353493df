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
        clear(view, h('div', { class: 'form-error' }, `${error.code || 'Error'}: ${error.message}`));
      }
      if (view.parentNode === main) {
        cleanup = done;
      } else if (done) {
        done();
      }
      return;
    }
  }
  clear(view, h('h1', {}, 'Not found'), h('p', {}, `Nothing at ${path}.`));
}

window.addEventListener('hashchange', show);
show();
