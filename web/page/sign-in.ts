/** Who is buying: a development buyer by name and e-mail, or a pointer to the real sign-in in production. */
import { config } from './config';
import { h } from './format';
import { errorMessage, focusHeading } from './ui';
import type { Visit } from './visit';

export function signInStage(v: Visit): void {
  if (config.mode !== 'development') {
    v.body.replaceChildren(
      h(
        'section',
        { class: 'panel narrow' },
        h('h2', {}, 'Sign in to buy tickets'),
        h('p', {}, 'Sign in with your ticketing account, then come back to this page.'),
      ),
    );
    return;
  }
  const name = h('input', { id: 'buyer-name', name: 'name', autocomplete: 'name', required: true, maxlength: 100 });
  const email = h('input', { id: 'buyer-email', name: 'email', type: 'email', autocomplete: 'email', maxlength: 200 });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Continue');
  v.body.replaceChildren(
    h(
      'section',
      { class: 'panel narrow' },
      h('h2', {}, 'Who is buying?'),
      h('p', { class: 'muted' }, 'Tickets and the confirmation e-mail go to this name and address.'),
      h(
        'form',
        {
          class: 'stack',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            submit.disabled = true;
            error.hidden = true;
            try {
              const buyer = await v.api.createDevBuyer(name.value.trim(), email.value.trim() || undefined);
              v.session.token = buyer.token;
              v.session.buyerId = buyer.buyerId;
              v.session.name = name.value.trim();
              v.session.email = email.value.trim() || undefined;
              v.api.token = buyer.token;
              v.save();
              v.renderHeader();
              v.route();
            } catch (err) {
              error.textContent = errorMessage(err);
              error.hidden = false;
              submit.disabled = false;
            }
          },
        },
        h('label', { for: 'buyer-name' }, 'Name'),
        name,
        h('label', { for: 'buyer-email' }, 'E-mail ', h('span', { class: 'muted' }, '(optional)')),
        email,
        error,
        submit,
      ),
    ),
  );
  focusHeading(v.body);
}
