/** The page without an event: find one by its id or link. */
import { h } from './format';
import { show } from './ui';

export function landing(): void {
  const input = h('input', { id: 'event-id', name: 'event', required: true, autocomplete: 'off', placeholder: 'evt_…' });
  show(
    h(
      'section',
      { class: 'panel narrow' },
      h('h1', {}, 'Find your event'),
      h('p', {}, 'Open the link from the event announcement, or enter its event id.'),
      h(
        'form',
        {
          class: 'stack',
          onsubmit: (e: Event) => {
            e.preventDefault();
            const id = input.value.trim().replace(/^.*\/events\//, '');
            location.href = `/events/${encodeURIComponent(id)}`;
          },
        },
        h('label', { for: 'event-id' }, 'Event id or link'),
        input,
        h('button', { type: 'submit', class: 'primary' }, 'Go to the event'),
      ),
      h('p', { class: 'muted' }, 'Developers: see the ', h('a', { href: '/docs' }, 'API reference'), '.'),
    ),
  );
}
