// Sign in: an access key from `tmirror server --create-access-key`. It is checked by signing a
// real API call; only then is it kept (sessionStorage) and the console opened.
import { saveCredentials } from '../credentials.js';
import { clear, h } from '../dom.js';
import { Ec2Client } from '../ec2_client.js';
import { ApiForm } from '../form.js';

export function renderSignIn(main, { next }) {
  const form = new ApiForm({
    submitLabel: 'Sign in',
    fields: [
      { param: 'AccessKeyId', label: 'Access key ID', required: true,
        help: 'From tmirror server --create-access-key (or tmirror up).' },
      { param: 'SecretAccessKey', label: 'Secret access key', required: true },
      { param: 'Region', label: 'Region', value: 'us-east-1',
        help: 'Any region name: it is part of what is signed.' },
    ],
    onSubmit: async (values) => {
      const credentials = { accessKeyId: values.AccessKeyId, secretAccessKey: values.SecretAccessKey,
                            region: values.Region || 'us-east-1' };
      const probe = new Ec2Client(credentials);
      try {
        await probe.call('DescribeTrafficMirrorSessions', { MaxResults: 5 });
      } catch (error) {
        // Which key field is wrong is the server's secret; show it at the secret.
        if (error.code === 'AuthFailure') error.field = 'SecretAccessKey';
        throw error;
      }
      saveCredentials(credentials);
      if (location.hash === `#${next}`) window.dispatchEvent(new HashChangeEvent('hashchange'));
      else location.hash = `#${next}`;
    },
  });
  const secret = form.element.querySelector('[data-param="SecretAccessKey"]');
  secret.type = 'password';
  clear(main, h('div', { class: 'signin panel' },
    h('h1', {}, 'Sign in to tmirror'),
    h('p', {}, 'Requests are signed in this browser with AWS Signature Version 4; the secret ' +
      'stays in this tab (sessionStorage) and is never sent.'),
    form.element));
}
