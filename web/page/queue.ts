/**
 * The waiting room: join the line (solving a proof of work when asked), then
 * poll /queue/me for the buyer's place until they are admitted to choose seats.
 */
import { ApiError, type QueueView } from './api';
import { formatDuration, formatNumber, formatTime, h } from './format';
import { solveProofOfWork } from './proof-of-work';
import { announce, errorMessage, focusHeading } from './ui';
import type { Visit } from './visit';

export async function queueStage(v: Visit): Promise<void> {
  v.clearTimers();
  const position = h('strong', { 'data-testid': 'queue-position' }, '…');
  const ahead = h('strong', { 'data-testid': 'queue-ahead' }, '…');
  const wait = h('strong', { 'data-testid': 'queue-wait' }, '…');
  const bar = h('progress', { max: 100, value: 0, 'aria-label': 'Progress through the line' });
  const status = h('p', { class: 'queue-status', role: 'status' }, 'Joining the line…');
  const panel = h(
    'section',
    { class: 'panel narrow queue', 'aria-labelledby': 'queue-title' },
    h('h2', { id: 'queue-title' }, 'You are in line'),
    h('p', {}, 'Keep this page open. When it is your turn you go straight to seat selection — no need to refresh.'),
    h(
      'dl',
      { class: 'queue-figures' },
      h('div', {}, h('dt', {}, 'Your place'), h('dd', {}, position)),
      h('div', {}, h('dt', {}, 'People ahead of you'), h('dd', {}, ahead)),
      h('div', {}, h('dt', {}, 'Estimated wait'), h('dd', {}, wait)),
    ),
    bar,
    status,
  );
  v.body.replaceChildren(panel);
  focusHeading(v.body);
  try {
    if (!v.session.queued) {
      try {
        await v.api.joinQueue(v.eventId);
      } catch (err) {
        if (!(err instanceof ApiError && err.details.reason === 'proof_of_work')) throw err;
        // Bots pay for places in line; a person's browser solves this in a moment.
        status.textContent = 'Checking your browser before you join the line…';
        const challenge = String(err.details.challenge);
        const nonce = await solveProofOfWork(challenge, Number(err.details.difficulty));
        await v.api.joinQueue(v.eventId, { pow: { challenge, nonce } });
      }
      v.session.queued = true;
      v.save();
    }
  } catch (err) {
    if (err instanceof ApiError && err.code === 'SOLD_OUT') return v.toSoldOut();
    status.textContent = errorMessage(err);
    const seconds = err instanceof ApiError && typeof err.details.retryAfterSeconds === 'number' ? err.details.retryAfterSeconds : 3;
    v.after(seconds * 1000, () => v.toQueue());
    return;
  }
  let lastAnnounced = Infinity;
  /** Set once the buyer has left the queue stage, so no later poll redraws another stage. */
  let left = false;
  const poll = async () => {
    if (left) return;
    let q: QueueView;
    try {
      q = await v.api.queueMe(v.eventId);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        v.session.queued = false;
        v.save();
        left = true;
        return v.toQueue();
      }
      status.textContent = `${errorMessage(err)} Still trying…`;
      return;
    }
    position.textContent = `#${formatNumber(q.position)}`;
    ahead.textContent = formatNumber(q.ahead);
    wait.textContent =
      q.ahead <= 0 ? 'any moment' : q.estimatedWaitSeconds < 0 ? 'calculating…' : `about ${formatDuration(q.estimatedWaitSeconds)}`;
    bar.value = q.position > 0 ? Math.min(100, Math.round((100 * Math.min(q.servingPosition, q.position)) / q.position)) : 0;
    if (q.ahead < lastAnnounced / 2 || (q.ahead <= 10 && q.ahead !== lastAnnounced)) {
      announce(`${formatNumber(q.ahead)} people ahead of you.`);
      lastAnnounced = q.ahead;
    }
    if (q.status === 'prequeue') {
      status.textContent = `The sale opens ${formatTime(v.event.onSaleAt)}. Your place is saved.`;
    } else if (q.status === 'waiting') {
      status.textContent = 'Moving forward… you will be let in automatically.';
    } else if (q.status === 'admitted' && q.admissionToken) {
      left = true;
      v.clearTimers();
      v.session.admissionToken = q.admissionToken;
      v.save();
      announce('It is your turn. Choose your seats.', true);
      v.toSeats();
    } else if (q.status === 'expired') {
      left = true;
      v.clearTimers();
      v.session.queued = false;
      v.save();
      status.textContent = 'Your turn passed while you were away.';
      panel.append(h('button', { class: 'primary', onclick: () => v.toQueue() }, 'Join the line again'));
    } else if (q.status === 'sold_out') {
      left = true;
      v.clearTimers();
      v.toSoldOut();
    }
  };
  await poll();
  if (!left) v.every(2000, () => void poll());
}
