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

async function show() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const credentials = loadCredentials();
  signedInAs(credentials);
  const path = location.hash.replace(/^#/, '') || '/sessions';
  if (!credentials || path === '/signin') {
    renderSignIn(main, { next: path === '/signin' ? '/sessions' : path });
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
      clear(main);
      try {
        cleanup = (await render(main, { client, params: match.slice(1) })) || null;
      } catch (error) {
        clear(main, h('div', { class: 'form-error' }, `${error.code || 'Error'}: ${error.message}`));
      }
      return;
    }
  }
  clear(main, h('h1', {}, 'Not found'), h('p', {}, `Nothing at ${path}.`));
}

window.addEventListener('hashchange', show);
show();
